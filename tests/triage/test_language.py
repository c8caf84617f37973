"""Language identification on short messages in the languages Amparo's users work in.

This hand-labelled set is the measurement behind docs/triage.md's per-language claims."""

from __future__ import annotations

import pytest

from amparo.triage.language import identify

SAMPLES = {
    "en": ["I will kill you", "she is a paid activist", "we know where you live",
           "your days are numbered", "what a liar, shut up", "this woman should be in jail",
           "nobody believes her lies", "go back to your country"],
    "es": ["te vamos a matar, sapa", "Eres una guerrillera disfrazada de defensora",
           "la vieja esa", "sabemos dónde vives", "hay que callarla ya", "tus hijos van a pagar",
           "Hoy es un buen día", "esa defensora de delincuentes"],
    "pt": ["você vai morrer sua vadia", "Bom dia a todos", "sabemos onde você mora",
           "essa mulher é uma terrorista", "vamos acabar com você", "ela não presta",
           "os filhos dela vão pagar", "cala a boca, traidora"],
    "fr": ["on va te tuer", "c'est une traîtresse", "on sait où tu habites",
           "elle est payée par l'étranger", "ferme ta gueule", "tu vas le regretter",
           "cette femme est une menteuse", "je sais où sont tes enfants"],
    "ar": ["سنقتلك يا خائنة", "نعرف أين تسكنين"],
}  # fmt: skip


@pytest.mark.parametrize(("lang", "text"), [(k, t) for k, ts in SAMPLES.items() for t in ts])
def test_short_messages(lang: str, text: str) -> None:
    assert identify(text)[0] == lang


@pytest.mark.parametrize("text", ["ok", "🔪🔪", "", "https://x.co", "jajaja xd"])
def test_too_little_to_tell(text: str) -> None:
    assert identify(text) == ("und", 0.0)
