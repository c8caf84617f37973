"""The linear model B and C mix in: TF-IDF n-grams as scikit-learn makes them, in numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amparo.triage.linear import LinearModel, char_wb_ngrams, word_ngrams
from amparo.triage.model import MODELS


def test_word_and_character_ngrams() -> None:
    assert word_ngrams("She is a LIAR, a liar") == [
        "she", "is", "liar", "liar", "she is", "is liar", "liar liar",
    ]  # fmt: skip
    assert char_wb_ngrams("ab  Cde", 2, 3) == [" a", "ab", "b ", " ab", "ab ", " c", "cd",
                                               "de", "e ", " cd", "cde", "de "]  # fmt: skip
    assert char_wb_ngrams("a", 2, 5) == [" a", "a ", " a "]  # then once whole, not again


def _toy() -> LinearModel:
    heads = {"B": (["x", "y"], np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0]], np.float32),
                   np.zeros(2, np.float32))}  # fmt: skip
    return LinearModel({"liar": 0}, {" l": 0, "r ": 1}, np.ones(1, np.float32),
                       np.array([1.0, 2.0], np.float32), heads, "toy")  # fmt: skip


def test_probabilities_and_a_round_trip(tmp_path: Path) -> None:
    model = _toy()
    columns, values = model.features("liar")
    assert list(columns) == [0, 1, 2]
    assert np.allclose(values, [1.0, 1 / np.sqrt(5), 2 / np.sqrt(5)])
    probs = model.probabilities(["liar", "nothing known"])["B"]
    assert np.allclose(probs.sum(axis=1), 1.0) and np.allclose(probs[1], [0.5, 0.5])
    model.save(tmp_path)
    again = LinearModel.load(tmp_path)
    assert again is not None and again.model_id == "toy"
    assert np.allclose(again.probabilities(["liar"])["B"], probs[:1])
    assert LinearModel.load(tmp_path / "none") is None


def test_a_batch_gives_each_text_what_it_gets_alone() -> None:
    # Texts without a known feature between others must not shift their neighbours' sums.
    model = _toy()
    texts = ["", "liar", "nothing known", "nothing", "liar liar", ""]
    together = model.probabilities(texts)["B"]
    alone = np.vstack([model.probabilities([t])["B"] for t in texts])
    assert np.allclose(together, alone)
    assert model.probabilities([])["B"].shape == (0, 2)


def test_the_same_features_as_scikit_learn() -> None:
    text = pytest.importorskip("sklearn.feature_extraction.text")
    corpus = ["Women can't drive!!", "she is a liar, a LIAR", "go  back to the kitchen",
              "Ça va? naïve café", "a b c", "[USER] you are a liar [URL]"]  # fmt: skip
    words = text.TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(corpus)
    chars = text.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                 sublinear_tf=True).fit(corpus)  # fmt: skip
    idf = words.idf_.astype(np.float32), chars.idf_.astype(np.float32)
    model = LinearModel(dict(words.vocabulary_), dict(chars.vocabulary_), *idf, {})
    for sample in [*corpus, "a liar drives to the café"]:
        expected = np.hstack([words.transform([sample]).toarray(),
                              chars.transform([sample]).toarray()])[0]  # fmt: skip
        columns, values = model.features(sample)
        mine = np.zeros_like(expected)
        mine[columns] = values
        assert np.allclose(mine, expected, atol=1e-6), sample


@pytest.mark.skipif(not (MODELS / "linear" / "weights.npz").exists(), reason="not shipped")
def test_the_shipped_linear_model_answers_with_the_b_and_c_labels() -> None:
    import json

    model = LinearModel.load(MODELS / "linear")
    assert model is not None and model.model_id.startswith("edos-bc-tfidf-")
    for task in ("B", "C"):
        labels = json.loads((MODELS / task.lower() / "labels.json").read_text(encoding="utf-8"))
        assert model.heads[task][0] == labels
    probs = model.probabilities(["women belong in the kitchen", ""])
    assert all(np.allclose(p.sum(axis=1), 1.0) for p in probs.values())
