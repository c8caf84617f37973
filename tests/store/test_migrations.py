"""Migrations build exactly the declared schema, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from amparo.registry import Registry
from amparo.store import schema
from amparo.store.engine import Store
from amparo.store.migrate import current_revision, head_revision
from amparo.store.search_ddl import FTS_TABLE, GIN_INDEX, include_object
from tests.conftest import PG_URL

SQLITE_ONLY = pytest.mark.skipif(
    bool(PG_URL), reason="SQLite connection settings; PostgreSQL has its own"
)


@pytest.fixture
def store(empty_database_url: str) -> Iterator[Store]:
    store = Store(empty_database_url)
    yield store
    store.close()


def _tables(store: Store) -> set[str]:
    # The writer: SQLite's read-only reader cannot open a file that does not exist yet.
    with store.write() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_empty_database_has_no_revision(store: Store) -> None:
    assert _tables(store) == set()
    with store.write() as conn:
        assert current_revision(conn) is None


def test_head_revision_exists() -> None:
    head = head_revision()
    assert head


def test_migrate_from_empty_to_head(store: Store) -> None:
    store.migrate()
    with store.read() as conn:
        assert current_revision(conn) == head_revision()
    declared = {t for t in _tables(store) if include_object(None, t, "table", True, None)}
    assert declared == set(schema.metadata.tables) | {"alembic_version"}


def test_migration_creates_the_search_structures(store: Store) -> None:
    """The dialect-specific search index that schema comparison leaves out is there."""
    store.migrate()
    with store.read() as conn:
        if store.dialect == "sqlite":
            names = {
                (r[0], r[1]) for r in conn.exec_driver_sql("SELECT type, name FROM sqlite_master")
            }
            assert ("table", FTS_TABLE) in names
            triggers = {n for kind, n in names if kind == "trigger"}
            assert {"search_docs_ai", "search_docs_ad", "search_docs_au"} <= triggers
        else:
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("search_docs")}
            assert GIN_INDEX in indexes


def test_migrated_schema_matches_the_declared_metadata(store: Store) -> None:
    store.migrate()
    with store.read() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": include_object,
            },
        )
        differences = compare_metadata(context, schema.metadata)
    assert differences == [], "migrations and amparo.store.schema disagree:\n" + "\n".join(
        map(repr, differences)
    )


def test_migrating_twice_is_a_no_op(store: Store) -> None:
    store.migrate()
    with store.read() as conn:
        first = current_revision(conn)
    tables = _tables(store)
    store.migrate()
    with store.read() as conn:
        assert current_revision(conn) == first == head_revision()
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    assert _tables(store) == tables


def test_migrate_keeps_data(store: Store) -> None:
    store.migrate()
    with store.write() as conn:
        conn.execute(sa.insert(schema.meta), [{"key": "probe", "value": "kept"}])
    store.migrate()
    with store.read() as conn:
        value = conn.execute(
            sa.select(schema.meta.c.value).where(schema.meta.c.key == "probe")
        ).scalar_one()
    assert value == "kept"


def test_opening_a_vault_leaves_it_at_head(registry: Registry) -> None:
    with registry.store.read() as conn:
        assert current_revision(conn) == head_revision()


# -- SQLite connection settings --------------------------------------------------------
def _pragma(conn: sa.Connection, name: str) -> object:
    return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def _assert_no_temporary_file_on_disk(conn: Connection) -> None:
    """Temporaries in SQLite's memory (2), or in files (1) in a private folder on a RAM file
    system."""
    from amparo.store.engine import ram_temp_directory

    directory = ram_temp_directory()
    if directory is None:
        assert _pragma(conn, "temp_store") == 2
        return
    assert _pragma(conn, "temp_store") == 1
    assert _pragma(conn, "temp_store_directory") == directory
    assert os.stat(directory).st_mode & 0o777 == 0o700


def test_ram_temp_directory_needs_a_ram_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amparo.store.engine import ram_temp_directory

    monkeypatch.setenv("AMPARO_SQLITE_TMPDIR", str(tmp_path))
    on_disk = "/dev/vda / ext4 rw 0 0\n"
    assert ram_temp_directory(on_disk) is None
    in_ram = f"/dev/vda / ext4 rw 0 0\ntmpfs {tmp_path} tmpfs rw 0 0\n"
    folder = ram_temp_directory(in_ram)
    assert folder == str(tmp_path / f"amparo-{os.getuid()}")
    assert os.stat(folder).st_mode & 0o777 == 0o700
    os.chmod(folder, 0o755)  # a folder others may enter is refused
    assert ram_temp_directory(in_ram) is None


@SQLITE_ONLY
def test_sqlite_writer_pragmas(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        store.migrate()
        with store.write() as conn:
            assert str(_pragma(conn, "journal_mode")).lower() == "wal"
            assert _pragma(conn, "synchronous") == 2  # FULL
            assert _pragma(conn, "secure_delete") == 1
            assert _pragma(conn, "foreign_keys") == 1
            _assert_no_temporary_file_on_disk(conn)
            assert _pragma(conn, "busy_timeout") == 10_000
        with store.read() as conn:
            assert _pragma(conn, "foreign_keys") == 1
            assert _pragma(conn, "secure_delete") == 1
            _assert_no_temporary_file_on_disk(conn)
            assert str(_pragma(conn, "journal_mode")).lower() == "wal"  # a property of the file
    finally:
        store.close()


@SQLITE_ONLY
def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    from amparo.errors import StorageError

    store = Store(f"sqlite:///{tmp_path / 'fk.db'}")
    try:
        store.migrate()
        with pytest.raises(StorageError, match="FOREIGN KEY"), store.write() as conn:
            conn.execute(
                sa.insert(schema.record_versions),
                [
                    {
                        "entity": "incident",
                        "entity_id": "x" * 32,
                        "version": 1,
                        "case_id": "no-such-case",
                        "at": datetime.now(UTC),
                        "actor": "t",
                        "action": "create",
                        "changed_fields": "",
                        "snapshot_ct": b"\x01",
                    }
                ],
            )
    finally:
        store.close()


@SQLITE_ONLY
def test_reader_cannot_write_sqlite(tmp_path: Path) -> None:
    from amparo.errors import StorageError

    store = Store(f"sqlite:///{tmp_path / 'ro.db'}")
    try:
        store.migrate()
        with pytest.raises(StorageError, match="readonly"), store.read() as conn:
            conn.execute(sa.insert(schema.meta), [{"key": "k", "value": "v"}])
    finally:
        store.close()
