"""Archive and decompression bombs, refused before anything is stored.

Amparo never unpacks an archive, but whoever receives one later (a colleague's computer, an
antivirus, a court's expert) does, so evidence must not be a bomb. ``check_archive`` refuses:

- a zip whose entries declare more than ``MAX_UNCOMPRESSED`` bytes in all, that expands more
  than ``MAX_RATIO`` times overall (or one large entry that does), with more than
  ``MAX_ENTRIES`` entries, with an entry that expands beyond the size it declares, or that
  cannot be read at all (a damaged directory cannot be checked);
- a gzip, bzip2 or xz stream that expands beyond those limits: it is decompressed and
  counted, never kept, so memory stays small whatever it declares;
- an archive inside the archive (``MAX_DEPTH``): nested layers are how bombs multiply;
- 7z and RAR archives, which the standard library cannot check.

Tar archives have no compression of their own; a tar inside gzip, bzip2 or xz counts as one
archive. Encrypted zip entries are checked by their declared sizes and names only.
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from amparo.evidence.sniff import ARCHIVE_TYPES, is_archive, sniff

__all__ = [
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "ArchiveRefused",
    "ArchiveReport",
    "check_appended_zip",
    "check_archive",
]

MAX_UNCOMPRESSED = 1 << 30  # 1 GiB expanded, in all
MAX_RATIO = 100  # real documents and photos compress far less; zeros compress ~1000x
MAX_ENTRIES = 10_000
MAX_DEPTH = 1  # the upload may be an archive; an archive inside it is refused
SMALL = 1 << 20  # below 1 MiB expanded, a high ratio harms nobody (a page of spaces)
CHUNK = 1 << 20
UNCHECKABLE = frozenset({"application/x-7z-compressed", "application/vnd.rar"})


class ArchiveRefused(Exception):
    """The file is (or may be) a bomb; the message says why, in words for the uploader."""


@dataclass(frozen=True)
class ArchiveReport:
    media_type: str
    entries: int
    expanded: int  # bytes once unpacked (declared for encrypted zip entries)


def check_archive(data: bytes, *, depth: int = 1) -> ArchiveReport | None:
    """None for a file that is not an archive; a report for one that passed; else raise."""
    media_type = sniff(data)
    if media_type not in ARCHIVE_TYPES:
        return None
    if media_type in UNCHECKABLE:
        raise ArchiveRefused(
            "is a 7z or RAR archive, which Amparo cannot check for decompression bombs: "
            "pack it as zip or tar.gz instead"
        )
    if media_type == "application/zip":
        return _check_zip(data, depth)
    if media_type == "application/x-tar":
        return _check_tar(io.BytesIO(data), media_type, depth)
    return _check_stream(data, media_type, depth)


def check_appended_zip(data: bytes) -> ArchiveReport | None:
    """A zip hidden at the end of another file: a JPEG followed by a zip opens in an image
    viewer and in an unzip tool alike, so its entries must pass the same checks. Bytes that
    merely look like a zip's end record (chance, in compressed data) are ignored."""
    if data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557)) < 0:
        return None
    try:
        zipfile.ZipFile(io.BytesIO(data)).close()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return None
    return _check_zip(data, 1)


def _limit_for(compressed: int) -> int:
    return max(SMALL, min(MAX_UNCOMPRESSED, MAX_RATIO * max(compressed, 1)))


def _nested(depth: int, what: str) -> None:
    if depth >= MAX_DEPTH:
        raise ArchiveRefused(f"contains another archive ({what}): nested archives are refused")


# -- zip ----------------------------------------------------------------------------------
def _declared_entries(data: bytes) -> int | None:
    """The entry count in the end-of-directory record, read before zipfile builds an object
    per entry (a million tiny entries would cost gigabytes)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, end + 10)
    if count != 0xFFFF:
        return int(count)
    locator = end - 20  # zip64: the locator points at the zip64 end record
    if locator < 0 or data[locator : locator + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack_from("<Q", data, locator + 8)
    if offset + 56 > len(data) or data[offset : offset + 4] != b"PK\x06\x06":
        return None
    (count64,) = struct.unpack_from("<Q", data, offset + 32)
    return int(count64)


def _check_zip(data: bytes, depth: int) -> ArchiveReport:
    declared = _declared_entries(data)
    if declared is not None and declared > MAX_ENTRIES:
        raise ArchiveRefused(f"has {declared} entries (at most {MAX_ENTRIES} are accepted)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise ArchiveRefused(f"is a damaged zip archive that cannot be checked ({exc})") from None
    if len(infos) > MAX_ENTRIES:
        raise ArchiveRefused(f"has {len(infos)} entries (at most {MAX_ENTRIES} are accepted)")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED:
        raise ArchiveRefused(
            f"would expand to {total} bytes (at most {MAX_UNCOMPRESSED} are accepted)"
        )
    if total > SMALL and total > MAX_RATIO * len(data):
        raise ArchiveRefused(
            f"would expand {total // max(len(data), 1)} times (at most {MAX_RATIO})"
        )
    for info in infos:
        if info.file_size > SMALL and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveRefused(
                f"has an entry that would expand {info.file_size // max(info.compress_size, 1)}"
                f" times (at most {MAX_RATIO})"
            )
    expanded = 0
    for info in infos:
        if info.is_dir():
            continue
        if is_archive(b"", info.filename):
            _nested(depth, "by its name")
        if info.flag_bits & 0x1:  # encrypted: only its declared size and name can be checked
            expanded += info.file_size
            continue
        expanded += _read_entry(archive, info, depth)
    return ArchiveReport("application/zip", len(infos), expanded)


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, depth: int) -> int:
    """Decompress one entry, counting: it must not exceed what it declares."""
    count = 0
    try:
        with archive.open(info) as member:
            first = member.read(min(CHUNK, 4096))
            if first and is_archive(first):
                _nested(depth, "by its content")
            count += len(first)
            while chunk := member.read(CHUNK):
                count += len(chunk)
                if count > info.file_size:
                    break
    except NotImplementedError:  # a compression method the standard library lacks
        return int(info.file_size)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, lzma.LZMAError) as exc:
        raise ArchiveRefused(f"has a damaged or inconsistent entry ({exc})") from None
    if count > info.file_size:
        raise ArchiveRefused("has an entry that expands beyond its declared size")
    return count


# -- gzip, bzip2, xz ------------------------------------------------------------------------
class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    @property
    def needs_input(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


class _Zlib:
    """zlib's decompressor behind the interface bz2 and lzma share."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=31)  # gzip framing

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    @property
    def needs_input(self) -> bool:
        return not self._d.unconsumed_tail

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes:
        if not data:
            data = self._d.unconsumed_tail
        return self._d.decompress(data, max(max_length, 0))


_FACTORIES: dict[str, tuple[bytes, Callable[[], _Decompressor]]] = {
    "application/gzip": (b"\x1f\x8b", _Zlib),
    "application/x-bzip2": (b"BZh", bz2.BZ2Decompressor),
    "application/x-xz": (b"\xfd7zXZ\x00", lzma.LZMADecompressor),
}


def _expand(data: bytes, media_type: str, limit: int) -> Iterator[bytes]:
    """The decompressed stream, chunk by chunk (concatenated members too); raises once more
    than ``limit`` bytes come out."""
    magic, factory = _FACTORIES[media_type]
    remaining = data
    produced = 0
    errors = (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError)
    while remaining:
        decompressor = factory()
        pending = remaining
        remaining = b""
        try:
            while not decompressor.eof:
                feed = b""
                if decompressor.needs_input and pending:
                    feed, pending = pending[:CHUNK], pending[CHUNK:]
                out = decompressor.decompress(feed, CHUNK)
                if not out and not feed and decompressor.needs_input and not decompressor.eof:
                    raise ArchiveRefused("is a truncated compressed stream")
                produced += len(out)
                if produced > limit:
                    raise ArchiveRefused(
                        f"expands beyond {limit} bytes ({MAX_RATIO} times its size or "
                        f"{MAX_UNCOMPRESSED} bytes at most)"
                    )
                if out:
                    yield out
        except errors as exc:
            raise ArchiveRefused(f"is a damaged compressed stream ({exc})") from None
        rest = decompressor.unused_data + pending
        if rest.startswith(magic):
            remaining = rest  # another member follows
        elif rest.strip(b"\x00"):
            raise ArchiveRefused("has data after its compressed stream")


class _Counted(io.RawIOBase):
    """A read-only file over the expanded chunks, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _check_stream(data: bytes, media_type: str, depth: int) -> ArchiveReport:
    chunks = _expand(data, media_type, _limit_for(len(data)))
    head = b""
    for chunk in chunks:  # enough of the start to tell what is inside
        head += chunk
        if len(head) >= 4096:
            break
    inner = sniff(head)
    if inner == "application/x-tar":
        stream = io.BufferedReader(_Counted(_prepend(head, chunks)), CHUNK)
        report = _check_tar(stream, media_type, depth)
        for _ in chunks:  # whatever follows the tar's end still gets expanded by gunzip
            pass
        return report
    if head and is_archive(head):
        _nested(depth, inner)
    expanded = len(head) + sum(len(chunk) for chunk in chunks)
    return ArchiveReport(media_type, 1, expanded)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


# -- tar --------------------------------------------------------------------------------------
def _check_tar(stream: io.BufferedIOBase, media_type: str, depth: int) -> ArchiveReport:
    """Entries and nested archives of a tar read as a stream (never seeking back)."""
    entries = 0
    expanded = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                entries += 1
                if entries > MAX_ENTRIES:
                    raise ArchiveRefused(f"has more than {MAX_ENTRIES} entries")
                if not member.isfile():
                    continue
                expanded += member.size
                if expanded > MAX_UNCOMPRESSED:  # sparse members may declare far more
                    raise ArchiveRefused(f"holds more than {MAX_UNCOMPRESSED} bytes")
                if is_archive(b"", member.name):
                    _nested(depth, "by its name")
                handle = archive.extractfile(member)
                if handle is not None and is_archive(handle.read(4096)):
                    _nested(depth, "by its content")
    except tarfile.TarError as exc:
        raise ArchiveRefused(f"is a damaged tar archive ({exc})") from None
    return ArchiveReport(media_type, entries, expanded)
