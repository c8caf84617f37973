"""Every write leaves an encrypted snapshot: who changed which fields when, and what it was.

Snapshots hold the whole aggregate as JSON, sealed with the case key and bound to
(entity, id, version). The plaintext row keeps only field *names* that changed, never values.
"""

from __future__ import annotations

import json
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
    body = json.dumps(snapshot, ensure_ascii=False, sort_keys=True)
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
                "snapshot_ct": sealer.seal("record_versions", entity_id, entity, version, body),
            }
        ],
    )


class VersionReader:
    def __init__(self, registry: Registry, entity: str) -> None:
        self.r = registry
        self.entity = entity

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
            text = sealer.open("record_versions", entity_id, self.entity, version, row.snapshot_ct)
        value = json.loads(text or "null")
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
