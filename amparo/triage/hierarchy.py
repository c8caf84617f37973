"""Tasks B and C answer one question at two levels: the eleven vectors of C sit inside the four
categories of B ("2.3 dehumanising attacks..." is a kind of "2. derogation"). Each model
helps the other:

- B's answer is mixed with C's probabilities summed per category (``b_c_weight``);
- each is first mixed with the linear model's (amparo.triage.linear: TF-IDF word and
  character n-grams), ``b_linear`` and ``c_linear`` its share;
- C's answer is weighed by the probability of its category (``c_group_power``) and divided
  by how common it was in training (``c_prior_power``): rare vectors, which a model trained
  on few examples under-predicts, get their chance.

The numbers were chosen on the dev split (``combine.json`` beside the models, written by
``amparo triage train --task combine``: amparo.triage.training.train_linear); the test split
played no part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Combination"]


@dataclass(frozen=True)
class Combination:
    b_c_weight: float = 0.0
    c_group_power: float = 0.0
    c_prior_power: float = 0.0
    c_train_share: dict[str, float] | None = None  # C label -> share of training posts
    b_linear: float = 0.0  # share of the linear model in B's probabilities
    c_linear: float = 0.0  # and in C's

    @classmethod
    def load(cls, path: Path) -> Combination:
        if not path.exists():
            return cls()
        spec = json.loads(path.read_text(encoding="utf-8"))
        return cls(float(spec["b_c_weight"]), float(spec["c_group_power"]),
                   float(spec["c_prior_power"]), dict(spec["c_train_share"]),
                   float(spec.get("b_linear", 0.0)), float(spec.get("c_linear", 0.0)))  # fmt: skip

    def apply(
        self, pb: np.ndarray, pc: np.ndarray, b_labels: list[str], c_labels: list[str],
        linear: dict[str, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """(B probabilities, C scores) after combining; rows are posts. ``linear``: the linear
        model's probabilities for "B" and "C" (same labels, same rows), if there is one."""
        if linear is not None:
            pb = (1 - self.b_linear) * pb + self.b_linear * linear["B"]
            pc = (1 - self.c_linear) * pc + self.c_linear * linear["C"]
        group = [next(i for i, b in enumerate(b_labels) if b[:2] == c[:2]) for c in c_labels]
        summed = np.zeros_like(pb)
        for j, i in enumerate(group):
            summed[:, i] += pc[:, j]
        b = (1 - self.b_c_weight) * pb + self.b_c_weight * summed
        c = pc * b[:, group] ** self.c_group_power
        if self.c_prior_power and self.c_train_share:
            share = np.array([self.c_train_share[label] for label in c_labels])
            c = c / share**self.c_prior_power
        return b, c / c.sum(axis=1, keepdims=True)
