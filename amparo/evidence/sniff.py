"""What a file is, from its first bytes: the client's Content-Type and file name are never
trusted (a name says ``photo.jpg``, the bytes may be a zip bomb or an HTML page)."""

from __future__ import annotations

__all__ = [
    "ARCHIVE_TYPES",
    "COMPRESSED_TYPES",
    "IMAGE_TYPES",
    "OCTET_STREAM",
    "PAGE_TYPES",
    "TEXT_TYPES",
    "is_archive",
    "sniff",
]

OCTET_STREAM = "application/octet-stream"
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/bmp"}
)
# Single compressed streams (one file inside, no names): checked by decompressing and counting.
COMPRESSED_TYPES = frozenset({"application/gzip", "application/x-bzip2", "application/x-xz"})
ARCHIVE_TYPES = frozenset(
    {
        "application/zip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/vnd.rar",
        *COMPRESSED_TYPES,
    }
)
# Saved web pages (captures) and plain text: kept as they are, never served as HTML.
PAGE_TYPES = frozenset({"text/html", "multipart/related"})
TEXT_TYPES = frozenset({*PAGE_TYPES, "text/plain"})

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # an empty archive
    (b"PK\x07\x08", "application/zip"),  # a spanned archive's first part
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
)
_HTML_STARTS = (
    b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<script",
    b"<iframe", b"<div", b"<p>", b"<!--", b"<svg",
)  # fmt: skip


def sniff(data: bytes) -> str:
    """The media type the bytes say, or ``application/octet-stream``."""
    head = data[:4096]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    # PDF readers accept junk before the header, so an attacker may put some there too.
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "application/x-tar"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()
    if text.startswith(b"<?xml") and (b"<html" in text or b"<svg" in text):
        return "image/svg+xml" if b"<svg" in text else "text/html"
    if text.startswith(_HTML_STARTS):
        return "image/svg+xml" if text.startswith(b"<svg") else "text/html"
    if b"mime-version:" in text[:2048] and b"multipart/related" in text:
        return "multipart/related"  # MHTML, a page saved with its images
    if _looks_like_text(head):
        return "text/plain"
    return OCTET_STREAM


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off at the end of the sample is still text.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def is_archive(data: bytes, name: str = "") -> bool:
    """An archive or compressed stream, by its bytes or (for members of an archive, whose
    first bytes may be encrypted) by the ending of its name."""
    if sniff(data) in ARCHIVE_TYPES:
        return True
    lowered = name.lower()
    return lowered.endswith(
        (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst", ".lz", ".lzma",
         ".cab", ".jar", ".apk", ".iso")
    )  # fmt: skip
