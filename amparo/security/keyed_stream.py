"""A chunked, authenticated byte stream sealed under a random key (for vault backups).

The STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár) with AES-256-GCM: the plaintext
is cut into chunks of ``CHUNK_BYTES``; chunk ``n`` is sealed with the nonce
``prefix(7) | n(4) | last(1)`` and the caller's header as associated data. A chunk that is
changed, dropped, repeated, reordered or taken from another stream fails; a stream cut short
anywhere, even at a chunk boundary, lacks its flagged last chunk and is refused, and so is one
with bytes after it. The key is random per stream (the caller wraps it), so counter nonces
never repeat under one key.

Unlike amparo.security.archive_stream (whose key comes from a passphrase through Argon2id),
the key here is given: a backup's key is wrapped under a subkey of the vault's master key.

Layout after the caller's header: ``prefix(7)`` then chunks of ``length(4) | sealed``.
Readers must treat nothing as good until :meth:`StreamReader.read` has returned ``b""``.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from amparo.errors import IntegrityError

__all__ = ["CHUNK_BYTES", "PREFIX_BYTES", "StreamReader", "StreamWriter"]

PREFIX_BYTES = 7  # + 4 counter + 1 flag = the 12-byte GCM nonce
CHUNK_BYTES = 1024 * 1024  # 1 MiB of plaintext per chunk: small memory, 16 bytes of tag each
TAG_BYTES = 16
LENGTH = struct.Struct(">I")
MAX_CHUNKS = 2**32 - 1  # the counter's range: 4 PiB at 1 MiB a chunk


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


class StreamWriter:
    """A write-only file object: :meth:`write` plaintext, :meth:`close` seals the last chunk
    (without it the stream is refused as truncated)."""

    def __init__(self, out: BinaryIO, key: bytes, header: bytes) -> None:
        self._cipher = AESGCM(key)
        self._header = header
        self._prefix = os.urandom(PREFIX_BYTES)
        self._out = out
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        out.write(self._prefix)

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to a closed stream")
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:  # keep at least one byte back for the last
            self._emit(bytes(self._buffer[:CHUNK_BYTES]), last=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def _emit(self, plaintext: bytes, *, last: bool) -> None:
        if self._counter >= MAX_CHUNKS:
            raise ValueError("too much data for one stream")
        sealed = self._cipher.encrypt(_nonce(self._prefix, self._counter, last), plaintext,
                                      self._header)  # fmt: skip
        self._out.write(LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def flush(self) -> None:
        """Nothing to do: a chunk is written only when full (tarfile calls this)."""

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True


class StreamReader:
    """A read-only file object over a sealed stream; raises IntegrityError at the first bad,
    missing or surplus chunk. ``read()`` returning ``b""`` means the last chunk was good."""

    def __init__(self, source: BinaryIO, key: bytes, header: bytes) -> None:
        self._cipher = AESGCM(key)
        self._header = header
        self._prefix = source.read(PREFIX_BYTES)
        if len(self._prefix) != PREFIX_BYTES:
            raise IntegrityError("the stream is truncated (no chunk at all)")
        self._source = source
        self._counter = 0
        self._pending = b""
        self._done = False
        self.plaintext_bytes = 0

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._pending) < size):
            self._pending += self._next_chunk()
        if size < 0:
            size = len(self._pending)
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def drain(self) -> None:
        """Read to the end: proves the stream whole (its flagged last chunk, nothing after)."""
        while not self._done:
            self._next_chunk()
        self._pending = b""

    def _next_chunk(self) -> bytes:
        raw = self._source.read(LENGTH.size)
        if len(raw) != LENGTH.size:
            raise IntegrityError("the stream is truncated (its last chunk is missing)")
        (length,) = LENGTH.unpack(raw)
        if not TAG_BYTES <= length <= CHUNK_BYTES + TAG_BYTES:
            raise IntegrityError(f"chunk {self._counter} has an impossible length")
        sealed = self._source.read(length)
        if len(sealed) != length:
            raise IntegrityError("the stream is truncated (a chunk is cut short)")
        for last in (False, True):
            try:
                plaintext = self._cipher.decrypt(
                    _nonce(self._prefix, self._counter, last), sealed, self._header
                )
            except InvalidTag:
                continue
            self._counter += 1
            self.plaintext_bytes += len(plaintext)
            if last:
                if self._source.read(1):
                    raise IntegrityError("the stream has data after its last chunk")
                self._done = True
            return plaintext
        raise IntegrityError(f"chunk {self._counter} failed authentication (altered)")
