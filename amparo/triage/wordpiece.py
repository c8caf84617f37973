"""BERT's uncased WordPiece tokenizer, in plain Python, from a ``tokenizer.json``.

The shipped models were trained with Hugging Face's tokenizer for all-MiniLM-L6-v2
(BertNormalizer with lower case, BertPreTokenizer, WordPiece with ``##`` continuations).
This is the same algorithm, so running a model needs neither ``tokenizers`` nor the
Hugging Face hub client it brings along; tests/triage/test_wordpiece.py compares the two on
every EDOS text when ``tokenizers`` is installed.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

__all__ = ["WordPiece"]


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_chinese(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F
    )  # fmt: skip


class WordPiece:
    def __init__(self, vocab: dict[str, int], max_chars_per_word: int = 100) -> None:
        self.vocab = vocab
        self.max_chars = max_chars_per_word
        self.cls, self.sep = vocab["[CLS]"], vocab["[SEP]"]
        self.unk, self.pad = vocab["[UNK]"], vocab["[PAD]"]
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: Path) -> WordPiece:
        spec = json.loads(path.read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "WordPiece" or not spec["normalizer"].get("lowercase"):
            raise ValueError(f"{path}: not an uncased BERT WordPiece tokenizer")
        return cls(dict(model["vocab"]), int(model.get("max_input_chars_per_word", 100)))

    def _normalise(self, text: str) -> str:
        out = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or (unicodedata.category(char).startswith("C")
                                               and char not in "\t\n\r"):  # fmt: skip
                continue
            if char in "\t\n\r" or unicodedata.category(char) == "Zs":
                out.append(" ")
            elif _is_chinese(code):
                out.append(f" {char} ")
            else:
                out.append(char)
        text = "".join(out).lower()
        # Lower case strips accents too (BertNormalizer with strip_accents unset).
        text = unicodedata.normalize("NFD", text)
        return "".join(c for c in text if unicodedata.category(c) != "Mn")

    def _pieces(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if len(word) > self.max_chars:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                ids = [self.unk]
                break
            ids.append(found)
            start = end
        if len(self._cache) < 200_000:
            self._cache[word] = ids
        return ids

    def encode(self, text: str, max_length: int = 128) -> list[int]:
        """Token ids with [CLS] and [SEP], truncated to ``max_length``."""
        ids: list[int] = []
        for chunk in self._normalise(text).split():
            word: list[str] = []
            for char in chunk:
                if _is_punctuation(char):
                    if word:
                        ids += self._pieces("".join(word))
                        word = []
                    ids += self._pieces(char)
                else:
                    word.append(char)
            if word:
                ids += self._pieces("".join(word))
        return [self.cls, *ids[: max_length - 2], self.sep]
