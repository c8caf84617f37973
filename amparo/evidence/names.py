"""Uploaded file names: shown to people, never used as paths.

Blobs live under generated ids (amparo.services.files), so a name such as
``../../etc/passwd`` can never reach the file system; it is still cleaned for display: no
directory parts, no control or bidirectional-override characters (``\\u202e`` makes
``gpj.exe`` look like ``exe.jpg``), NFC, at most ``MAX_NAME`` characters.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

__all__ = ["DEFAULT_NAME", "MAX_NAME", "content_disposition", "display_name"]

MAX_NAME = 255
DEFAULT_NAME = "evidence"


def display_name(raw: str | None) -> str:
    """The last path component of ``raw``, without control or format characters."""
    text = unicodedata.normalize("NFC", raw or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    # Cc: controls (NUL, CR, LF, ESC ...); Cf: format (bidi overrides, zero-width); Zl/Zp:
    # line and paragraph separators; Cs: lone surrogates that cannot be encoded.
    text = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")
    )
    text = " ".join(text.split()).strip(" .")  # no hidden names, no "." or ".."
    if not text:
        return DEFAULT_NAME
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            text = stem[: MAX_NAME - len(ext) - 1] + "." + ext
        else:
            text = text[:MAX_NAME]
    return text


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in RFC 5987 form."""
    clean = display_name(name)
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;%' else "_" for ch in clean
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"
