"""Normalisation undoes the usual disguises and keeps links, mentions and emoji aside."""

from __future__ import annotations

import pytest

from amparo.triage.normalise import normalise, words


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("te vamos a m4t4r", "te vamos a matar"),
        ("k i l l her", "kill her"),
        ("p.u.t.a", "puta"),
        ("b!tch", "bitch"),
        ("h3ll0", "hello"),
        ("$hit", "shit"),
        ("ki\u200bll", "kill"),  # a zero-width space inside the word
        ("Ｋｉｌｌ", "kill"),  # full-width letters
        ("DIIIIIE", "diie"),
        ("why?????", "why??"),
    ],
)
def test_disguises_are_undone(written: str, read: str) -> None:
    assert normalise(written).text == read


@pytest.mark.parametrize("kept", ["covid19", "mp3", "$20", "2026-03-01", "1,500.50", "g20"])
def test_numbers_and_names_with_digits_are_left_alone(kept: str) -> None:
    assert normalise(kept).text == kept


def test_stretched_words_also_come_squeezed() -> None:
    message = normalise("you will DIIIIE, sooooo")
    assert message.text == "you will diie, soo" and message.squeezed == "you will die, so"


def test_links_mentions_hashtags_and_emoji_are_kept_aside() -> None:
    message = normalise("Mirá @maria_lopez https://x.co/a?b=1 #FueraONG 🔪")
    assert message.urls == ("https://x.co/a?b=1",)
    assert message.mentions == ("@maria_lopez",)
    assert message.hashtags == ("fueraong",)
    assert message.emoji == ("emoji_hocho",)
    assert message.text == "mirá [user] [url] #fueraong 🔪 emoji_hocho"
    assert "[url]" in normalise("see [URL] by [USER]").text  # EDOS's placeholders


def test_words_and_other_scripts() -> None:
    assert words("l'école d'été, niño's 2") == ["l'école", "d'été", "niño's", "2"]
    assert normalise("سنقتلك يا خائنة").text == "سنقتلك يا خائنة"
    assert normalise("हम तुम्हें मार देंगे").text == "हम तुम्हें मार देंगे"  # combining marks kept
