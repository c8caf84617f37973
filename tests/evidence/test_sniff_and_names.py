"""Types come from the bytes, never from names; names are cleaned for display only."""

from __future__ import annotations

import pytest

from amparo.evidence.names import DEFAULT_NAME, MAX_NAME, content_disposition, display_name
from amparo.evidence.sniff import is_archive, sniff
from tests.evidence import samples


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (samples.jpeg(), "image/jpeg"),
        (samples.png(), "image/png"),
        (samples.webp(), "image/webp"),
        (samples.pdf(with_image=False), "application/pdf"),
        (b"junk before %PDF-1.7\n", "application/pdf"),
        (samples.zipped([("a.txt", b"a")]), "application/zip"),
        (samples.gzipped(b"hello"), "application/gzip"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><title>x</title>", "text/html"),
        (b"<script>alert(1)</script>", "text/html"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        (b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;",
         "multipart/related"),
        ("notas de campo: ñandú".encode(), "text/plain"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)  # fmt: skip
def test_sniff(data: bytes, media_type: str) -> None:
    assert sniff(data) == media_type


def test_a_name_or_extension_does_not_decide_the_type() -> None:
    # The same bytes are a zip whatever they are called; a name alone counts only for
    # members of an archive, whose first bytes may be encrypted.
    assert sniff(samples.zipped([("a", b"a")])) == "application/zip"
    assert is_archive(b"", "inner.ZIP") and is_archive(b"", "x.tar.gz")
    assert not is_archive(b"", "photo.jpg")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/abs/path/to/evidence.pdf", "evidence.pdf"),
        ("..", DEFAULT_NAME),
        ("", DEFAULT_NAME),
        (None, DEFAULT_NAME),
        ("dir/", DEFAULT_NAME),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("line\r\nbreak\x00.txt", "linebreak.txt"),
        ("  spaced   name .txt ", "spaced name .txt"),
        ("Cafe\u0301.png", "Café.png"),
    ],
)
def test_display_name(raw: str | None, shown: str) -> None:
    assert display_name(raw) == shown


def test_long_names_keep_their_extension() -> None:
    name = display_name("a" * 1000 + ".jpeg")
    assert len(name) == MAX_NAME and name.endswith(".jpeg")


def test_content_disposition_is_one_safe_header_value() -> None:
    value = content_disposition('bad"name;\r\n%00ñ.html')
    assert value.startswith('attachment; filename="bad_name_')
    assert "\r" not in value and "\n" not in value
    assert "filename*=UTF-8''bad%22name%3B%2500%C3%B1.html" in value
