"""Text normalisation for triage: what abusers do to slip past filters, undone.

Messages arrive with links, mentions, emoji, stretched words ("diiiie"), digits and symbols
for letters ("k1ll", "b!tch", "m4t4r"), letters spaced out ("k i l l") and invisible
characters between letters. Classifiers and rules read the normalised text; campaign
detection reads it too, so that copies edited in these ways still match. The original text is
never changed: it is the evidence.

Links and mentions become ``[url]`` and ``[user]`` (EDOS's ``[URL]`` and ``[USER]``, lower
case like the rest), and are kept aside (campaigns share links; mentions name targets).
Emoji stay, and each also adds a word from its Unicode name (``🔪`` -> ``emoji_hocho``) so
that models and rules can read them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Normalised", "edos_style", "normalise", "words"]

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+|\[URL\]", re.IGNORECASE)
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{1,30}\b|\[USER\]")
HASHTAG = re.compile(r"(?<![\w#])#(\w{1,80})")
# Zero-width and bidirectional controls: invisible, and used to break up words.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
ELONGATED = re.compile(r"(\w)\1{2,}")  # three or more of a letter: stretched ("sooo")
REPEATED_MARKS = re.compile(r"([!?.])\1{2,}")
# Single letters separated by spaces or dots, at least four: "k i l l", "p.u.t.a".
SPACED = re.compile(r"\b(?:[^\W\d_][ .·*_-]){3,}[^\W\d_]\b")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                      "$": "s", "!": "i", "€": "e", "|": "l", "+": "t"})  # fmt: skip
# Digits or symbols standing in for letters inside a word ("k1ll", "m4t4r", "b!tch", "h3ll0",
# "$hit"): letters on both sides, or a final 0/1/3 after them. Numbers, prices and names such
# as "covid19" or "mp3" do not qualify.
LEET_WORD = re.compile(
    r"(?<![\w@$€])(?:[^\W\d_]+(?:[0-9@$!|+€]+[^\W\d_]+)+[013]?|\$[^\W\d_]{2,})(?![\w@$€])"
)
WORD = re.compile(r"(?<![\w@$€])(?=[\w@$€!|+]*[^\W\d_][\w@$€!|+]*[^\W\d_])"
                       r"(?=[\w@$€!|+]*[0-9@$€!|+])[\w@$€!|+]{3,}(?![\w@$€])")  # fmt: skip
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@dataclass(frozen=True)
class Normalised:
    text: str  # normalised, lower case, for models and rules
    squeezed: str  # the same with stretched letters down to one ("diiie" -> "die"), for rules
    urls: tuple[str, ...]
    mentions: tuple[str, ...]
    hashtags: tuple[str, ...]
    emoji: tuple[str, ...]  # the emoji's Unicode names, lower case with underscores


def _emoji_name(char: str) -> str | None:
    if unicodedata.category(char) != "So":
        return None
    name = unicodedata.name(char, "")
    return "emoji_" + re.sub(r"\W+", "_", name.lower()).strip("_") if name else None


def _unleet(match: re.Match[str]) -> str:
    return match.group(0).translate(LEET)


def normalise(text: str) -> Normalised:
    """The normalised form of one message (see the module's description)."""
    text = unicodedata.normalize("NFKC", text)
    text = INVISIBLE.sub("", text)
    urls = tuple(m.group(0) for m in URL.finditer(text) if m.group(0) != "[URL]")
    text = URL.sub(" [URL] ", text)
    mentions = tuple(m.group(0) for m in MENTION.finditer(text) if m.group(0) != "[USER]")
    text = MENTION.sub(" [USER] ", text)
    hashtags = tuple(m.group(1).lower() for m in HASHTAG.finditer(text))
    emoji: list[str] = []
    if not text.isascii():  # ASCII has no emoji, joiners or selectors: most messages skip this
        out: list[str] = []
        for char in text:
            name = None if char < "\x80" else _emoji_name(char)
            if name is not None:
                emoji.append(name)
                out.append(f" {char} {name} ")
            elif unicodedata.category(char) == "Cf" or "\ufe00" <= char <= "\ufe0f":
                continue  # joiners and emoji variation selectors
            else:
                out.append(char)
        text = "".join(out)
    text = text.lower()
    text = SPACED.sub(lambda m: re.sub(r"[ .·*_-]", "", m.group(0)), text)
    text = LEET_WORD.sub(_unleet, text)
    text = REPEATED_MARKS.sub(r"\1\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    return Normalised(ELONGATED.sub(r"\1\1", text), ELONGATED.sub(r"\1", text), urls, mentions,
                      hashtags, tuple(emoji))  # fmt: skip


def words(text: str) -> list[str]:
    """The words of a normalised text (letters and digits, apostrophes inside words)."""
    return WORD.findall(text)


def edos_style(text: str) -> str:
    """The text as the EDOS models saw their training posts: links and mentions replaced by
    ``[URL]`` and ``[USER]``, the rest as written."""
    return MENTION.sub("[USER]", URL.sub("[URL]", text))
