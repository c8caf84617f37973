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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LinearModel", "char_wb_ngrams", "word_ngrams"]

WORD = re.compile(r"(?u)\b\w\w+\b")
SPACES = re.compile(r"\s\s+")
WORD_RANGE = (1, 2)
CHAR_RANGE = (2, 5)
WORD_CACHE = 100_000  # words whose character n-grams LinearModel remembers (some 30 MiB)


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


def _tfidf(
    known: list[list[int]], idf: np.ndarray, offset: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One part's features for a batch, from each text's known n-grams (their columns, with
    repeats): (rows, columns plus ``offset``, values), sorted by row then column; each row's
    values sublinear TF-IDF scaled to unit length."""
    owners = np.repeat(np.arange(len(known), dtype=np.int64), [len(k) for k in known])
    ids = np.fromiter((j for k in known for j in k), dtype=np.int64, count=len(owners))
    width = len(idf)
    keys, counts = np.unique(owners * width + ids, return_counts=True)
    rows, columns = keys // width, keys % width
    values = (1.0 + np.log(counts)) * idf[columns]
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(known)))
    return rows, columns + offset, (values / norms[rows]).astype(np.float32)


@dataclass
class LinearModel:
    words: dict[str, int]
    chars: dict[str, int]
    word_idf: np.ndarray
    char_idf: np.ndarray
    heads: dict[str, tuple[list[str], np.ndarray, np.ndarray]]  # task -> labels, coef, bias
    model_id: str = ""
    _transposed: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    _word_chars: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)

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
        _, columns, values = self._batch_features([text])
        return columns, values

    def _batch_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, columns, values) of a batch's non-zero features, sorted by row; computed for
        the whole batch at once, since numpy's cost per call outweighs its cost per value."""
        words = self.words
        word_rows, word_columns, word_values = _tfidf(
            [[j for j in map(words.get, word_ngrams(t)) if j is not None] for t in texts],
            self.word_idf,
        )
        char_rows, char_columns, char_values = _tfidf(
            [self._char_columns(t) for t in texts], self.char_idf, len(self.words)
        )
        rows = np.concatenate([word_rows, char_rows])
        order = np.argsort(rows, kind="stable")  # by row; words before characters within one
        columns = np.concatenate([word_columns, char_columns])[order]
        return rows[order], columns, np.concatenate([word_values, char_values])[order]

    def probabilities(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Per task, a row of label probabilities per text (labels: ``heads[task][0]``)."""
        if not texts:
            return {task: np.zeros((0, len(labels)), dtype=np.float32)
                    for task, (labels, _, _) in self.heads.items()}  # fmt: skip
        rows, columns, values = self._batch_features(texts)
        # One gather and one segmented sum for the whole batch: each text's logits are the sum
        # of its features' coefficient rows times their values. Texts without a known feature
        # keep the intercepts alone.
        featured, starts = np.unique(rows, return_index=True)
        out = {}
        for task, (_, _, bias) in self.heads.items():
            z = np.tile(bias, (len(texts), 1))
            if len(featured):
                weighted = self._by_feature(task)[columns] * values[:, None]
                z[featured] += np.add.reduceat(weighted, starts, axis=0)
            shifted = np.exp(z - z.max(axis=1, keepdims=True))
            out[task] = shifted / shifted.sum(axis=1, keepdims=True)
        return out

    def _char_columns(self, text: str) -> list[int]:
        """The known character n-grams of a text (:func:`char_wb_ngrams`), as columns. They
        depend on each word alone and words repeat, so each word's are remembered: a post's
        few hundred n-gram lookups become a few dozen word lookups."""
        cache, chars = self._word_chars, self.chars
        if len(cache) > WORD_CACHE:
            cache.clear()
        out: list[int] = []
        for word in text.lower().split():
            columns = cache.get(word)
            if columns is None:
                columns = [j for j in map(chars.get, char_wb_ngrams(word)) if j is not None]
                cache[word] = columns
            out += columns
        return out

    def _by_feature(self, task: str) -> np.ndarray:
        """The task's coefficients a row per feature, so a post's features are rows read
        whole rather than columns read across the matrix."""
        cached = self._transposed.get(task)
        if cached is None:
            cached = self._transposed[task] = np.ascontiguousarray(self.heads[task][1].T)
        return cached
