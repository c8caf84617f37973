"""Keys held in memory while a vault is unlocked.

The master key never encrypts records directly. It derives (HKDF-SHA256) a key-encryption
key for per-case data keys and one blind-index key per indexed field, so destroying a case key
shreds that case while the rest of the vault stays readable.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from amparo.errors import KeyShredded
from amparo.security.aead import AESGCM, KEY_BYTES, aad_for, new_key, open_sealed, seal

__all__ = ["Keyring"]


class Keyring:
    def __init__(self, master_key: bytes, vault_id: str) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError("master key must be 32 bytes")
        self._master = master_key
        self.vault_id = vault_id
        self._derived: dict[str, bytes] = {}
        self._case_keys: dict[str, bytes] = {}
        self._ciphers: dict[str, AESGCM] = {}
        self._lock = threading.Lock()

    def subkey(self, purpose: str) -> bytes:
        """A key for one purpose, derived once and cached for the life of the keyring."""
        with self._lock:
            key = self._derived.get(purpose)
            if key is None:
                key = HKDF(
                    algorithm=hashes.SHA256(),
                    length=KEY_BYTES,
                    salt=self.vault_id.encode(),
                    info=f"amparo/{purpose}".encode(),
                ).derive(self._master)
                self._derived[purpose] = key
            return key

    def blind_index_key(self, entity: str, field: str) -> bytes:
        return self.subkey(f"blind-index/{entity}/{field}")

    # -- per-case data keys -------------------------------------------------------------
    def new_case_key(self, case_id: str) -> tuple[bytes, bytes]:
        """Returns (data key, wrapped data key to store with the case)."""
        key = new_key()
        wrapped = seal(self.subkey("case-kek"), key, aad_for("case-key", case_id))
        with self._lock:
            self._case_keys[case_id] = key
        return key, wrapped

    def cached_case_key(self, case_id: str) -> bytes | None:
        with self._lock:
            return self._case_keys.get(case_id)

    def case_key(self, case_id: str, wrapped: bytes | None) -> bytes:
        with self._lock:
            key = self._case_keys.get(case_id)
        if key is not None:
            return key
        if wrapped is None:
            raise KeyShredded(f"case {case_id} was shredded; its records cannot be read")
        key = open_sealed(self.subkey("case-kek"), wrapped, aad_for("case-key", case_id))
        with self._lock:
            self._case_keys[case_id] = key
        return key

    def case_cipher(self, case_id: str, key: bytes) -> AESGCM:
        """The prepared cipher for a case key (saves the AES key schedule on every value)."""
        with self._lock:
            cipher = self._ciphers.get(case_id)
            if cipher is None:
                cipher = self._ciphers[case_id] = AESGCM(key)
            return cipher

    def forget_case_key(self, case_id: str) -> None:
        with self._lock:
            self._case_keys.pop(case_id, None)
            self._ciphers.pop(case_id, None)

    def master_key_for_worker(self) -> bytes:
        """The master key, for a child process that prepares a bulk import (sent over a pipe,
        held in memory only). Nothing else may call this."""
        return self._master

    def close(self) -> None:
        """Drop references to key material (Python cannot promise to zero memory)."""
        with self._lock:
            self._derived.clear()
            self._case_keys.clear()
            self._ciphers.clear()
            self._master = b"\x00" * KEY_BYTES
