"""Shared copies lose every kind of metadata; the pixels stay exactly the same."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from amparo.evidence.strip import (
    KEPT,
    NONE,
    STRIPPED,
    Refused,
    prepare,
    strip_jpeg,
    strip_png,
    strip_webp,
)
from tests.evidence import samples
from tests.evidence.samples import CANARY


def assert_clean_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    exif = image.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert set(exif) <= {0x0112}, dict(exif)  # orientation alone may stay
    for key in ("xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop", "Author",
                "Comment", "exif"):  # fmt: skip
        if key == "exif" and set(exif) == {0x0112}:
            continue
        assert key not in image.info, key
    assert not getattr(image, "text", {})
    assert CANARY.encode() not in data
    assert b"Canon" not in data and b"xmpmeta" not in data
    return image


def same_pixels(a: bytes, b: bytes) -> bool:
    first, second = Image.open(io.BytesIO(a)), Image.open(io.BytesIO(b))
    return first.size == second.size and first.tobytes() == second.tobytes()


@pytest.mark.parametrize(
    ("make", "media_type"),
    [(samples.jpeg, "image/jpeg"), (samples.png, "image/png"), (samples.webp, "image/webp")],
    ids=["jpeg", "png", "webp"],
)
def test_images_lose_gps_exif_xmp_and_text(make: object, media_type: str) -> None:
    original = make()  # type: ignore[operator]
    before = Image.open(io.BytesIO(original))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture does carry GPS
    copy = prepare(original, media_type)
    assert copy.status == STRIPPED and copy.media_type == media_type
    assert {"EXIF", "GPS location", "XMP"} <= set(copy.removed)
    assert_clean_image(copy.data)
    assert same_pixels(original, copy.data)
    assert copy.facts == {"width": 64, "height": 48}


def test_jpeg_report_names_each_kind_of_metadata() -> None:
    _, removed = strip_jpeg(samples.jpeg())
    assert removed == [
        "IPTC/Photoshop data", "EXIF", "GPS location", "camera make and model", "software",
        "author and copyright", "dates", "XMP", "comment", "data after the image",
    ]  # fmt: skip


def test_png_report_names_each_kind_of_metadata() -> None:
    _, removed = strip_png(samples.png())
    assert "modification time" in removed and "text (Author)" in removed
    assert "text (Comment)" in removed and "data after the image" in removed


def test_jpeg_orientation_is_kept_alone() -> None:
    copy = prepare(samples.jpeg(orientation=6), "image/jpeg")
    image = assert_clean_image(copy.data)
    assert dict(image.getexif()) == {0x0112: 6}


def test_jpeg_thumbnails_go() -> None:
    image = samples.picture((320, 240))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=samples.exif())
    data = out.getvalue()
    # Pillow does not write EXIF thumbnails; a JFIF thumbnail can be written by hand.
    jfif_thumb = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + b"\xff\x00\x00"
    segment = b"\xff\xe0" + (len(jfif_thumb) + 2).to_bytes(2, "big") + jfif_thumb
    data = data[:2] + segment + data[2:]
    cleaned, removed = strip_jpeg(data)
    assert "JFIF thumbnail" in removed
    assert b"\xff\x00\x00" not in cleaned[:40]
    assert same_pixels(data, cleaned)


def test_progressive_jpeg_keeps_every_scan() -> None:
    out = io.BytesIO()
    samples.picture((200, 120)).save(out, "JPEG", progressive=True, exif=samples.exif())
    cleaned, _ = strip_jpeg(out.getvalue())
    assert cleaned.count(b"\xff\xda") == out.getvalue().count(b"\xff\xda") > 1
    assert same_pixels(out.getvalue(), cleaned)


def test_webp_flags_no_longer_announce_metadata() -> None:
    cleaned, removed = strip_webp(samples.webp())
    assert cleaned[12:16] == b"VP8X" and cleaned[20] & 0x2C == 0
    assert "EXIF" in removed and "XMP" in removed
    assert int.from_bytes(cleaned[4:8], "little") == len(cleaned) - 8


def test_pdf_loses_author_info_and_xmp_also_in_embedded_images() -> None:
    original = samples.pdf()
    info, xmp = samples.pdf_metadata(original)
    assert info and info.get("/Author") == CANARY and xmp is not None
    copy = prepare(original, "application/pdf")
    assert copy.status == STRIPPED
    assert samples.pdf_metadata(copy.data) == (None, None)
    assert CANARY.encode() not in copy.data and b"Zqxcanarytitle" not in copy.data
    assert b"Exif" not in copy.data and b"xmpmeta" not in copy.data
    assert "document info (Author, Creator, Producer, Title)" in copy.removed
    assert "GPS location in an embedded image" in copy.removed


def test_an_image_declaring_a_huge_size_is_refused() -> None:
    with pytest.raises(Refused, match="too large to open safely"):
        prepare(samples.png_bomb(), "image/png")
    with pytest.raises(Refused, match="5000 x 5000 pixels"):
        prepare(samples.png_bomb(5_000, 5_000), "image/png", max_pixels=1_000_000)


def test_text_is_kept_as_it_is_and_other_files_get_no_shared_copy() -> None:
    page = b"<html><script>alert(document.cookie)</script></html>"
    assert prepare(page, "text/html") == prepare(page, "text/html")
    kept = prepare(page, "text/html")
    assert (kept.status, kept.data) == (KEPT, page)
    other = prepare(b"\x00\x01 binary", "application/octet-stream")
    assert (other.status, other.data) == (NONE, b"")
    archive = prepare(samples.zipped([("a.txt", b"a")]), "application/zip")
    assert archive.status == NONE and archive.facts == {"entries": 1}


def test_a_zip_bomb_is_refused_by_prepare() -> None:
    with pytest.raises(Refused, match="expand"):
        prepare(samples.zip_bomb(200), "application/zip")


def test_a_zip_bomb_hidden_behind_an_image_is_refused() -> None:
    polyglot = samples.jpeg() + samples.zip_bomb(200)
    with pytest.raises(Refused, match="hides a zip archive that would expand"):
        prepare(polyglot, "image/jpeg")
    # An honest zip behind an image passes; the shared copy drops it with the trailer.
    copy = prepare(samples.jpeg() + samples.zipped([("a.txt", b"a")]), "image/jpeg")
    assert copy.status == STRIPPED and b"PK" not in copy.data[-100:]
    # Bytes that only look like a zip's end record are not a zip.
    assert prepare(b"notes PK\x05\x06 and more", "text/plain").status == KEPT


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"\xff\xd8\xff\xe1\xff\xffshort", "image/jpeg"),
        (samples.png()[:60], "image/png"),
        (b"RIFF\xff\xff\xff\x00WEBPVP8X", "image/webp"),
        (b"%PDF-1.4 not really", "application/pdf"),
    ],
    ids=["jpeg", "png", "webp", "pdf"],
)
def test_damaged_files_get_no_shared_copy(data: bytes, media_type: str) -> None:
    copy = prepare(data, media_type)
    assert copy.status == NONE and copy.data == b""
    assert "could not be read" in copy.note
