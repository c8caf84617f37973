"""A linear model on TF-IDF word and character n-grams, run in numpy: the second opinion that
tasks B and C mix with the transformers (amparo.triage.hierarchy).

It is scikit-learn's ``TfidfVectorizer`` (lower case; words ``\\b\\w\\w+\\b`` in ones and pairs;
characters within word boundaries, 2 to 5, ``char_wb``; sublinear term frequency, smoothed
idf, each part scaled to unit length) followed by a multinomial logistic regression, one head
per task over the same features. scikit-learn fits it at training time only
(amparo.triage.training.train_linear, which checks that this code gives the same
probabilities); running it needs numpy alone. Files: ``vocabulary.json`` (the n-grams, in
column order, and the labels of each head) and ``weights.npz`` (idf, coefficients,
intercepts).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LinearModel", "char_wb_ngrams", "word_ngrams"]

WORD = re.compile(r"(?u)\b\w\w+\b")
SPACES = re.compile(r"\s\s+")
WORD_RANGE = (1, 2)
CHAR_RANGE = (2, 5)


def word_ngrams(text: str, lo: int = WORD_RANGE[0], hi: int = WORD_RANGE[1]) -> list[str]:
    tokens = WORD.findall(text.lower())
    out = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
        out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return out


def char_wb_ngrams(text: str, lo: int = CHAR_RANGE[0], hi: int = CHAR_RANGE[1]) -> list[str]:
    out: list[str] = []
    for word in SPACES.sub(" ", text.lower()).split():
        word = f" {word} "
        for n in range(lo, hi + 1):
            if len(word) <= n:  # a short word counts once, whole
                out.append(word)
                break
            out += [word[i : i + n] for i in range(len(word) - n + 1)]
    return out


def _tfidf(grams: list[str], vocabulary: dict[str, int], idf: np.ndarray) -> dict[int, float]:
    counts = Counter(vocabulary[g] for g in grams if g in vocabulary)
    values = {j: (1.0 + np.log(c)) * float(idf[j]) for j, c in counts.items()}
    norm = float(np.sqrt(sum(v * v for v in values.values())))
    return {j: v / norm for j, v in values.items()} if norm else {}


@dataclass
class LinearModel:
    words: dict[str, int]
    chars: dict[str, int]
    word_idf: np.ndarray
    char_idf: np.ndarray
    heads: dict[str, tuple[list[str], np.ndarray, np.ndarray]]  # task -> labels, coef, bias
    model_id: str = ""

    @classmethod
    def load(cls, directory: Path) -> LinearModel | None:
        """The model in ``directory``, or None where there is none."""
        if not (directory / "vocabulary.json").exists():
            return None
        spec = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        with np.load(directory / "weights.npz") as weights:
            arrays = {k: weights[k].astype(np.float32) for k in weights.files}
        heads = {task: (list(labels), arrays[f"{task}_coef"], arrays[f"{task}_intercept"])
                 for task, labels in spec["labels"].items()}  # fmt: skip
        return cls({g: i for i, g in enumerate(spec["words"])},
                   {g: i for i, g in enumerate(spec["chars"])},
                   arrays["word_idf"], arrays["char_idf"], heads,
                   str(spec.get("model_id", "")))  # fmt: skip

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        spec = {
            "model_id": self.model_id,
            "features": "tfidf word 1-2 + char_wb 2-5, sublinear tf, l2 per part",
            "words": sorted(self.words, key=self.words.__getitem__),
            "chars": sorted(self.chars, key=self.chars.__getitem__),
            "labels": {task: labels for task, (labels, _, _) in self.heads.items()},
        }
        (directory / "vocabulary.json").write_text(json.dumps(spec, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")  # fmt: skip
        arrays = {"word_idf": self.word_idf, "char_idf": self.char_idf}
        for task, (_, coef, bias) in self.heads.items():
            arrays[f"{task}_coef"], arrays[f"{task}_intercept"] = coef, bias
        floats: dict[str, Any] = {k: v.astype(np.float32) for k, v in arrays.items()}
        np.savez_compressed(directory / "weights.npz", allow_pickle=False, **floats)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's non-zero TF-IDF features: columns (words first, then characters) and
        values."""
        words = _tfidf(word_ngrams(text), self.words, self.word_idf)
        chars = _tfidf(char_wb_ngrams(text), self.chars, self.char_idf)
        columns = [*words, *(len(self.words) + j for j in chars)]
        return (np.array(columns, dtype=np.int64),
                np.array([*words.values(), *chars.values()], dtype=np.float32))  # fmt: skip

    def probabilities(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Per task, a row of label probabilities per text (labels: ``heads[task][0]``)."""
        logits = {task: np.tile(bias, (len(texts), 1)) for task, (_, _, bias) in self.heads.items()}
        for row, text in enumerate(texts):
            columns, values = self.features(text)
            for task, (_, coef, _) in self.heads.items():
                logits[task][row] += coef[:, columns] @ values
        out = {}
        for task, z in logits.items():
            shifted = np.exp(z - z.max(axis=1, keepdims=True))
            out[task] = shifted / shifted.sum(axis=1, keepdims=True)
        return out
