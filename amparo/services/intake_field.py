"""The field side of intake: a partner's machine, without the vault, builds sealed bundles.

The device key (an Ed25519 seed) lives in the partner's configuration directory
(``AMPARO_CONFIG_DIR``, else the platform's, e.g. ``~/.config/amparo``), readable by its owner
only. :func:`build_bundle` reads the report's files into memory, seals everything to the
organisation's intake public key and signs the result; it writes no plaintext anywhere. The
one file written is the bundle, through a temporary name in the same directory, so a crash
leaves no half bundle. Once sealed, this machine cannot read the bundle again either: only
the organisation's private key opens it.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amparo.errors import ValidationError, VaultError
from amparo.security import intake_keys as ik
from amparo.security.intake_bundle import Bundle, SubmissionFile, pack_bundle, pack_submission
from amparo.services.intake import (
    MAX_FILES,
    MAX_SUBMISSION_BYTES,
    clean_answers,
    hash_receipt,
    new_receipt_code,
)

__all__ = [
    "BuiltBundle",
    "build_bundle",
    "config_dir",
    "device_key",
    "load_device_seed",
    "shred_file",
    "write_bundle",
]

DEVICE_FILE = "device.key"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("AMPARO_CONFIG_DIR"):
        return Path(env["AMPARO_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "amparo"


def device_key(directory: Path, *, create: bool = True) -> str:
    """This machine's device public key as text, creating the key on first use."""
    path = directory / DEVICE_FILE
    if not path.exists():
        if not create:
            raise VaultError(f"no device key in {directory}: run 'amparo intake device-key'")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        seed = ik.new_device_seed()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"amparo-device-seed:" + base64.b64encode(seed) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    return ik.format_key(ik.verify_key_of(load_device_seed(directory)), ik.DEVICE_PREFIX)


def load_device_seed(directory: Path) -> bytes:
    path = directory / DEVICE_FILE
    try:
        text = path.read_bytes().strip()
    except FileNotFoundError:
        raise VaultError(f"no device key in {directory}: run 'amparo intake device-key'") from None
    prefix = b"amparo-device-seed:"
    if not text.startswith(prefix):
        raise VaultError(f"{path}: not an Amparo device key")
    seed = base64.b64decode(text[len(prefix) :])
    if len(seed) != ik.KEY_BYTES:
        raise VaultError(f"{path}: not an Amparo device key")
    return seed


@dataclass(frozen=True)
class BuiltBundle:
    submission_id: str
    receipt_code: str
    data: bytes


def build_bundle(
    to: str, answers: Mapping[str, Any], files: Sequence[tuple[str, bytes]], seed: bytes
) -> BuiltBundle:
    """Seal and sign one report for the organisation whose intake key is ``to``."""
    from amparo.evidence.names import display_name
    from amparo.evidence.sniff import sniff

    public = ik.parse_key(to)
    cleaned = clean_answers(answers)
    if len(files) > MAX_FILES:
        raise ValidationError("files", f"send at most {MAX_FILES} files")
    if sum(len(data) for _, data in files) > MAX_SUBMISSION_BYTES:
        raise ValidationError("files", f"are larger than {MAX_SUBMISSION_BYTES} bytes together")
    packed = []
    for name, data in files:
        if not data:
            raise ValidationError("files", f"'{display_name(name)}' is empty")
        packed.append(SubmissionFile(name=display_name(name), media_type=sniff(data), data=data))
    submission_id = secrets.token_hex(16)
    device = ik.verify_key_of(seed)
    code = new_receipt_code()
    payload = pack_submission(
        {"id": submission_id, "channel": "bundle", "device": device.hex(), **cleaned}, packed
    )
    sealed = ik.seal_to(public, payload)
    bundle = Bundle(submission_id=submission_id, to=public, device=device,
                    receipt_hash=hash_receipt(code), sealed=sealed)  # fmt: skip
    return BuiltBundle(submission_id, code, pack_bundle(bundle, seed))


def write_bundle(path: Path, data: bytes) -> None:
    """Write the bundle whole or not at all (temporary name in the same directory)."""
    temporary = path.with_name(f".{path.name}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def shred_file(path: Path) -> None:
    """Overwrite a file with zeros, then remove it: best effort (copy-on-write file systems,
    SSD wear levelling and backups may keep the old blocks)."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.write(b"\x00" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
