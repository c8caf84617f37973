"""EDOS: loaded as released, split by purpose, scored like the official scorer."""

from __future__ import annotations

from pathlib import Path

import pytest

from amparo.triage.edos import Edos, EdosError, macro_f1
from tests.triage.data import EDOS as DATA

needs_data = pytest.mark.skipif(not DATA.exists(), reason="EDOS is in ../shared/data")


@needs_data
def test_the_release_and_its_splits() -> None:
    edos = Edos.load(DATA)
    assert (len(edos.train()), len(edos.dev()), len(edos.test())) == (14_000, 2_000, 4_000)
    assert sum(p.sexist for p in edos.test()) == 970
    assert {p.label("B") for p in edos.train() if p.sexist} == {
        "1. threats, plans to harm and incitement", "2. derogation", "3. animosity",
        "4. prejudiced discussions",
    }  # fmt: skip
    assert len({p.label("C") for p in edos.train() if p.sexist}) == 11


@needs_data
def test_training_cannot_read_the_test_split() -> None:
    edos = Edos.load(DATA)
    training = edos.for_training()
    assert all(p.split != "test" for p in training.posts)
    training.train(), training.dev()
    with pytest.raises(EdosError, match="never read the test split"):
        training.test()
    assert edos.splits_read == {"train", "dev"}


def test_another_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "edos.csv"
    other.write_text("rewire_id,text\nx,y\n", encoding="utf-8")
    with pytest.raises(EdosError, match="SHA-256"):
        Edos.load(other)
    with pytest.raises(EdosError, match="columns must be"):
        Edos.load(other, check_hash=False)


def test_macro_f1_matches_the_definition() -> None:
    gold = ["a", "a", "b", "b", "c"]
    predicted = ["a", "b", "b", "b", "a"]
    # a: tp1 fp1 fn1 -> 0.5; b: tp2 fp1 fn0 -> 0.8; c: 0
    assert macro_f1(gold, predicted) == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert macro_f1(["x"], ["x"]) == 1.0
    with pytest.raises(ValueError):
        macro_f1(["x"], [])


@needs_data
def test_the_trainer_reads_train_and_dev_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from amparo.triage import training

    def stop_before_learning(name: str, package: str = "") -> None:
        raise training.TrainingUnavailable(name)

    monkeypatch.setattr(training, "_require", stop_before_learning)
    edos = Edos.load(DATA)
    for task in ("A", "B", "C"):
        with pytest.raises(training.TrainingUnavailable):
            training.train(edos, task, tmp_path)
    with pytest.raises(training.TrainingUnavailable):
        training.train_linear(edos, tmp_path)  # the linear model and the combination
    assert edos.splits_read == {"train", "dev"}
