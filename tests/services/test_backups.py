"""Backups made while writers run, verified whole, restored into an empty place (SECURITY.md
test 20), on SQLite and, with AMPARO_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.errors import IntegrityError, ValidationError, WrongPassphrase
from amparo.registry import Registry
from amparo.security.keyed_stream import CHUNK_BYTES
from amparo.services.backups import (
    create_backup,
    restore_backup,
    retained,
    scheduled,
    scheduled_backup,
    verify_backup,
)
from amparo.settings import Settings
from amparo.store import schema
from amparo.vault import init_vault
from tests import factories
from tests.conftest import CHEAP_KDF, PASSPHRASE, PostgresDatabases

CANARY = "Zqxbackupcanary"


@pytest.fixture
def restore_url(postgres: PostgresDatabases | None) -> Iterator[str | None]:
    """Where a restore puts the database: None for SQLite (inside the vault), else an empty
    PostgreSQL database."""
    if postgres is None:
        yield None
        return
    url = postgres.new(empty=True)
    yield url
    postgres.drop(url)


class Writer(threading.Thread):
    """Adds incidents until stopped; remembers the ids whose add returned (acknowledged)."""

    def __init__(self, registry: Registry) -> None:
        super().__init__(daemon=True)
        self.registry = registry
        self.stop = threading.Event()
        self.acknowledged: list[str] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                added = self.registry.incidents.add(factories.incident(title=f"Load {n}"))
            except BaseException as exc:
                self.errors.append(exc)
                return
            self.acknowledged.append(added.id)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(parent: Path, name: str) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(f".{name}.")]


def test_backup_while_writing_restores_whole(
    registry: Registry, tmp_path: Path, restore_url: str | None
) -> None:
    first = registry.incidents.add(factories.incident(title=f"{CANARY} sample"))
    assert first.case_id is not None
    stored = registry.files.put(
        first.case_id,
        "photo.jpg",
        b"\xff\xd8 evidence bytes " * 100,
        media_type="image/jpeg",
        incident_id=first.id,
    )
    writer = Writer(registry)
    writer.start()
    try:
        while len(writer.acknowledged) < 5 and not writer.errors:
            threading.Event().wait(0.01)
        before = set(writer.acknowledged)
        summary = create_backup(registry, tmp_path / "vault.ampbak")
        during = len(writer.acknowledged)
    finally:
        writer.stop.set()
        writer.join()
    assert not writer.errors
    assert during > len(before)  # the writer carried on during the backup

    names = {m.name for m in summary.members}
    assert {
        "vault/vault.key",
        "vault/amparo.toml",
        f"vault/files/{stored.id[:2]}/{stored.id}",
    } <= names
    assert (
        "database/amparo.db" if registry.store.dialect == "sqlite" else "database/postgresql.dump"
    ) in names
    assert verify_backup(summary.path, PASSPHRASE).members == tuple(  # type: ignore[arg-type]
        sorted(summary.members, key=lambda m: m.name)
    )

    target = tmp_path / "restored"
    result = restore_backup(summary.path, target, PASSPHRASE, database_url=restore_url)  # type: ignore[arg-type]
    for member in summary.members:  # every file the vault had, byte for byte
        if member.name.startswith("vault/") and member.name != "vault/amparo.toml":
            restored = target / member.name.removeprefix("vault/")
            assert _sha(restored) == member.sha256, member.name
    with Registry.open(target, PASSPHRASE, actor="tester") as copy:
        assert copy.incidents.get(first.id).title == f"{CANARY} sample"
        assert copy.files.read(stored.id) == b"\xff\xd8 evidence bytes " * 100
        with copy.store.read() as conn:
            ids = set(conn.execute(sa.select(schema.incidents.c.id)).scalars())
        assert before <= ids  # acknowledged before the backup began: all there
        assert copy.audit.verify().ok
        actions = [e.action for e in copy.audit.entries()]
        assert "vault.restore" in actions[-4:]
        assert "vault.backup" not in actions  # written after the snapshot, in the source
        assert copy.store.integrity_problems() == []
        if restore_url:
            assert copy.settings.database_url == restore_url
    assert result.vault_dir == target.absolute()
    assert [e.action for e in registry.audit.entries(action="vault.backup")] == ["vault.backup"]
    assert _leftovers(tmp_path, "restored") == []
    assert not [p for p in registry.settings.vault_dir.iterdir() if p.name.startswith(".backup")]


def test_a_lost_backup_reveals_no_text(registry: Registry, tmp_path: Path) -> None:
    added = registry.incidents.add(factories.incident(title=CANARY, narrative=CANARY))
    assert added.case_id is not None
    registry.files.put(added.case_id, f"{CANARY}.txt", CANARY.encode() * 50)
    summary = create_backup(registry, tmp_path / "b.ampbak")
    data = (tmp_path / "b.ampbak").read_bytes()
    for needle in (
        CANARY,
        "amparo.db",
        "manifest",
        "postgresql",
        "sqlite",
        "files/",
        "amparo.toml",
        "Death threat",
        "Intibuc",
        "confirmed",
    ):
        assert needle.encode() not in data, needle
    assert os.stat(summary.path).st_mode & 0o077 == 0  # type: ignore[arg-type]


@pytest.fixture
def backup_file(registry: Registry, tmp_path: Path) -> Path:
    added = registry.incidents.add(factories.incident())
    assert added.case_id is not None
    # More than one chunk, so cuts at a chunk boundary are tried too.
    registry.files.put(added.case_id, "big.bin", os.urandom(CHUNK_BYTES + 4096))
    out = tmp_path / "b.ampbak"
    create_backup(registry, out)
    return out


def _damaged(source: Path, tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("where", [10, 300, 0.5, -40, -1])
def test_a_byte_flipped_backup_is_refused_and_nothing_restored(
    backup_file: Path, tmp_path: Path, restore_url: str | None, where: float
) -> None:
    data = bytearray(backup_file.read_bytes())
    at = int(len(data) * where) if isinstance(where, float) else where
    data[at] ^= 0x01
    bad = _damaged(backup_file, tmp_path, "flipped.ampbak", bytes(data))
    with pytest.raises((IntegrityError, WrongPassphrase)):
        verify_backup(bad, PASSPHRASE)
    target = tmp_path / "restored"
    with pytest.raises((IntegrityError, WrongPassphrase)):
        restore_backup(bad, target, PASSPHRASE, database_url=restore_url)
    assert not target.exists()
    assert _leftovers(tmp_path, "restored") == []
    if restore_url:  # the database was not touched either
        engine = sa.create_engine(sa.make_url(restore_url).set(drivername="postgresql+psycopg"))
        with engine.connect() as conn:
            assert not sa.inspect(conn).get_table_names()
        engine.dispose()


def test_a_truncated_backup_is_refused(backup_file: Path, tmp_path: Path) -> None:
    data = backup_file.read_bytes()
    # Cut: in the header, after the first chunk exactly, mid-chunk, one byte short.
    first_chunk_end = _first_chunk_end(data)
    for cut in (40, first_chunk_end, first_chunk_end + 100, len(data) - 1):
        bad = _damaged(backup_file, tmp_path, "cut.ampbak", data[:cut])
        with pytest.raises(IntegrityError):
            verify_backup(bad, PASSPHRASE)
        with pytest.raises(IntegrityError):
            restore_backup(bad, tmp_path / "restored", PASSPHRASE)
        assert not (tmp_path / "restored").exists()
    longer = _damaged(backup_file, tmp_path, "long.ampbak", data + b"\x00")
    with pytest.raises(IntegrityError):
        verify_backup(longer, PASSPHRASE)


def _first_chunk_end(data: bytes) -> int:
    from amparo.services.backups import HEAD, WRAPPED

    _m, _v, keyfile_len = HEAD.unpack(data[: HEAD.size])
    at = HEAD.size + keyfile_len
    at += WRAPPED.size + WRAPPED.unpack(data[at : at + WRAPPED.size])[0]
    at += 7  # the stream's nonce prefix
    length = int.from_bytes(data[at : at + 4], "big")
    return at + 4 + length


def test_restore_refuses_a_non_empty_target_and_a_wrong_passphrase(
    backup_file: Path, tmp_path: Path, restore_url: str | None
) -> None:
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "something").write_text("mine")
    with pytest.raises(ValidationError, match="not empty"):
        restore_backup(backup_file, target, PASSPHRASE)
    assert [p.name for p in target.iterdir()] == ["something"]
    with pytest.raises(WrongPassphrase):
        verify_backup(backup_file, "not the passphrase")
    empty = tmp_path / "empty"
    empty.mkdir()
    restored = restore_backup(backup_file, empty, PASSPHRASE, database_url=restore_url)
    assert restored.vault_dir == empty.absolute()
    if restore_url:  # the database is now taken: a second restore into it is refused
        with pytest.raises(ValidationError, match="database is not empty"):
            restore_backup(backup_file, tmp_path / "again", PASSPHRASE, database_url=restore_url)
        assert not (tmp_path / "again").exists()


def test_the_recovery_code_opens_a_backup(
    tmp_path: Path, database_url: str | None, restore_url: str | None
) -> None:
    made = init_vault(tmp_path / "v", PASSPHRASE, database_url=database_url, kdf=CHEAP_KDF)
    with Registry.open(tmp_path / "v", PASSPHRASE) as reg:
        kept = reg.incidents.add(factories.incident(title="kept"))
        create_backup(reg, tmp_path / "b.ampbak")
    restore_backup(
        tmp_path / "b.ampbak", tmp_path / "r", made.recovery_code, database_url=restore_url
    )
    with Registry.open(tmp_path / "r", PASSPHRASE) as copy:
        assert copy.incidents.get(kept.id).title == "kept"


def test_a_backup_must_live_outside_the_vault(registry: Registry) -> None:
    with pytest.raises(ValidationError, match="outside"):
        create_backup(registry, registry.settings.vault_dir / "b.ampbak")


def test_retention_keeps_the_newest_and_daily_and_weekly() -> None:
    start = datetime(2026, 11, 1, 3, tzinfo=UTC)
    times = [start + timedelta(hours=12 * i) for i in range(40)]  # two a day for 20 days
    assert retained(times, 3) == set(sorted(times)[-3:])
    daily = retained(times, 1, daily=5)
    assert len(daily) == 5  # the newest is also the newest of its day
    assert {t.date() for t in daily} == {times[-1].date() - timedelta(days=d) for d in range(5)}
    weekly = retained(times, 1, weekly=3)
    assert len({t.isocalendar()[:2] for t in weekly}) == 3


def test_scheduled_backups_keep_n(registry: Registry, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    directory.mkdir()
    (directory / "notes.txt").write_text("not a backup: left alone")
    start = datetime(2026, 11, 1, 3, tzinfo=UTC)
    results = [
        scheduled_backup(registry, directory, keep=2, now=start + timedelta(days=d))
        for d in range(4)
    ]
    names = sorted(p.name for p in directory.iterdir())
    assert names == [
        "amparo-backup-20261103T030000Z.ampbak",
        "amparo-backup-20261104T030000Z.ampbak",
        "notes.txt",
    ]
    assert [len(r.removed) for r in results] == [0, 0, 1, 1]
    verify_backup(directory / names[1], PASSPHRASE)


def test_the_periodic_job_follows_the_backup_settings(registry: Registry, tmp_path: Path) -> None:
    assert scheduled(registry) is None  # no [backup] directory: nothing to do
    vault = registry.settings.vault_dir
    text = (vault / "amparo.toml").read_text()
    (vault / "amparo.toml").write_text(
        text + f'\n[backup]\ndirectory = "{tmp_path / "b"}"\nkeep = 3\ndaily = 7\nweekly = 4\n'
    )
    settings = Settings.load(vault)
    assert (
        settings.backup_dir,
        settings.backup_keep,
        settings.backup_daily,
        settings.backup_weekly,
        settings.backup_schedule,
    ) == (tmp_path / "b", 3, 7, 4, "0 3 * * *")
    settings.save()
    assert Settings.load(vault) == settings
    view = Registry(settings, registry.store, registry.keyring, clock=registry.clock)
    view._owns_resources = False
    result = scheduled(view)
    assert result is not None and result.summary.path is not None
    assert result.summary.path.parent == tmp_path / "b"


@pytest.mark.parametrize(
    "table",
    [
        "[backup]\nkeep = 0",
        '[backup]\nkeep = "x"',
        '[backup]\nschedule = "daily"',
        "[backup]\nother = 1",
    ],
)
def test_bad_backup_settings_are_named(vault_dir: Path, table: str) -> None:
    from amparo.errors import VaultError

    (vault_dir / "amparo.toml").write_text((vault_dir / "amparo.toml").read_text() + table)
    with pytest.raises(VaultError, match=r"\[backup\]"):
        Settings.load(vault_dir)


def test_backup_settings_register_a_periodic_job(vault_dir: Path, tmp_path: Path) -> None:
    from amparo import jobs
    from amparo.services.backups import register_scheduled_backup

    assert register_scheduled_backup(Settings.load(vault_dir)) is False
    (vault_dir / "amparo.toml").write_text(
        (vault_dir / "amparo.toml").read_text()
        + f'[backup]\ndirectory = "{tmp_path}"\nschedule = "30 2 * * *"\n'
    )
    try:
        assert register_scheduled_backup(Settings.load(vault_dir)) is True
        job = jobs.PERIODIC["amparo.backup"]
        assert job.cron == "30 2 * * *"
        assert job.function() is scheduled
    finally:
        jobs.PERIODIC.pop("amparo.backup", None)


def test_a_file_a_restore_would_refuse_is_left_out(registry: Registry, tmp_path: Path) -> None:
    vault = registry.settings.vault_dir
    (vault / "notes (copy).txt").write_text("a stray file")
    (vault / "extra.txt").write_text("kept")
    summary = create_backup(registry, tmp_path / "b.ampbak")
    names = {m.name for m in summary.members}
    assert "vault/extra.txt" in names and "vault/notes (copy).txt" not in names
    verify_backup(tmp_path / "b.ampbak", PASSPHRASE)
