"""The store: whole transactions or nothing, and a health check that can see damage."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.errors import StorageError
from amparo.registry import Registry
from amparo.store import schema
from amparo.store.engine import Store
from tests import factories
from tests.conftest import PG_URL

SQLITE_ONLY = pytest.mark.skipif(
    bool(PG_URL), reason="SQLite's integrity_check and WAL file; PostgreSQL has neither"
)


class Boom(Exception):
    pass


def _count(registry: Registry, table: sa.Table) -> int:
    with registry.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _meta_keys(registry: Registry) -> set[str]:
    with registry.store.read() as conn:
        return {r[0] for r in conn.execute(sa.select(schema.meta.c.key))}


def test_exception_midway_rolls_back_everything(registry: Registry) -> None:
    keys_before = _meta_keys(registry)
    cases_before = _count(registry, schema.cases)
    with pytest.raises(Boom), registry.store.write() as conn:
        conn.execute(sa.insert(schema.meta), [{"key": "half", "value": "written"}])
        registry.cases.create("A case that must vanish", conn=conn)
        with conn.begin_nested():  # a released savepoint still dies with its transaction
            conn.execute(sa.insert(schema.meta), [{"key": "nested", "value": "too"}])
        raise Boom
    assert _meta_keys(registry) == keys_before
    assert _count(registry, schema.cases) == cases_before
    # The store still works after the rollback.
    registry.set_meta("after", "ok")
    assert registry.meta("after") == "ok"


def test_database_error_midway_rolls_back_and_is_a_storage_error(registry: Registry) -> None:
    keys_before = _meta_keys(registry)
    with pytest.raises(StorageError, match="nothing was written"), registry.store.write() as conn:
        conn.execute(sa.insert(schema.meta), [{"key": "first", "value": "1"}])
        conn.execute(sa.insert(schema.meta), [{"key": "first", "value": "duplicate"}])
    assert _meta_keys(registry) == keys_before


def test_failed_incident_import_writes_nothing(registry: Registry) -> None:
    from amparo.errors import ValidationError

    good = factories.incident()
    bad = factories.incident(acts=[{"act_type": "A09", "victim_defender_id": "f" * 32}])
    with pytest.raises(ValidationError):
        registry.incidents.add_many([good, bad], strict=True)
    assert _count(registry, schema.incidents) == 0
    assert _count(registry, schema.record_versions) == 0
    assert _count(registry, schema.search_docs) == 0
    assert _count(registry, schema.cases) == 0


def test_committed_write_is_visible_to_a_new_store(registry: Registry) -> None:
    registry.set_meta("durable", "yes")
    other = Store(registry.settings.database_url)
    try:
        with other.read() as conn:
            value = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "durable")
            ).scalar_one()
    finally:
        other.close()
    assert value == "yes"


def test_concurrent_writers_do_not_lose_writes(registry: Registry) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                registry.set_meta(f"thread-{n}-{i}", str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {k for k in _meta_keys(registry) if k.startswith("thread-")} == {
        f"thread-{n}-{i}" for n in range(4) for i in range(10)
    }


def test_integrity_problems_empty_on_a_fresh_vault(registry: Registry) -> None:
    assert registry.store.integrity_problems() == []
    registry.incidents.add(factories.incident())
    assert registry.store.integrity_problems() == []


@SQLITE_ONLY
def test_integrity_problems_sees_a_broken_foreign_key(registry: Registry) -> None:
    assert registry.store.path is not None
    registry.store.close()
    raw = sqlite3.connect(registry.store.path)
    try:
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute(
            "INSERT INTO incidents (id, case_id, version, title_ct, date_start, date_precision,"
            " country, location_precision, violation_status, counting_unit, confidential,"
            " created_at, created_by, updated_at, updated_by) VALUES"
            " ('orphan', 'no-such-case', 1, x'01', '2024-01-01', 'exact', 'HN', 'country',"
            " 'unknown', 'individual', 0, '2024-01-01', 't', '2024-01-01', 't')"
        )
        raw.commit()
    finally:
        raw.close()
    problems = registry.store.integrity_problems()
    assert len(problems) == 1
    assert "incidents" in problems[0]
    assert "cases" in problems[0]


@SQLITE_ONLY
def test_checkpoint_empties_the_wal(registry: Registry) -> None:
    assert registry.store.path is not None
    registry.incidents.add(factories.incident())
    wal = Path(f"{registry.store.path}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    registry.store.checkpoint()
    assert wal.stat().st_size == 0
    assert registry.incidents.count() == 1


def test_in_memory_and_unknown_databases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="in-memory"):
        Store("sqlite://")
    with pytest.raises(StorageError, match="unsupported database"):
        Store("mysql://user@localhost/db")
