"""Triage of a batch: categories, urgency and reasons, per message and per target and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from amparo.triage.analyse import Result, Triage, by_period
from amparo.triage.model import MODELS

RULES_ONLY = Triage.load(None)


def one(text: str, engine: Triage = RULES_ONLY) -> Result:
    (result,) = engine.analyse(["m1"], [text])
    return result


def test_a_threat_with_a_time_and_an_address_is_most_urgent() -> None:
    plain = one("te vamos a matar")
    timed = one("te vamos a matar esta noche")
    doxxed = one("te vamos a matar esta noche, vives en la Carrera 7 # 45-12")
    assert plain.categories == ["threat"] and plain.language == "es"
    assert plain.urgency < timed.urgency < doxxed.urgency <= 100
    assert "urgent: a threat together with personal details" in doxxed.reasons
    assert doxxed.categories == ["threat", "doxxing"]
    assert any("Carrera" not in r and "doxxing: street address" in r for r in doxxed.reasons)


def test_smears_and_harassment_rank_below_threats_and_ordinary_text_is_none() -> None:
    smear = one("Eres una guerrillera disfrazada de defensora")
    harassment = one("what a slut")
    ordinary = one("Lovely day for a walk by the river")
    assert smear.categories == ["smear"] and harassment.categories == ["sexual_harassment"]
    assert 0 < smear.urgency < one("I will kill you").urgency
    assert ordinary.categories == ["none"] and ordinary.urgency == 0 and ordinary.reasons == []
    assert ordinary.model_id == "rules-only"


def test_weapon_emoji_with_a_mention_raise_urgency() -> None:
    assert one("@maria 🔪🔪").urgency > one("@maria").urgency


def test_periods_grow_with_volume() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    texts = ["what a slut"] * 30 + ["nice photo"] * 5 + ["what a slut"]
    when = [start] * 35 + [start + timedelta(days=1)]
    targets = ["ana"] * 36
    results = RULES_ONLY.analyse([str(i) for i in range(36)], texts)
    busy, quiet = by_period(results, when, targets)
    assert (busy.day, busy.messages, busy.by_category) == ("2026-03-01", 35,
                                                           {"sexual_harassment": 30})  # fmt: skip
    assert busy.urgency > quiet.urgency and busy.reasons[0] == "30 abusive messages of 35"
    assert len(busy.top) == 5


models_shipped = pytest.mark.skipif(not (MODELS / "a" / "model.onnx").exists(),
                                    reason="no trained models in this checkout")  # fmt: skip


@models_shipped
def test_the_shipped_models_speak_for_english_only() -> None:
    engine = Triage.load()
    english = one("Women are too stupid to vote, they belong in the kitchen", engine)
    assert english.scores["sexist_derogation"] >= 0.5 and "sexist_derogation" in english.categories
    assert english.model_id.startswith("edos-a-")
    spanish = one("Las mujeres son demasiado tontas para votar", engine)
    assert spanish.scores["sexist_derogation"] == 0.0
    assert any("not applied: trained on English" in r for r in spanish.reasons)


@models_shipped
def test_one_tokenisation_and_batches_side_by_side_change_no_score() -> None:
    from amparo.triage.model import Classifier

    engine = Triage.load()
    texts = ["Women are too stupid to vote", "nice photo", "she should be raped",
             "Women are too stupid to vote", "go back to the kitchen, woman"]  # fmt: skip
    results = engine.analyse([str(i) for i in range(len(texts))], texts)
    assert results[0].model_scores == results[3].model_scores  # a repeated text, scored once
    # The screen is sure of some posts; they keep its probability and skip task A's model.
    assert engine.screen is not None
    screened = engine.screen.probabilities(texts)
    asked = [t for t, p in zip(texts, screened, strict=True) if p >= engine.screen.threshold]
    assert "nice photo" not in asked and "she should be raped" in asked
    # Int8 activations are quantised per batch, so a score depends a little on its batch
    # mates: the same batches, made from each model's own tokenisation, one at a time.
    alone = dict(zip(asked, Classifier.load(MODELS / "a", threads=1).probabilities(asked)[:, 1],
                     strict=True))  # fmt: skip
    for text, result, screen in zip(texts, results, screened, strict=True):
        expected = alone.get(text, screen)
        assert result.model_scores["sexist"] == pytest.approx(expected, abs=1e-3), text
    likely = [t for t, r in zip(texts, results, strict=True) if "threats" in r.model_scores]
    assert likely and engine.linear is not None
    shared, own = engine.kinds(likely, engine.encode(likely)), engine.kinds(likely)
    assert all(np.array_equal(a, b) for a, b in zip(shared, own, strict=True))
