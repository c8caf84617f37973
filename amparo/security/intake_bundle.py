"""The two wire formats of intake: a submission's plaintext, and an offline field bundle.

**Submission plaintext** (what a sealed box holds)::

    b"AMPI1" | u32 header length | header (UTF-8 JSON) | file bytes, one after another

The header holds the answers and, under ``files``, each file's name, type, size and SHA-256,
in the order their bytes follow. Files travel as raw bytes (no base64) so the size cap means
what it says.

**Field bundle** (``amparo intake submit`` writes one; ``amparo intake import`` reads it)::

    b"AMPARO-BUNDLE-1\\n" | u32 header length | header (JSON) | u64 sealed length | sealed box
    | Ed25519 signature of every byte before it

The header names the submission id, the intake public key it is sealed to, the device key
that signed it and the hash of the receipt code. The sealed box repeats the submission id and
device key inside, so a bundle re-signed by another device, or a sealed box moved into
another bundle, is noticed when it is opened. A bundle cut short, with bytes added, or with
any byte changed fails to parse or to verify; there is no partial reading.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass
from typing import Any

from amparo.errors import IntegrityError
from amparo.security.intake_keys import KEY_BYTES, SIGNATURE_BYTES, sign, verify

__all__ = [
    "BUNDLE_MAGIC",
    "Bundle",
    "SubmissionFile",
    "pack_bundle",
    "pack_submission",
    "read_bundle",
    "unpack_submission",
]

PAYLOAD_MAGIC = b"AMPI1"
BUNDLE_MAGIC = b"AMPARO-BUNDLE-1\n"
MAX_HEADER = 1 << 20  # 1 MiB of JSON: far more than the answers of a form
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class SubmissionFile:
    name: str
    media_type: str
    data: bytes
    metadata_found: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def pack_submission(answers: dict[str, Any], files: list[SubmissionFile]) -> bytes:
    header = dict(answers)
    header["files"] = [
        {"name": f.name, "media_type": f.media_type, "size": len(f.data), "sha256": f.sha256,
         "metadata_found": list(f.metadata_found)}
        for f in files
    ]  # fmt: skip
    encoded = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"".join([PAYLOAD_MAGIC, struct.pack(">I", len(encoded)), encoded,
                     *(f.data for f in files)])  # fmt: skip


def unpack_submission(payload: bytes) -> tuple[dict[str, Any], list[SubmissionFile]]:
    """Answers and files of an opened submission; IntegrityError if it is not one whole."""
    if payload[: len(PAYLOAD_MAGIC)] != PAYLOAD_MAGIC or len(payload) < len(PAYLOAD_MAGIC) + 4:
        raise IntegrityError("the opened submission is not in Amparo's format")
    at = len(PAYLOAD_MAGIC)
    (size,) = struct.unpack(">I", payload[at : at + 4])
    at += 4
    if size > MAX_HEADER or at + size > len(payload):
        raise IntegrityError("the opened submission is truncated")
    try:
        header = json.loads(payload[at : at + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise IntegrityError("the opened submission's header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("files", []), list):
        raise IntegrityError("the opened submission's header is malformed")
    at += size
    files = []
    for entry in header.pop("files", []):
        length = int(entry.get("size", -1)) if isinstance(entry, dict) else -1
        if length < 0 or at + length > len(payload):
            raise IntegrityError("the opened submission is truncated")
        data = payload[at : at + length]
        at += length
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise IntegrityError("a file of the opened submission does not match its hash")
        files.append(SubmissionFile(
            name=str(entry.get("name", "file")), media_type=str(entry.get("media_type", "")),
            data=data, metadata_found=tuple(str(x) for x in entry.get("metadata_found", [])),
        ))  # fmt: skip
    if at != len(payload):
        raise IntegrityError("the opened submission has bytes after its last file")
    return header, files


@dataclass(frozen=True, slots=True)
class Bundle:
    submission_id: str
    to: bytes  # the intake public key it is sealed to
    device: bytes  # the Ed25519 key that signed it
    receipt_hash: str | None
    sealed: bytes


def pack_bundle(bundle: Bundle, device_seed: bytes) -> bytes:
    header = {"v": 1, "submission_id": bundle.submission_id, "to": bundle.to.hex(),
              "device": bundle.device.hex(), "receipt_hash": bundle.receipt_hash}  # fmt: skip
    encoded = json.dumps(header, separators=(",", ":")).encode("ascii")
    body = b"".join([BUNDLE_MAGIC, struct.pack(">I", len(encoded)), encoded,
                     struct.pack(">Q", len(bundle.sealed)), bundle.sealed])  # fmt: skip
    return body + sign(device_seed, body)


def read_bundle(data: bytes, name: str = "bundle") -> Bundle:
    """Parse and verify a bundle against the device key it names (whether that device is
    registered is the importer's question). IntegrityError naming the file otherwise."""

    def bad(why: str) -> IntegrityError:
        return IntegrityError(f"{name}: {why}; nothing was imported")

    if data[: len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
        raise bad("not an Amparo field bundle")
    at = len(BUNDLE_MAGIC)
    if len(data) < at + 4:
        raise bad("truncated")
    (size,) = struct.unpack(">I", data[at : at + 4])
    at += 4
    if size > MAX_HEADER or len(data) < at + size + 8:
        raise bad("truncated")
    try:
        header = json.loads(data[at : at + size].decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad("its header is damaged") from None
    at += size
    (sealed_size,) = struct.unpack(">Q", data[at : at + 8])
    at += 8
    end = at + sealed_size
    if len(data) < end + SIGNATURE_BYTES:
        raise bad("truncated")
    if len(data) > end + SIGNATURE_BYTES:
        raise bad("has bytes after its signature")
    if not isinstance(header, dict) or header.get("v") != 1:
        raise bad("its header is of an unknown version")
    try:
        submission_id = str(header["submission_id"])
        to = bytes.fromhex(str(header["to"]))
        device = bytes.fromhex(str(header["device"]))
        receipt = header.get("receipt_hash")
    except (KeyError, ValueError):
        raise bad("its header is damaged") from None
    if not ID_PATTERN.match(submission_id) or len(to) != KEY_BYTES or len(device) != KEY_BYTES:
        raise bad("its header is damaged")
    if receipt is not None and not (isinstance(receipt, str) and HASH_PATTERN.match(receipt)):
        raise bad("its header is damaged")
    if not verify(device, data[:end], data[end:]):
        raise bad("its signature does not verify (altered after it was signed)")
    return Bundle(submission_id=submission_id, to=to, device=device, receipt_hash=receipt,
                  sealed=data[at:end])  # fmt: skip
