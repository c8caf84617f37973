"""amparo.triage.screen: the linear first reading that spares task A's transformer the posts
it is sure of; and its training (amparo.triage.training.train_screen)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from amparo.triage.analyse import LIKELY, Triage
from amparo.triage.edos import Edos
from amparo.triage.linear import LinearModel
from amparo.triage.model import MODELS
from amparo.triage.screen import Screen
from tests.triage.data import EDOS

LABELS = ["not sexist", "sexist"]


def _toy(directory: Path, threshold: float = 0.3, labels: list[str] = LABELS) -> None:
    heads = {"A": (labels, np.array([[0.0, 0.0], [4.0, 2.0]], np.float32),
                   np.array([0.0, -2.0], np.float32))}  # fmt: skip
    LinearModel({"kitchen": 0}, {" k": 0}, np.ones(1, np.float32), np.ones(1, np.float32), heads,
                "toy-screen").save(directory)  # fmt: skip
    (directory / "screen.json").write_text(json.dumps({"threshold": threshold}))


def test_no_screen_where_there_is_none(tmp_path: Path) -> None:
    assert Screen.load(tmp_path / "absent") is None
    _toy(tmp_path)
    (tmp_path / "screen.json").unlink()
    assert Screen.load(tmp_path) is None  # a linear model without a threshold is not a screen


def test_a_screen_needs_task_a_labels(tmp_path: Path) -> None:
    _toy(tmp_path, labels=["x", "y"])
    with pytest.raises(ValueError, match="one head, A"):
        Screen.load(tmp_path)


def test_posts_below_the_threshold_are_not_passed_on(tmp_path: Path) -> None:
    _toy(tmp_path, threshold=0.3)
    screen = Screen.load(tmp_path)
    assert screen is not None and screen.model_id == "toy-screen"
    p = screen.probabilities(["back to the kitchen", "a walk in the park", ""])
    assert p[0] > 0.5 and p[1] == pytest.approx(1 / (1 + np.e**2)) and p[2] == p[1]
    assert screen.passes(p).tolist() == [True, False, False]


@pytest.mark.skipif(not (MODELS / "screen" / "screen.json").exists(),
                    reason="no shipped screen in this checkout")  # fmt: skip
def test_the_shipped_screen_never_hides_a_likely_post() -> None:
    engine = Triage.load()
    assert engine.screen is not None and engine.sexist is not None
    # A screened post keeps the screen's probability, below the threshold, so it can never be
    # one that B and C should read.
    assert engine.screen.threshold < LIKELY
    card = engine.screen.card
    assert card["chosen_on"] == "EDOS dev split"
    dev = card["dev"]
    assert dev["macro_f1_with_screen"] >= dev["macro_f1_transformer_alone"] - card["tolerance"]
    texts = ["Women are too stupid to vote", "What a lovely sunset over the bay", "thanks!"]
    first = engine.first_reading(texts)
    assert first.screened is not None and len(first.encoded) == len(first.asked)
    assert 0 in first.asked  # the sexist post goes on to the transformer
    p = engine.sexist_probabilities(first, len(texts))
    for i in set(range(len(texts))) - set(first.asked):
        assert p[i] == first.screened[i] < engine.screen.threshold
    assert engine.model_id.split("+")[1] == engine.screen.model_id


@pytest.mark.skipif(not (MODELS / "a" / "model.onnx").exists() or not EDOS.exists(),
                    reason="needs the shipped A model and ../shared/data/edos")  # fmt: skip
def test_training_chooses_on_dev_and_never_reads_test(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from amparo.triage.training import SCREEN_THRESHOLDS, train_screen

    shutil.copytree(MODELS / "a", tmp_path / "a")
    edos = Edos.load(EDOS)

    def no_test() -> list[object]:
        raise AssertionError("the screen read the test split")

    edos.test = no_test  # type: ignore[method-assign]
    card = train_screen(edos, tmp_path, log=lambda _: None)
    assert card["threshold"] in SCREEN_THRESHOLDS and 0 < card["dev"]["spared"] < 1
    screen = Screen.load(tmp_path / "screen")
    assert screen is not None and screen.threshold == card["threshold"]
    assert screen.model_id == card["model_id"]
    shipped = json.loads((MODELS / "screen" / "screen.json").read_text())
    assert card["model_id"] == shipped["model_id"]  # the shipped screen is reproducible
