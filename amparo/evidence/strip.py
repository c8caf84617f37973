"""Shared copies without metadata: pure functions from the original's bytes to a copy's.

Images are cleaned at the level of their container, never re-encoded, so the pixels of the
shared copy are exactly those of the original (no generation loss, nothing for a court to
question). Each format keeps only the parts needed to draw the picture (an allow-list, so
metadata of kinds nobody has invented yet is dropped too):

- JPEG: SOI, JFIF header (its thumbnail removed), Adobe colour header, quantisation and
  Huffman tables, frame and scan headers, the image data, EOI. Dropped: EXIF (GPS, camera,
  serial numbers, dates, thumbnail), XMP (also extended), IPTC/Photoshop, ICC profile,
  FlashPix, MPF, comments, every other APPn segment and anything after the image (phones
  append preview images there). EXIF orientation, the one tag that changes how the picture
  is drawn, is written back alone when it is not "upright".
- PNG: IHDR, PLTE, IDAT, IEND, transparency, colour (gAMA, cHRM, sRGB, sBIT, cICP, mDCV,
  cLLI), bKGD, pHYs, animation (acTL, fcTL, fdAT) and any critical chunk a decoder needs.
  Dropped: eXIf, text chunks (tEXt, zTXt, iTXt, XMP among them), tIME, iCCP, C2PA and any
  other ancillary chunk, and data after IEND.
- WebP: VP8, VP8L, VP8X (its EXIF, XMP and ICC flags cleared), ALPH, ANIM, ANMF. Dropped:
  EXIF, XMP, ICCP, unknown chunks, data after the RIFF container.
- PDF (pypdf): the document information dictionary (author, creator, producer, title,
  subject, keywords, dates), XMP metadata streams of the document and of every page, image
  or font, PieceInfo (application private data), LastModified dates, the document ID, and
  EXIF/XMP inside embedded JPEG images. Earlier revisions (incremental updates) are dropped
  because only reachable objects are written.

Colour profiles are removed because they can name a device, a person or a tool; colours of
wide-gamut photos may look slightly duller in the shared copy. Text (plain text, saved web
pages) is kept as it is. Anything else gets no shared copy: only the original exists, and
only those allowed to read originals can download it.

``python -m amparo.evidence.strip`` runs :func:`prepare` in a child process under resource
limits (see amparo.evidence.sandbox); call :func:`prepare` directly only on trusted input.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from amparo.evidence.archives import ArchiveRefused, check_appended_zip, check_archive
from amparo.evidence.sniff import ARCHIVE_TYPES, IMAGE_TYPES, TEXT_TYPES

__all__ = [
    "KEPT",
    "MAX_PIXELS",
    "NONE",
    "STRIPPED",
    "Malformed",
    "Refused",
    "SharedCopy",
    "prepare",
    "strip_jpeg",
    "strip_pdf",
    "strip_png",
    "strip_webp",
]

STRIPPED = "stripped"  # a shared copy with the metadata listed in ``removed`` taken out
KEPT = "kept"  # text kept as it is (served as an attachment, never rendered)
NONE = "none"  # Amparo cannot clean this kind of file: there is no shared copy

# 2**28 pixels: a 200-megapixel phone photo passes; a 100,000 x 100,000 PNG of zeros (a few
# hundred kilobytes that need 40 GB to draw) is refused.
MAX_PIXELS = 1 << 28
PILLOW_FORMATS = {
    "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF",
    "image/tiff": "TIFF", "image/bmp": "BMP",
}  # fmt: skip


class Refused(Exception):
    """The file must not be stored: a decompression or archive bomb. Says why, in words."""


class Malformed(Exception):
    """The file's structure could not be read, so its metadata cannot be removed."""


@dataclass(frozen=True)
class SharedCopy:
    status: str  # STRIPPED, KEPT or NONE
    data: bytes = b""
    media_type: str | None = None
    removed: tuple[str, ...] = ()
    note: str = ""  # why there is no shared copy
    facts: dict[str, Any] = field(default_factory=dict)  # non-sensitive: width, height, pages


def prepare(data: bytes, media_type: str, *, max_pixels: int = MAX_PIXELS) -> SharedCopy:
    """The shared copy of a file whose (sniffed) type is ``media_type``; raises Refused."""
    facts: dict[str, Any] = {}
    if media_type in ARCHIVE_TYPES:
        try:
            report = check_archive(data)
        except ArchiveRefused as exc:
            raise Refused(str(exc)) from None
        facts = {} if report is None else {"entries": report.entries}
        return SharedCopy(NONE, note="archives are kept as uploaded; Amparo does not clean "
                          "the files inside them", facts=facts)  # fmt: skip
    try:
        check_appended_zip(data)
    except ArchiveRefused as exc:
        raise Refused(f"hides a zip archive that {exc}") from None
    if media_type in TEXT_TYPES:
        return SharedCopy(KEPT, data, media_type)
    if media_type in IMAGE_TYPES:
        try:
            width, height = image_size(data, media_type, max_pixels)
        except Malformed as exc:
            return SharedCopy(NONE, note=f"the file's structure could not be read ({exc})")
        facts = {"width": width, "height": height}
    strippers = {
        "image/jpeg": strip_jpeg, "image/png": strip_png, "image/webp": strip_webp,
        "application/pdf": strip_pdf,
    }  # fmt: skip
    stripper = strippers.get(media_type)
    if stripper is None:
        return SharedCopy(NONE, note="Amparo cannot remove metadata from this kind of file",
                          facts=facts)  # fmt: skip
    try:
        cleaned, removed = stripper(data)
        if stripper(cleaned)[1]:  # cleaning the clean copy must find nothing more
            raise Malformed("metadata survived cleaning")
        size = (facts.get("width"), facts.get("height"))
        if media_type in IMAGE_TYPES and image_size(cleaned, media_type, max_pixels) != size:
            raise Malformed("the cleaned image does not open as the original did")
    except Malformed as exc:
        return SharedCopy(NONE, note=f"the file's structure could not be read ({exc})",
                          facts=facts)  # fmt: skip
    return SharedCopy(STRIPPED, cleaned, media_type, tuple(_unique(removed)), facts=facts)


def image_size(data: bytes, media_type: str, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Width and height from the header (no pixels decoded); refuses decompression bombs."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]]) as image:
                width, height = image.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused(_bomb_message(None, max_pixels)) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error) as exc:
            raise Malformed(f"not a readable image: {exc}") from None
    if width * height > max_pixels:
        raise Refused(_bomb_message((width, height), max_pixels))
    return width, height


def _bomb_message(size: tuple[int, int] | None, max_pixels: int) -> str:
    declared = "" if size is None else f" ({size[0]} x {size[1]} pixels)"
    return (
        f"is an image too large to open safely{declared}: at most {max_pixels} pixels "
        "(a decompression bomb?)"
    )


def _unique(labels: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def _printable(raw: bytes, limit: int = 40) -> str:
    text = raw[:limit].decode("latin-1")
    return "".join(ch if ch.isascii() and ch.isprintable() else "?" for ch in text)


# -- EXIF ---------------------------------------------------------------------------------
ORIENTATION = 0x0112
_EXIF_FACTS = (
    ((0x010F, 0x0110), None, "camera make and model"),
    ((0x0131,), None, "software"),
    ((0x013B, 0x8298), None, "author and copyright"),
    ((0x0132,), None, "dates"),
    ((0x9003, 0x9004), 0x8769, "dates"),
    ((0xA431, 0xA435, 0xA430), 0x8769, "camera serial number or owner"),
    ((0x927C,), 0x8769, "maker notes"),
)


def exif_facts(tiff: bytes) -> tuple[int, list[str]]:
    """Orientation and what kinds of things an EXIF block held (for the removal report)."""
    from PIL import ExifTags, Image

    exif = Image.Exif()
    labels = ["EXIF"]
    try:
        exif.load(tiff)
        if set(exif) <= {ORIENTATION} and not exif.get_ifd(ExifTags.IFD.IFD1):
            labels = []  # orientation alone says how to draw the picture, nothing more
        if exif.get_ifd(ExifTags.IFD.GPSInfo):
            labels.append("GPS location")
        if exif.get_ifd(ExifTags.IFD.IFD1):
            labels.append("EXIF thumbnail")
        for tags, ifd, label in _EXIF_FACTS:
            source = exif if ifd is None else exif.get_ifd(ifd)
            if any(tag in source for tag in tags):
                labels.append(label)
        orientation = exif.get(ORIENTATION, 1)
    except Exception:  # any unreadable EXIF is simply dropped whole
        return 1, labels
    return (orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1), labels


def _orientation_segment(orientation: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    payload = exif.tobytes()  # b"Exif\0\0" + a TIFF block with one tag
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


# -- JPEG ---------------------------------------------------------------------------------
_JPEG_APP_LABELS = {
    (0xE1, b"Exif\x00"): "EXIF",
    (0xE1, b"http://ns.adobe.com/xap/1.0/\x00"): "XMP",
    (0xE1, b"http://ns.adobe.com/xmp/extension/\x00"): "XMP",
    (0xE2, b"ICC_PROFILE\x00"): "ICC profile",
    (0xE2, b"FPXR\x00"): "FlashPix data",
    (0xE2, b"MPF\x00"): "multi-picture index",
    (0xED, b"Photoshop 3.0\x00"): "IPTC/Photoshop data",
    (0xE0, b"JFXX\x00"): "JFIF thumbnail",
}


def _jpeg_label(marker: int, payload: bytes) -> str | None:
    """Why a segment goes, or None to keep it (image structure)."""
    if marker == 0xFE:
        return "comment"
    if marker == 0xEE and payload.startswith(b"Adobe"):
        return None  # colour transform of CMYK/YCCK images: needed to draw them
    if 0xE0 <= marker <= 0xEF:
        for (app, prefix), label in _JPEG_APP_LABELS.items():
            if marker == app and payload.startswith(prefix):
                return label
        return f"APP{marker - 0xE0} segment"
    return None


def _entropy_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data after a scan header ends (the next real marker)."""
    n = len(data)
    while True:
        i = data.find(b"\xff", pos)
        if i < 0 or i + 1 >= n:
            return n
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte or restart
            pos = i + 2
        elif following == 0xFF:  # fill bytes before a marker
            pos = i + 1
        else:
            return i


def strip_jpeg(data: bytes) -> tuple[bytes, list[str]]:
    if not data.startswith(b"\xff\xd8"):
        raise Malformed("not a JPEG")
    n, pos = len(data), 2
    kept: list[bytes] = []
    removed: list[str] = []
    orientation = 1
    ended = False
    while pos < n:
        if data[pos] != 0xFF:
            raise Malformed(f"expected a marker at byte {pos}")
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            ended = True
            break
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
            kept.append(bytes((0xFF, marker)))
            continue
        if pos + 2 > n:
            raise Malformed("truncated segment")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > n:
            raise Malformed("truncated segment")
        payload = data[pos + 2 : pos + length]
        segment = bytes((0xFF, marker)) + data[pos : pos + length]
        pos += length
        if marker == 0xDA:  # start of scan: the compressed picture follows
            end = _entropy_end(data, pos)
            kept.append(segment + data[pos:end])
            pos = end
            continue
        if marker == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            if payload[12:14] != b"\x00\x00":
                removed.append("JFIF thumbnail")
            header = payload[:12] + b"\x00\x00"
            kept.append(b"\xff\xe0" + struct.pack(">H", len(header) + 2) + header)
            continue
        label = _jpeg_label(marker, payload)
        if label is None:
            kept.append(segment)
            continue
        if label == "EXIF":
            orientation, labels = exif_facts(payload[6:])
            removed.extend(labels)
        else:
            removed.append(label)
    if ended and data[pos:]:
        removed.append("data after the image")
    if orientation != 1:
        at = 1 if kept and kept[0].startswith(b"\xff\xe0") else 0
        kept.insert(at, _orientation_segment(orientation))
    out = b"\xff\xd8" + b"".join(kept) + (b"\xff\xd9" if ended else b"")
    return out, removed


# -- PNG ----------------------------------------------------------------------------------
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEEP = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
     b"pHYs", b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCV", b"cLLI"}
)  # fmt: skip
_PNG_LABELS = {
    b"tIME": "modification time",
    b"iCCP": "ICC profile",
    b"caBX": "content credentials (C2PA)",
    b"dSIG": "digital signature",
}


def strip_png(data: bytes) -> tuple[bytes, list[str]]:
    if not data.startswith(PNG_SIGNATURE):
        raise Malformed("not a PNG")
    n, pos = len(data), len(PNG_SIGNATURE)
    kept: list[bytes] = []
    removed: list[str] = []
    ended = False
    while pos + 12 <= n:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > n or not kind.isalpha():
            raise Malformed("truncated or damaged chunk")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(kind + body) != crc:
            raise Malformed(f"chunk {_printable(kind)} fails its checksum")
        chunk = data[pos:end]
        pos = end
        # Critical chunks (upper-case first letter) are needed to draw the image: kept.
        if kind in PNG_KEEP or kind[:1].isupper():
            kept.append(chunk)
            if kind == b"IEND":
                ended = True
                break
            continue
        if kind == b"eXIf":
            removed.extend(exif_facts(body)[1])
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword = body.split(b"\x00", 1)[0]
            if keyword == b"XML:com.adobe.xmp":
                removed.append("XMP")
            elif keyword.startswith(b"Raw profile type"):
                removed.append(f"embedded profile ({_printable(keyword[17:])})")
            else:
                removed.append(f"text ({_printable(keyword)})")
        else:
            removed.append(_PNG_LABELS.get(kind, f"{_printable(kind)} chunk"))
    if not ended:
        raise Malformed("no IEND chunk")
    if data[pos:]:
        removed.append("data after the image")
    return PNG_SIGNATURE + b"".join(kept), removed


# -- WebP ---------------------------------------------------------------------------------
WEBP_KEEP = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"})
_WEBP_LABELS = {b"XMP ": "XMP", b"ICCP": "ICC profile"}
VP8X_ICC, VP8X_EXIF, VP8X_XMP = 0x20, 0x08, 0x04


def strip_webp(data: bytes) -> tuple[bytes, list[str]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Malformed("not a WebP")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data) or riff_size < 4:
        raise Malformed("truncated RIFF container")
    pos = 12
    kept: list[bytes] = []
    removed: list[str] = []
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = data[pos + 8 : pos + 8 + size]
        if pos + 8 + size > end:
            raise Malformed("truncated chunk")
        pos += 8 + size + (size & 1)
        if kind == b"VP8X" and body:
            flags = body[0] & ~(VP8X_ICC | VP8X_EXIF | VP8X_XMP) & 0xFF
            body = bytes((flags,)) + body[1:]
        if kind in WEBP_KEEP:
            kept.append(kind + struct.pack("<I", size) + body + b"\x00" * (size & 1))
        elif kind == b"EXIF":
            tiff = body[6:] if body.startswith(b"Exif\x00\x00") else body
            removed.extend(exif_facts(tiff)[1])
        else:
            removed.append(_WEBP_LABELS.get(kind, f"{_printable(kind)} chunk"))
    if pos < end - 1 or data[end:]:
        removed.append("data after the image")
    chunks = b"".join(kept)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks, removed


# -- PDF ----------------------------------------------------------------------------------
def strip_pdf(data: bytes) -> tuple[bytes, list[str]]:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Malformed("the PDF is encrypted with a password")
        removed: list[str] = []
        info = reader.trailer.get("/Info")
        keys = sorted(str(k).lstrip("/") for k in (info.get_object() if info else {}))
        if keys:
            removed.append(f"document info ({', '.join(_printable(k.encode()) for k in keys)})")
        if "/ID" in reader.trailer:
            removed.append("document ID")
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None
        writer._ID = None
        removed.extend(_clean_pdf_objects(writer))
        # Unreferenced objects (the old info dictionary and XMP among them) are still written
        # unless removed here.
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
    except LimitReachedError as exc:
        raise Refused(f"is a PDF whose streams expand too far ({exc})") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, struct.error, zlib.error) as exc:  # fmt: skip
        raise Malformed(f"not a readable PDF: {exc}") from None
    return out.getvalue(), removed


def _clean_pdf_objects(writer: Any) -> list[str]:
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    removed: list[str] = []
    root = writer._root_object
    if NameObject("/Metadata") in root:
        del root[NameObject("/Metadata")]
        removed.append("XMP")
    for obj in writer._objects:
        if not isinstance(obj, DictionaryObject):
            continue
        for key, label in (("/Metadata", "XMP in pages, images or fonts"),
                           ("/PieceInfo", "application private data (PieceInfo)"),
                           ("/LastModified", "modification dates")):  # fmt: skip
            if NameObject(key) in obj:
                del obj[NameObject(key)]
                removed.append(label)
        if isinstance(obj, StreamObject) and obj.get("/Subtype") == "/Image":
            filters = obj.get("/Filter")
            if filters == "/DCTDecode" or (isinstance(filters, list) and filters == ["/DCTDecode"]):
                try:
                    cleaned, labels = strip_jpeg(obj._data)
                except Malformed:
                    continue
                if labels:
                    obj._data = cleaned
                    removed.extend(f"{label} in an embedded image" for label in labels)
    return removed


# -- the child process --------------------------------------------------------------------
def main() -> int:
    """Read ``<media type>\\n<bytes>`` on stdin; write a JSON line and the copy on stdout.

    Limits are set first, before a byte of the file is parsed, by the child itself: the
    parent may be a threaded web server, where ``preexec_fn`` is unsafe.
    """
    from amparo.evidence.sandbox import apply_limits

    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    apply_limits(limits)
    from PIL import Image

    max_pixels = int(limits.get("max_pixels", MAX_PIXELS))
    Image.MAX_IMAGE_PIXELS = max_pixels
    raw = sys.stdin.buffer.read()
    media_type, _, data = raw.partition(b"\n")
    header: dict[str, Any]
    try:
        copy = prepare(data, media_type.decode("ascii"), max_pixels=max_pixels)
        header = {
            "status": copy.status, "media_type": copy.media_type,
            "removed": list(copy.removed), "note": copy.note, "facts": copy.facts,
        }  # fmt: skip
        body = copy.data
    except Refused as exc:
        header, body = {"refused": str(exc)}, b""
    out = sys.stdout.buffer
    out.write(json.dumps(header).encode() + b"\n")
    out.write(body)
    out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
