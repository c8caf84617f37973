"""EDOS (SemEval-2023 Task 10): the labelled posts triage models are trained and measured on.

The protocol is the benchmark's: train on ``train``, choose settings on ``dev``, report on
``test``. :class:`Edos` enforces it: training code gets :meth:`Edos.for_training`, which
holds no test row at all, and only :meth:`Edos.test` (called by the evaluation) reads them;
each split read is recorded in :attr:`Edos.splits_read`, so a test can prove that training
never touched ``test``.

Tasks (macro-F1, the official metric): A, sexist or not, on all rows; B, four categories,
and C, eleven fine-grained vectors, on sexist rows only.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SHA256", "TASKS", "Edos", "EdosError", "Post", "macro_f1"]

SHA256 = "607bdbb766e1803a28f0eb8fc21c14b6b9dfa20039f726ba6767438584b47f9b"
COLUMNS = ("rewire_id", "text", "label_sexist", "label_category", "label_vector", "split")
SPLITS = ("train", "dev", "test")
TASKS = {
    "A": "sexist or not, all posts",
    "B": "category of sexism (4), sexist posts",
    "C": "fine-grained vector (11), sexist posts",
}


class EdosError(ValueError):
    pass


@dataclass(frozen=True)
class Post:
    id: str
    text: str
    sexist: bool
    category: str  # "none" or e.g. "2. derogation"
    vector: str  # "none" or e.g. "2.1 descriptive attacks"
    split: str

    def label(self, task: str) -> str:
        if task == "A":
            return "sexist" if self.sexist else "not sexist"
        return self.category if task == "B" else self.vector


@dataclass
class Edos:
    """The data set, read once; splits handed out by purpose (see the module's text)."""

    posts: tuple[Post, ...]
    splits_read: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path, *, check_hash: bool = True) -> Edos:
        data = path.read_bytes()
        if check_hash and hashlib.sha256(data).hexdigest() != SHA256:
            raise EdosError(f"{path}: not the EDOS release this code knows (SHA-256 differs)")
        reader = csv.DictReader(data.decode("utf-8").splitlines())
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise EdosError(f"{path}: columns must be {', '.join(COLUMNS)}")
        posts = []
        for row in reader:
            if row["split"] not in SPLITS or row["label_sexist"] not in ("sexist", "not sexist"):
                raise EdosError(f"{path}: row {row['rewire_id']} has an unknown split or label")
            sexist = row["label_sexist"] == "sexist"
            posts.append(Post(row["rewire_id"], row["text"], sexist, row["label_category"],
                              row["label_vector"], row["split"]))  # fmt: skip
        return cls(tuple(posts))

    def _split(self, name: str) -> list[Post]:
        self.splits_read.add(name)
        return [p for p in self.posts if p.split == name]

    def for_training(self) -> Edos:
        """A copy without the test split, for training and model selection; what it reads is
        recorded here too."""
        return _TrainingView(tuple(p for p in self.posts if p.split != "test"), self.splits_read)

    def train(self) -> list[Post]:
        return self._split("train")

    def dev(self) -> list[Post]:
        return self._split("dev")

    def test(self) -> list[Post]:
        return self._split("test")


@dataclass
class _TrainingView(Edos):
    def test(self) -> list[Post]:
        raise EdosError("training and model selection never read the test split")


def macro_f1(
    gold: Sequence[str], predicted: Sequence[str], labels: Iterable[str] | None = None
) -> float:
    """Unweighted mean of per-label F1 over ``labels`` (default: every label in ``gold``), as
    the EDOS scorer (scikit-learn's ``f1_score(average="macro")``) computes it."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    names = sorted(set(gold)) if labels is None else list(labels)
    if not names:
        return 0.0
    scores = []
    for name in names:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == name and p == name)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != name and p == name)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == name and p != name)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)
