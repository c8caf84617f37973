"""Blind-index tokens: normalised words, keyed, fixed size, equal words give equal tokens."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amparo.security.blind_index import (
    MAX_WORD_CHARS,
    MIN_WORD_CHARS,
    STOPWORDS,
    TOKEN_BYTES,
    normalise_words,
    tokens_for_text,
    tokens_for_words,
)
from amparo.security.keyring import Keyring

KEY = b"k" * 32
OTHER_KEY = b"K" * 32


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Berta Cáceres", {"berta", "caceres"}),
        ("BERTA CÁCERES", {"berta", "caceres"}),
        ("Intibucá, La Esperanza", {"intibuca", "esperanza"}),
        ("São Paulo", {"sao", "paulo"}),
        ("Ñandú pingüino", {"nandu", "pinguino"}),
        ("Œuvre naïve façade", {"œuvre", "naive", "facade"}),
        ("Straße", {"strasse"}),
        ("ﬁnca", {"finca"}),  # ligature: NFKD splits it
        ("", set()),
        ("   \n\t ", set()),
        ("a e o y", set()),
        ("x", set()),
        ("42 años", {"42", "anos"}),
        ("el-defensor/la_defensora", {"defensor", "la_defensora"}),
    ],
)
def test_normalise_words(text: str, words: set[str]) -> None:
    assert normalise_words(text) == words


def test_nfc_and_nfd_give_the_same_words() -> None:
    text = "Cáceres, Niño, Intibucá, coração"
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    assert nfc != nfd
    assert (
        normalise_words(nfc) == normalise_words(nfd) == {"caceres", "nino", "intibuca", "coracao"}
    )
    assert tokens_for_text(KEY, nfc) == tokens_for_text(KEY, nfd)


def test_case_and_accents_give_the_same_tokens() -> None:
    assert tokens_for_text(KEY, "CÁCERES") == tokens_for_text(KEY, "caceres")
    assert tokens_for_text(KEY, "Cáceres") == tokens_for_text(KEY, "cacerés")


@pytest.mark.parametrize(
    "stopword", ["the", "de", "la", "que", "and", "THE", "Del", "Él", "Los", "por"]
)
def test_stopwords_are_not_indexed(stopword: str) -> None:
    assert normalise_words(stopword) == set()
    assert tokens_for_text(KEY, stopword) == set()
    assert normalise_words(f"amenaza {stopword} muerte") == {"amenaza", "muerte"}


def test_stopword_list_is_already_normalised() -> None:
    for word in STOPWORDS:
        assert normalise_words(word + " zz") == {"zz"}, word


def test_length_limits() -> None:
    assert MIN_WORD_CHARS == 2
    assert normalise_words("x") == set()
    assert normalise_words("xz") == {"xz"}
    exact = "w" * MAX_WORD_CHARS
    assert normalise_words(exact) == {exact}
    assert normalise_words("w" * (MAX_WORD_CHARS + 1)) == set()


def test_duplicate_words_give_one_token() -> None:
    tokens = tokens_for_text(KEY, "Berta berta BERTA Bérta")
    assert len(tokens) == 1


def test_equal_words_give_equal_tokens() -> None:
    a = tokens_for_text(KEY, "threat against Berta")
    b = tokens_for_text(KEY, "Berta moved")
    (shared,) = a & b
    assert tokens_for_words(KEY, ["berta"]) == {shared}


def test_tokens_are_keyed() -> None:
    text = "Berta Cáceres Intibucá"
    mine = tokens_for_text(KEY, text)
    theirs = tokens_for_text(OTHER_KEY, text)
    assert len(mine) == len(theirs) == 3
    assert not mine & theirs


def test_tokens_are_16_bytes_and_not_the_word() -> None:
    tokens = tokens_for_text(KEY, "Berta Cáceres caceres")
    assert len(tokens) == 2
    for token in tokens:
        assert isinstance(token, bytes)
        assert len(token) == TOKEN_BYTES == 16
        assert b"berta" not in token.lower()
        assert b"caceres" not in token.lower()


@given(st.text(alphabet=st.characters(categories=["L", "M"]), min_size=2, max_size=30))
@settings(max_examples=100, deadline=None)
def test_any_word_is_stable_under_normalisation_forms(word: str) -> None:
    forms = {unicodedata.normalize(f, word) for f in ("NFC", "NFD")}
    token_sets = {frozenset(tokens_for_text(KEY, f)) for f in forms}
    assert len(token_sets) == 1
    for token in next(iter(token_sets)):
        assert len(token) == TOKEN_BYTES


def test_keyring_gives_a_separate_key_per_field_and_vault() -> None:
    master = bytes(range(32))
    ring = Keyring(master, "vault-a")
    keys = {
        ring.blind_index_key("incident", "title"),
        ring.blind_index_key("incident", "narrative"),
        ring.blind_index_key("defender", "title"),
        Keyring(master, "vault-b").blind_index_key("incident", "title"),
        Keyring(bytes(32), "vault-a").blind_index_key("incident", "title"),
    }
    assert len(keys) == 5
    assert all(len(k) == 32 for k in keys)
    # Stable for one vault: the same word finds the same records after a restart.
    assert Keyring(master, "vault-a").blind_index_key("incident", "title") == (
        ring.blind_index_key("incident", "title")
    )
