"""A passphrase-sealed, chunked, authenticated byte stream for whole-registry archives.

Argon2id turns the export passphrase into a 256-bit key; the plaintext is cut into chunks
of ``CHUNK_BYTES`` and each is sealed with AES-256-GCM (the STREAM construction of Hoang,
Reyhanitabar, Rogaway and Vizár): the nonce is a random per-archive prefix, the chunk
counter and a last-chunk flag, and every chunk authenticates the header. So a chunk that is
changed, dropped, repeated, reordered or moved from another archive fails, and an archive cut
short anywhere (even at a chunk boundary) lacks its flagged last chunk and is refused. The
check tag tells a wrong passphrase (or a changed header) apart from a changed chunk.

Layout::

    header  = MAGIC(8) | version(1) | t(4) | m_kib(4) | p(1) | salt(16) | prefix(7)
    check   = AES-GCM(key, prefix|FFFFFFFF|02, b"", aad=header)   (a 16-byte tag)
    chunk   = length(4, big-endian, of the sealed chunk) | AES-GCM(key, prefix|n(4)|last(1),
              plaintext, aad=header)

Readers must treat nothing as good until :meth:`ArchiveReader.chunks` has returned the last
chunk: callers verify the whole stream once before writing anything.
"""

from __future__ import annotations

import os
import struct
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from amparo.errors import IntegrityError, WrongPassphrase
from amparo.security.kdf import VAULT_FLOOR, KdfParams, derive_key
from amparo.security.keyfile import MAX_KDF_MEMORY_KIB, MAX_KDF_TIME

__all__ = ["CHUNK_BYTES", "ArchiveReader", "ArchiveWriter"]

MAGIC = b"AMPARCH\x00"
VERSION = 1
SALT_BYTES = 16
PREFIX_BYTES = 7  # + 4 counter + 1 flag = the 12-byte GCM nonce
CHUNK_BYTES = 1024 * 1024  # 1 MiB of plaintext per chunk: small memory, small tag overhead
TAG_BYTES = 16
HEADER = struct.Struct(f">{len(MAGIC)}sBIIB{SALT_BYTES}s{PREFIX_BYTES}s")
LENGTH = struct.Struct(">I")
MAX_CHUNKS = 2**32 - 1  # the counter's range


def _key(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    # NFC, as for the vault passphrase: typed on another keyboard it still opens.
    return derive_key(unicodedata.normalize("NFC", passphrase).encode("utf-8"), salt, kdf)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _check_nonce(prefix: bytes) -> bytes:
    # Counter 2**32-1 with flag 2: no chunk ever uses this nonce.
    return prefix + struct.pack(">IB", MAX_CHUNKS, 2)


class ArchiveWriter:
    """Write plaintext with :meth:`write`; :meth:`close` seals the last chunk (required)."""

    def __init__(self, out: BinaryIO, passphrase: str, kdf: KdfParams = VAULT_FLOOR) -> None:
        if len(passphrase) < 8:
            raise ValueError("the export passphrase must have at least 8 characters")
        salt, self._prefix = os.urandom(SALT_BYTES), os.urandom(PREFIX_BYTES)
        self._header = HEADER.pack(
            MAGIC, VERSION, kdf.time_cost, kdf.memory_kib, kdf.parallelism, salt, self._prefix
        )
        self._cipher = AESGCM(_key(passphrase, salt, kdf))
        self._out = out
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        out.write(self._header)
        out.write(self._cipher.encrypt(_check_nonce(self._prefix), b"", self._header))

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:  # keep at least one byte back for the last
            self._emit(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]

    def _emit(self, plaintext: bytes, *, last: bool) -> None:
        if self._counter >= MAX_CHUNKS:
            raise ValueError("archive too large for one stream")
        nonce = _nonce(self._prefix, self._counter, last)
        sealed = self._cipher.encrypt(nonce, plaintext, self._header)
        self._out.write(LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


class ArchiveReader:
    """Opens a stream written by :class:`ArchiveWriter`; refuses it whole on any fault."""

    def __init__(self, source: BinaryIO, passphrase: str) -> None:
        raw = source.read(HEADER.size)
        if len(raw) != HEADER.size or raw[: len(MAGIC)] != MAGIC:
            raise IntegrityError("not an Amparo archive (bad header)")
        _magic, version, t, m, p, salt, self._prefix = HEADER.unpack(raw)
        if version != VERSION:
            raise IntegrityError(f"archive format version {version} is not supported")
        # Bounds as for key files: a crafted header must not make us allocate 100 GiB.
        if not (1 <= p <= 16 and 1 <= t <= MAX_KDF_TIME and 8 * p <= m <= MAX_KDF_MEMORY_KIB):
            raise IntegrityError("archive header has impossible Argon2 parameters")
        self.kdf = KdfParams(time_cost=t, memory_kib=m, parallelism=p)
        self._header = raw
        self._cipher = AESGCM(_key(passphrase, salt, self.kdf))
        check = source.read(TAG_BYTES)
        try:
            self._cipher.decrypt(_check_nonce(self._prefix), check, raw)
        except InvalidTag:
            raise WrongPassphrase(
                "the export passphrase does not open this archive (or its header was altered)"
            ) from None
        self._source = source

    def chunks(self) -> Iterator[bytes]:
        """Plaintext chunks in order; raises IntegrityError at the first bad or missing one."""
        counter = 0
        while True:
            length_bytes = self._source.read(LENGTH.size)
            if len(length_bytes) != LENGTH.size:
                raise IntegrityError("archive is truncated (its last chunk is missing)")
            (length,) = LENGTH.unpack(length_bytes)
            if not TAG_BYTES <= length <= CHUNK_BYTES + TAG_BYTES:
                raise IntegrityError(f"archive chunk {counter} has an impossible length")
            sealed = self._source.read(length)
            if len(sealed) != length:
                raise IntegrityError("archive is truncated (a chunk is cut short)")
            plaintext, last = self._open(counter, sealed)
            yield plaintext
            if last:
                if self._source.read(1):
                    raise IntegrityError("archive has data after its last chunk")
                return
            counter += 1

    def _open(self, counter: int, sealed: bytes) -> tuple[bytes, bool]:
        for last in (False, True):
            try:
                return self._cipher.decrypt(_nonce(self._prefix, counter, last), sealed,
                                            self._header), last  # fmt: skip
            except InvalidTag:
                continue
        raise IntegrityError(f"archive chunk {counter} failed authentication (altered)")
