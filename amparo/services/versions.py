"""Every write leaves an encrypted snapshot: who changed which fields when, and what it was.

Snapshots hold the whole aggregate as JSON, sealed with the case key and bound to
(entity, id, version). The plaintext row keeps only field *names* that changed, never values.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.clock import utc
from amparo.errors import NotFound
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["FieldChange", "VersionInfo", "changed_fields", "flatten", "record_version"]

T = schema.record_versions


@dataclass(frozen=True)
class VersionInfo:
    version: int
    at: datetime
    actor: str
    action: str
    changed_fields: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "changed_fields": self.changed_fields,
        }


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


IGNORED_IN_DIFF = frozenset({"version", "id", "case_id"})
EMPTY: tuple[Any, ...] = (None, "", [], {})


def _without_child_ids(value: Any, top: bool = True) -> Any:
    """Child rows get fresh ids on every write; they are bookkeeping, not changes."""
    if isinstance(value, dict):
        return {k: _without_child_ids(v, False) for k, v in value.items() if top or k != "id"}
    if isinstance(value, list):
        return [_without_child_ids(v, False) for v in value]
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{'acts': [{'act_type': 'A09'}]} -> {'acts[0].act_type': 'A09'}."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        if not value and prefix:
            out[prefix] = []
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Top-level field names whose values differ (names only: safe to keep in plaintext)."""
    if before is None and after is not None:  # a new record: every field that holds something
        return sorted(k for k, v in after.items() if k not in IGNORED_IN_DIFF and v not in EMPTY)
    before = _without_child_ids(before or {})
    after = _without_child_ids(after or {})
    keys = (set(before) | set(after)) - IGNORED_IN_DIFF
    return sorted(k for k in keys if before.get(k) != after.get(k))


ZLIB_JSON = b"\x01"  # snapshot plaintext marker: zlib-compressed UTF-8 JSON follows
ZLIB_LEVEL = 1  # JSON shrinks ~4x even at the fastest level; imports stay fast


def seal_snapshot(
    sealer: CaseSealer, entity: str, entity_id: str, version: int, snapshot: Any
) -> bytes:
    """Compress, then encrypt, a record's JSON (there is no attacker-chosen text mixed with
    secrets here, so compression leaks nothing an attacker can probe)."""
    body = json.dumps(snapshot, ensure_ascii=False, sort_keys=True).encode("utf-8")
    plain = ZLIB_JSON + zlib.compress(body, ZLIB_LEVEL)
    return sealer.seal_bytes(("record_versions", entity_id, entity, str(version)), plain)


def open_snapshot(
    sealer: CaseSealer, entity: str, entity_id: str, version: int, sealed: bytes
) -> Any:
    plain = sealer.open_bytes(("record_versions", entity_id, entity, str(version)), bytes(sealed))
    if plain[:1] == ZLIB_JSON:
        plain = zlib.decompress(plain[1:])
    return json.loads(plain.decode("utf-8"))


def record_version(
    conn: Connection,
    sealer: CaseSealer,
    *,
    entity: str,
    entity_id: str,
    version: int,
    action: str,
    changed: list[str],
    snapshot: dict[str, Any] | None,
    at: datetime,
    actor: str,
) -> None:
    conn.execute(
        sa.insert(T),
        [
            {
                "entity": entity,
                "entity_id": entity_id,
                "version": version,
                "case_id": sealer.case_id,
                "at": at,
                "actor": actor,
                "action": action,
                "changed_fields": ",".join(changed),
                "snapshot_ct": seal_snapshot(sealer, entity, entity_id, version, snapshot),
            }
        ],
    )


class VersionReader:
    def __init__(self, registry: Registry, entity: str) -> None:
        self.r = registry
        self.entity = entity

    def case_of(self, entity_id: str) -> str:
        """The case a record belongs (or belonged) to, from its history."""
        with self.r.store.read() as conn:
            case_id = conn.execute(
                sa.select(T.c.case_id)
                .where(T.c.entity == self.entity, T.c.entity_id == entity_id)
                .limit(1)
            ).scalar()
        if case_id is None:
            raise NotFound(f"no {self.entity} {entity_id}")
        return str(case_id)

    def history(self, entity_id: str) -> list[VersionInfo]:
        with self.r.store.read() as conn:
            rows = conn.execute(
                sa.select(T.c.version, T.c.at, T.c.actor, T.c.action, T.c.changed_fields)
                .where(T.c.entity == self.entity, T.c.entity_id == entity_id)
                .order_by(T.c.version)
            ).all()
        if not rows:
            raise NotFound(f"no {self.entity} {entity_id}")
        return [
            VersionInfo(
                version=r.version,
                at=utc(r.at),
                actor=r.actor,
                action=r.action,
                changed_fields=[f for f in r.changed_fields.split(",") if f],
            )
            for r in rows
        ]

    def snapshot(self, entity_id: str, version: int) -> dict[str, Any] | None:
        with self.r.store.read() as conn:
            row = conn.execute(
                sa.select(T.c.case_id, T.c.snapshot_ct).where(
                    T.c.entity == self.entity, T.c.entity_id == entity_id, T.c.version == version
                )
            ).first()
            if row is None:
                raise NotFound(f"{self.entity} {entity_id} has no version {version}")
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            value = open_snapshot(sealer, self.entity, entity_id, version, row.snapshot_ct)
        return value if isinstance(value, dict) else None

    def diff(self, entity_id: str, old: int, new: int) -> list[FieldChange]:
        before = flatten(_without_child_ids(self.snapshot(entity_id, old) or {}))
        after = flatten(_without_child_ids(self.snapshot(entity_id, new) or {}))
        return [
            FieldChange(key, before.get(key), after.get(key))
            for key in sorted(set(before) | set(after))
            if key.split(".")[0].split("[")[0] not in IGNORED_IN_DIFF
            and before.get(key) != after.get(key)
        ]
