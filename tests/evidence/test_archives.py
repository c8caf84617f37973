"""Zip and decompression bombs are refused; ordinary archives pass."""

from __future__ import annotations

import io
import struct
import tarfile

import pytest

from amparo.evidence import archives
from amparo.evidence.archives import ArchiveRefused, check_archive
from tests.evidence import samples


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_not_an_archive() -> None:
    assert check_archive(samples.jpeg()) is None


def test_ordinary_archives_pass() -> None:
    members = [("chat.txt", b"hola " * 1000), ("p.jpg", samples.jpeg())]
    report = check_archive(samples.zipped(members))
    assert report is not None and (report.entries, report.media_type) == (2, "application/zip")
    assert check_archive(samples.gzipped(b"text " * 100)) is not None
    tgz = check_archive(samples.gzipped(_tar([("a.txt", b"a" * 5000), ("b.jpg", samples.jpeg())])))
    assert tgz is not None and tgz.entries == 2
    assert check_archive(_tar([("a.txt", b"a")])) is not None


def test_a_zip_bomb_is_refused() -> None:
    bomb = samples.zip_bomb(200)
    assert len(bomb) < 1_000_000
    with pytest.raises(ArchiveRefused, match="expand"):
        check_archive(bomb)


def test_declared_sizes_over_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "MAX_UNCOMPRESSED", 10_000)
    with pytest.raises(ArchiveRefused, match="would expand to 20000 bytes"):
        members = [("a.bin", bytes(range(256)) * 40), ("b.bin", b"\x01" * 9760)]
        check_archive(samples.zipped(members))


def test_a_zip_whose_entry_lies_about_its_size_is_refused() -> None:
    honest = samples.zipped([("a.txt", b"A" * 50_000)])
    # Patch the declared uncompressed size (local header and central directory) to 10 bytes.
    local = honest.index(b"PK\x03\x04")
    central = honest.index(b"PK\x01\x02")
    lying = bytearray(honest)
    struct.pack_into("<I", lying, local + 22, 10)
    struct.pack_into("<I", lying, central + 24, 10)
    with pytest.raises(ArchiveRefused, match=r"damaged|beyond"):
        check_archive(bytes(lying))


def test_too_many_entries_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "MAX_ENTRIES", 5)
    with pytest.raises(ArchiveRefused, match="6 entries"):
        check_archive(samples.zipped([(f"{i}.txt", b"x") for i in range(6)]))
    with pytest.raises(ArchiveRefused, match="more than 5 entries"):
        check_archive(_tar([(f"{i}.txt", b"x") for i in range(6)]))


@pytest.mark.parametrize(
    "data",
    [
        samples.zipped([("inner.zip", samples.zipped([("a", b"a")]))]),
        samples.zipped([("innocent.txt", samples.zipped([("a", b"a")]))]),
        samples.zipped([("layer.gz", b"not even gzip")]),
        samples.gzipped(samples.zipped([("a", b"a")])),
        samples.gzipped(samples.gzipped(b"a")),
        samples.gzipped(_tar([("deeper.tar.gz", b"x")])),
        _tar([("x.bin", samples.zipped([("a", b"a")]))]),
    ],
    ids=["zip-in-zip", "zip-renamed", "gz-by-name", "zip-in-gz", "gz-in-gz", "in-tgz", "in-tar"],
)
def test_nested_archives_are_refused(data: bytes) -> None:
    with pytest.raises(ArchiveRefused, match="another archive"):
        check_archive(data)


def test_gzip_bombs_are_refused_without_expanding_them_in_memory() -> None:
    bomb = samples.gzip_bomb(50)
    assert len(bomb) < 100_000
    with pytest.raises(ArchiveRefused, match="expands beyond"):
        check_archive(bomb)
    # Zeros hidden after the end of a tar inside the gzip are counted too.
    tail = samples.gzipped(_tar([("a.txt", b"a")]) + b"\x00" * (30 << 20))
    with pytest.raises(ArchiveRefused, match="expands beyond"):
        check_archive(tail)


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04broken", samples.gzipped(b"abc" * 1000)[:-30], b"\x1f\x8bnot gzip at all",
     samples.gzipped(b"a") + b"garbage after"],
    ids=["zip", "truncated-gzip", "not-gzip", "trailing-garbage"],
)  # fmt: skip
def test_damaged_archives_cannot_be_checked_and_are_refused(data: bytes) -> None:
    with pytest.raises(ArchiveRefused):
        check_archive(data)


def test_uncheckable_archive_formats_are_refused() -> None:
    with pytest.raises(ArchiveRefused, match="7z or RAR"):
        check_archive(b"7z\xbc\xaf\x27\x1c" + b"\x00" * 100)


def test_concatenated_gzip_members_are_one_stream() -> None:
    report = check_archive(samples.gzipped(b"abc") + samples.gzipped(b"def"))
    assert report is not None and report.expanded == 6
