"""Sample files made here, with Pillow and pypdf, carrying the metadata a shared copy must
lose: GPS position, camera, author, XMP, comments, thumbnails. Nothing comes from outside."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib

from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

CANARY = "Zqxcanaryauthor"
XMP = (
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="4,35.2N">'
    f"<dc:creator><rdf:Seq><rdf:li>{CANARY}</rdf:li></rdf:Seq></dc:creator>"
    '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
GPS = {1: "N", 2: (4.0, 35.0, 12.5), 3: "W", 4: (74.0, 4.0, 51.0), 6: 2600.0}


def exif(orientation: int | None = None, thumbnail: bool = False) -> Image.Exif:
    data = Image.Exif()
    data[0x010F] = "Canon"  # make
    data[0x0110] = "Canon EOS 5D"  # model
    data[0x013B] = CANARY  # artist
    data[0x0131] = "Camera firmware 1.0"
    data[0x0132] = "2026:10:31 14:00:00"
    data[0x8825] = GPS
    if orientation is not None:
        data[0x0112] = orientation
    return data


def picture(size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(0, size[0], 4):
        image.putpixel((x, x % size[1]), (0, 0, 255))
    return image


def jpeg(orientation: int | None = None, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    picture(size).save(out, "JPEG", exif=exif(orientation), xmp=XMP.encode(),
                       comment=CANARY.encode(), quality=90)  # fmt: skip
    data = out.getvalue()
    # A phone-style trailer (a preview image after the end marker) and an IPTC segment.
    iptc = b"Photoshop 3.0\x00" + CANARY.encode()
    segment = b"\xff\xed" + struct.pack(">H", len(iptc) + 2) + iptc
    return data[:2] + segment + data[2:] + b"\xff\xd8trailing preview " + CANARY.encode()


def png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CANARY)
    info.add_text("Comment", "taken near the river", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP)
    out = io.BytesIO()
    picture().save(out, "PNG", exif=exif(), pnginfo=info)
    data = out.getvalue()
    tIME = _png_chunk(b"tIME", struct.pack(">HBBBBB", 2026, 10, 31, 14, 0, 0))
    return data[:33] + tIME + data[33:] + b"after the end " + CANARY.encode()


def webp() -> bytes:
    out = io.BytesIO()
    picture().save(out, "WEBP", exif=exif(), xmp=XMP.encode(), lossless=True)
    return out.getvalue()


def pdf(with_image: bool = True) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": CANARY, "/Title": "Zqxcanarytitle", "/Creator": "Scanner"})
    writer.xmp_metadata = XMP.encode()
    if with_image:
        image = StreamObject()
        image._data = jpeg()
        image.update({
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(64), NameObject("/Height"): NumberObject(48),
            NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): NameObject("/DCTDecode"),
        })  # fmt: skip
        xobjects = DictionaryObject({NameObject("/Im0"): writer._add_object(image)})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): xobjects})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_metadata(data: bytes) -> tuple[object, object]:
    reader = PdfReader(io.BytesIO(data))
    return reader.metadata, reader.xmp_metadata


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG that declares a huge picture in a few hundred bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 10_000, 9)) + _png_chunk(b"IEND", b"")
    )  # fmt: skip


def zipped(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb(megabytes: int = 200) -> bytes:
    """A few hundred kilobytes that expand to ``megabytes`` of zeros (ratio about 1000)."""
    out = io.BytesIO()
    block = b"\x00" * (1 << 20)
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(megabytes):
            member.write(block)
    return out.getvalue()


def gzip_bomb(megabytes: int = 50) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\x00" * (1 << 20)
    return b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)
