"""Threat, sexualised-harassment and smear rules in English and Spanish: what they must catch
and what they must leave alone (news, ordinary speech, the words used about something else)."""

from __future__ import annotations

import pytest

from amparo.triage.normalise import normalise
from amparo.triage.rules import claims, match

CAUGHT = [
    # threats, English
    ("threat", "I will kill you"),
    ("threat", "you will DIIIIE b!tch"),
    ("threat", "someone should shoot her"),
    ("threat", "your days are numbered"),
    ("threat", "your kids will pay for this"),
    ("threat", "she deserves to be raped"),
    # threats, Spanish
    ("threat", "te vamos a m4t4r"),
    ("threat", "hay que matarla"),
    ("threat", "vas a aparecer muerta en una zanja"),
    ("threat", "tus hijos van a pagar"),
    ("threat", "te voy a violar"),
    ("threat", "usted es objetivo militar"),
    # sexualised harassment
    ("sexual_harassment", "what a slut"),
    ("sexual_harassment", "i wanna fuck her"),
    ("sexual_harassment", "es una puta"),
    ("sexual_harassment", "pasa el pack mamita"),
    # smears of defenders
    ("smear", "she is a terrorist"),
    ("smear", "she's just a paid activist"),
    ("smear", "foreign agent paid by Soros"),
    ("smear", "this lawyer defends criminals, a fake ngo"),
    ("smear", "Eres una guerrillera disfrazada de defensora"),
    ("smear", "esa vieja terrorista"),
    ("smear", "defensora de delincuentes"),
    ("smear", "comprada por las multinacionales"),
    ("smear", "esa ong de fachada lava dinero"),
    ("smear", "es una vendepatria"),
]

LEFT_ALONE = [
    "Terrorist attack in Paris kills 3",
    "the criminal justice system needs reform",
    "The guerrilla demobilised in 2016",
    "I will kill it at the presentation tomorrow",
    "this killer app is great",
    "Hoy es un buen día para la paz",
    "El informe sobre terrorismo de Estado",
    "La fiscalía acusó al narcotraficante capturado ayer",
    "I love my kids",
    "Nos vamos a reunir con la comunidad",
]


@pytest.mark.parametrize(("category", "text"), CAUGHT)
def test_rules_catch(category: str, text: str) -> None:
    hits = match(normalise(text))
    assert category in {h.category for h in hits}, text
    assert all(h.words for h in hits)  # the rationale: the words that matched


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_rules_leave_alone(text: str) -> None:
    assert match(normalise(text)) == [], text


def test_claims_are_what_the_tests_cover() -> None:
    assert claims == {"threat": ("en", "es"), "sexual_harassment": ("en", "es"),
                      "smear": ("en", "es")}  # fmt: skip
