"""A first reading of every post by a linear model, so that the transformer for task A reads
only the posts that need it.

Most posts a defender receives are not abusive, and many are plainly so: a TF-IDF linear model
(amparo.triage.linear: word and character n-grams, about 0.3 ms a post) is sure of them at a
glance. A post it gives a probability of sexism below ``threshold`` is scored with that
probability and skips task A's transformer (about 2 ms a post); every other post goes on to
it. The threshold is chosen on the EDOS dev split (``amparo triage train --task screen``:
amparo.triage.training.train_screen) as the one that spares the transformer the most posts
while dev macro-F1 of task A stays within ``tolerance`` of the transformer's alone; the test
split plays no part. ``amparo triage evaluate`` scores the two together, as ``triage run``
uses them.

Files in ``models/screen``: the linear model's (``vocabulary.json``, ``weights.npz``, one head,
"A") and ``screen.json`` (threshold and what was measured on dev).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amparo.triage.linear import LinearModel

__all__ = ["Screen"]


@dataclass(frozen=True)
class Screen:
    model: LinearModel
    threshold: float  # below this probability of sexism, the transformer is not asked
    card: dict[str, Any]

    @classmethod
    def load(cls, directory: Path) -> Screen | None:
        """The screen in ``directory``, or None where there is none (every post goes to A)."""
        spec_path = directory / "screen.json"
        model = LinearModel.load(directory)
        if model is None or not spec_path.exists():
            return None
        card = json.loads(spec_path.read_text(encoding="utf-8"))
        labels = model.heads.get("A", ([], None, None))[0]
        if labels != ["not sexist", "sexist"]:
            raise ValueError(f"{directory}: a screen needs one head, A (not sexist, sexist)")
        return cls(model, float(card["threshold"]), card)

    @property
    def model_id(self) -> str:
        return self.model.model_id

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """The linear model's probability that each text is sexist."""
        return np.asarray(self.model.probabilities(texts)["A"][:, 1], dtype=np.float32)

    def passes(self, probabilities: np.ndarray) -> np.ndarray:
        """Which posts the transformer should read: those the screen is not sure of."""
        return np.asarray(probabilities >= self.threshold)
