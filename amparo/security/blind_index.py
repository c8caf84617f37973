"""Keyed blind-index tokens for keyword search over encrypted text.

Words are normalised (NFKD, accents removed, case-folded), then each distinct word becomes
``HMAC-SHA256(field key, word)`` truncated to 16 bytes. The database sees tokens, never
words. Leakage, documented in docs/threat-model.md: equal words in the same field give equal
tokens, so an attacker with the database learns how often (unknown) words repeat and which
records share them, but not the words themselves without the key.

Very common function words are not indexed: they make search no better and leak frequency.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["TOKEN_BYTES", "normalise_words", "tokens_for_text", "tokens_for_words"]

TOKEN_BYTES = 16
MIN_WORD_CHARS = 2
MAX_WORD_CHARS = 64
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "al",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "de",
        "del",
        "do",
        "da",
        "das",
        "dos",
        "e",
        "el",
        "en",
        "es",
        "et",
        "for",
        "from",
        "ha",
        "he",
        "in",
        "is",
        "it",
        "la",
        "las",
        "le",
        "les",
        "los",
        "no",
        "o",
        "of",
        "on",
        "or",
        "os",
        "por",
        "que",
        "se",
        "she",
        "su",
        "the",
        "to",
        "un",
        "una",
        "une",
        "y",
        "was",
        "were",
        "with",
    ]
)


def normalise_words(text: str) -> set[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = set()
    for match in _WORD.finditer(stripped):
        word = match.group(0)
        if MIN_WORD_CHARS <= len(word) <= MAX_WORD_CHARS and word not in STOPWORDS:
            words.add(unicodedata.normalize("NFC", word))
    return words


def tokens_for_words(key: bytes, words: Iterable[str]) -> set[bytes]:
    return {hmac.new(key, w.encode("utf-8"), hashlib.sha256).digest()[:TOKEN_BYTES] for w in words}


def tokens_for_text(key: bytes, text: str) -> set[bytes]:
    return tokens_for_words(key, normalise_words(text))
