"""Field encryption for one case, with associated data binding every value to its place."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.errors import KeyShredded, NotFound
from amparo.security.aead import AESGCM, aad_for, open_sealed, seal
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.security.keyring import Keyring

__all__ = ["CaseSealer", "defender_name", "sealer_for"]


class CaseSealer:
    def __init__(self, case_id: str, key: bytes | AESGCM) -> None:
        self.case_id = case_id
        self._key = key if isinstance(key, AESGCM) else AESGCM(key)

    def seal(
        self, table: str, record_id: str, field: str, version: int, value: str | None
    ) -> bytes | None:
        if value is None:
            return None
        return seal(self._key, value.encode("utf-8"), aad_for(table, record_id, field, version))

    def open(
        self, table: str, record_id: str, field: str, version: int, sealed: bytes | None
    ) -> str | None:
        if sealed is None:
            return None
        return open_sealed(
            self._key, bytes(sealed), aad_for(table, record_id, field, version)
        ).decode("utf-8")

    def seal_json(
        self, table: str, record_id: str, field: str, version: int, value: Any
    ) -> bytes | None:
        if value is None or value == [] or value == {}:
            return None
        return self.seal(table, record_id, field, version, json.dumps(value, ensure_ascii=False))

    def open_json(
        self, table: str, record_id: str, field: str, version: int, sealed: bytes | None
    ) -> Any:
        text = self.open(table, record_id, field, version, sealed)
        return None if text is None else json.loads(text)

    def seal_bytes(self, aad_parts: tuple[str, ...], data: bytes) -> bytes:
        return seal(self._key, data, aad_for(*aad_parts))

    def open_bytes(self, aad_parts: tuple[str, ...], sealed: bytes) -> bytes:
        return open_sealed(self._key, sealed, aad_for(*aad_parts))


def sealer_for(conn: Connection, keyring: Keyring, case_id: str) -> CaseSealer:
    cached = keyring.cached_case_key(case_id)
    if cached is not None:
        return CaseSealer(case_id, keyring.case_cipher(case_id, cached))
    row = conn.execute(
        sa.select(schema.cases.c.wrapped_key, schema.cases.c.shredded_at).where(
            schema.cases.c.id == case_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    if row.shredded_at is not None:
        raise KeyShredded(f"case {case_id} was shredded; its records cannot be read")
    wrapped = None if row.wrapped_key is None else bytes(row.wrapped_key)
    return CaseSealer(case_id, keyring.case_cipher(case_id, keyring.case_key(case_id, wrapped)))


def defender_name(conn: Connection, sealer: CaseSealer, defender_id: str) -> str:
    """The display name of a defender filed in ``sealer``'s case; "" for any other."""
    D = schema.defenders
    row = conn.execute(
        sa.select(D.c.case_id, D.c.version, D.c.display_name_ct).where(D.c.id == defender_id)
    ).first()
    if row is None or row.case_id != sealer.case_id:
        return ""
    return sealer.open("defenders", defender_id, "display_name", row.version,
                       row.display_name_ct) or ""  # fmt: skip
