"""Whole-registry archives: export, restore into an empty vault, refusal of anything else."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from amparo.errors import Conflict, IntegrityError, WrongPassphrase
from amparo.registry import Registry
from amparo.services import archive
from amparo.store import schema
from amparo.vault import init_vault
from tests import factories
from tests.conftest import CHEAP_KDF, PASSPHRASE, PostgresDatabases

EXPORT_PASSPHRASE = "archive passphrase for tests"
TARGET_PASSPHRASE = "the target vault's own passphrase"


def everything(registry: Registry) -> dict[str, list[list[Any]]]:
    with registry.store.read() as conn:
        return {t.name: list(archive.table_rows(conn, t)) for t in archive.tables()}


def blobs(files_dir: Path) -> dict[str, str]:
    return {
        p.relative_to(files_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files_dir.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def filled(registry: Registry) -> dict[str, Any]:
    defender = registry.defenders.add(factories.defender())
    other = registry.defenders.add(factories.defender(display_name="Zqx Duplicate"))
    registry.defenders.merge(defender.id, other.id)
    incident = registry.incidents.add(
        factories.incident(acts=[{"act_type": "A09", "victim_defender_id": defender.id}])
    )
    registry.incidents.amend(incident.id, {"title": "Second version of the title"})
    registry.incidents.amend(incident.id, {"narrative": "Third version: ñandú ☂"})
    gone = registry.incidents.add(factories.incident(title="Deleted later"))
    registry.incidents.delete(gone.id)
    case_id = registry.incidents.get(incident.id).case_id
    assert case_id
    item = registry.evidence.add(case_id, "notes.txt", "campo: ñandú".encode(),
                                 incident_id=incident.id)  # fmt: skip
    registry.accounts.add_user("ana", "a long enough password 123", "documenter")
    return {"incident": incident.id, "deleted": gone.id, "evidence": item.id,
            "defender": defender.id}  # fmt: skip


@pytest.fixture
def target(tmp_path: Path, postgres: PostgresDatabases | None, clock: Any) -> Iterator[Registry]:
    url = postgres.new() if postgres else None
    vault = tmp_path / "target"
    init_vault(vault, TARGET_PASSPHRASE, database_url=url, kdf=CHEAP_KDF)
    reg = Registry.open(vault, TARGET_PASSPHRASE, clock=clock, actor="restorer")
    yield reg
    reg.close()
    if postgres is not None and url:
        postgres.drop(url)


def export(registry: Registry, tmp_path: Path) -> Path:
    out = tmp_path / "registry.amparo"
    archive.export_archive(registry, out, EXPORT_PASSPHRASE, kdf=CHEAP_KDF)
    return out


def test_round_trip_restores_records_versions_files_and_chain(
    registry: Registry, filled: dict[str, Any], target: Registry, tmp_path: Path, clock: Any
) -> None:
    checkpoint = registry.audit.checkpoint()
    out = export(registry, tmp_path)
    before = everything(registry)
    files_before = blobs(registry.settings.files_dir)
    assert files_before and before["record_versions"] and before["users"]
    result = archive.import_archive(target, out, EXPORT_PASSPHRASE, TARGET_PASSPHRASE)
    assert result.source_vault_id == registry.keyring.vault_id
    assert result.summary.tables["incidents"] == len(before["incidents"])
    vault = target.settings.vault_dir
    target.close()

    restored = Registry.open(vault, TARGET_PASSPHRASE, clock=clock, actor="restorer")
    try:
        after = everything(restored)
        for name, rows in before.items():
            if name == "audit_log":
                # The source chain, then one entry of the restore.
                assert after[name][: len(rows)] == rows
                assert [r[3] for r in after[name][len(rows) :]] == ["archive.import"]
            elif name == "meta":
                assert {r[0] for r in after[name]} == {r[0] for r in rows}
                assert [r for r in after[name] if r[0] == "vault_id"] == [
                    r for r in rows if r[0] == "vault_id"
                ]
            else:
                assert after[name] == rows, name
        assert blobs(restored.settings.files_dir) == files_before
        with registry.store.read() as a, restored.store.read() as b:
            for name in archive.DERIVED_TABLES:  # rebuilt, not carried: the same all the same
                table = schema.metadata.tables[name]
                assert list(archive.table_rows(a, table)) == list(archive.table_rows(b, table))
        # Readable with the adopted keys: records, version chains, evidence bytes, search.
        inc = filled["incident"]
        assert restored.incidents.get(inc).to_dict() == registry.incidents.get(inc).to_dict()
        assert [v.to_dict() for v in restored.incidents.history(inc)] == [
            v.to_dict() for v in registry.incidents.history(inc)
        ]
        assert restored.incidents.diff(inc, 1, 3) == registry.incidents.diff(inc, 1, 3)
        assert len(restored.incidents.history(filled["deleted"])) == 2
        original = restored.evidence.original(filled["evidence"])
        assert original.data == "campo: ñandú".encode()
        assert restored.evidence.verify(filled["evidence"]).ok
        assert [s.id for s in restored.incidents.search("ñandú")] == [inc]
        assert restored.defenders.get(filled["defender"]).display_name == "Berta Flores"
        assert restored.audit.verify().ok
        assert restored.audit.verify_checkpoint(checkpoint).ok
        # The vault goes on working: new records, serial ids included (PostgreSQL).
        restored.incidents.add(factories.incident(title="After the restore"))
        assert len(restored.incidents.search("restore")) == 1
    finally:
        restored.close()
    # The source's recovery code does not open the target; the new one does.
    from amparo.vault import recover_vault

    recover_vault(vault, result.recovery_code, "yet another passphrase")


def test_a_non_empty_target_is_refused(
    registry: Registry, filled: dict[str, Any], tmp_path: Path
) -> None:
    out = export(registry, tmp_path)
    before = everything(registry)
    with pytest.raises(Conflict, match="not empty"):
        archive.import_archive(registry, out, EXPORT_PASSPHRASE, PASSPHRASE)
    assert everything(registry) == before


def _assert_untouched(target: Registry, key_file: bytes) -> None:
    rows = everything(target)
    assert all(not v for k, v in rows.items() if k != "meta"), rows
    assert target.settings.key_file.read_bytes() == key_file
    assert not blobs(target.settings.files_dir)


def test_wrong_passphrase_is_refused_with_nothing_written(
    registry: Registry, filled: dict[str, Any], target: Registry, tmp_path: Path
) -> None:
    out = export(registry, tmp_path)
    key_file = target.settings.key_file.read_bytes()
    with pytest.raises(WrongPassphrase):
        archive.import_archive(target, out, "not the export passphrase", TARGET_PASSPHRASE)
    _assert_untouched(target, key_file)


@pytest.mark.parametrize("fault", ["truncate_chunk", "truncate_boundary", "flip_early",
                                   "flip_late", "append", "flip_header"])  # fmt: skip
def test_a_tampered_or_truncated_archive_is_refused_whole(
    registry: Registry, filled: dict[str, Any], target: Registry, tmp_path: Path, fault: str
) -> None:
    from amparo.security import archive_stream

    out = export(registry, tmp_path)
    data = bytearray(out.read_bytes())
    start = archive_stream.HEADER.size + archive_stream.TAG_BYTES
    if fault == "truncate_chunk":
        data = data[: len(data) - 7]
    elif fault == "truncate_boundary":
        data = data[:start]  # every chunk gone: only the header and check remain
    elif fault == "flip_early":
        data[start + 10] ^= 0x01
    elif fault == "flip_late":
        data[-3] ^= 0x80
    elif fault == "append":
        data += b"\x00" * 40
    else:
        data[12] ^= 0x01  # the Argon2 salt/params: the key no longer fits
    out.write_bytes(bytes(data))
    key_file = target.settings.key_file.read_bytes()
    with pytest.raises((IntegrityError, WrongPassphrase)):
        archive.import_archive(target, out, EXPORT_PASSPHRASE, TARGET_PASSPHRASE)
    _assert_untouched(target, key_file)


def test_a_multi_chunk_archive_cut_at_a_chunk_boundary_is_refused(
    registry: Registry, target: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amparo.security import archive_stream

    monkeypatch.setattr(archive_stream, "CHUNK_BYTES", 256)
    for n in range(3):
        registry.incidents.add(factories.incident(title=f"Record {n}"))
    out = export(registry, tmp_path)
    data = out.read_bytes()
    start = archive_stream.HEADER.size + archive_stream.TAG_BYTES
    length = int.from_bytes(data[start : start + 4], "big")
    out.write_bytes(data[: start + 4 + length])  # the first chunk, whole, and nothing more
    with pytest.raises(IntegrityError, match="truncated"):
        archive.import_archive(target, out, EXPORT_PASSPHRASE, TARGET_PASSPHRASE)
    _assert_untouched(target, target.settings.key_file.read_bytes())


def test_export_and_import_are_audited(
    registry: Registry, filled: dict[str, Any], target: Registry, tmp_path: Path
) -> None:
    out = export(registry, tmp_path)
    with registry.store.read() as conn:
        last = conn.execute(sa.select(schema.audit_log.c.action).order_by(
            schema.audit_log.c.seq.desc()).limit(1)).scalar()  # fmt: skip
    assert last == "archive.export"
    assert out.stat().st_mode & 0o777 == 0o600
    archive.import_archive(target, out, EXPORT_PASSPHRASE, TARGET_PASSPHRASE)


def test_an_archive_moves_between_sqlite_and_postgresql(
    tmp_path: Path, postgres: PostgresDatabases | None, clock: Any
) -> None:
    if postgres is None:
        pytest.skip("needs AMPARO_TEST_DATABASE_URL")
    for source_kind, target_kind in (("sqlite", "postgresql"), ("postgresql", "sqlite")):
        urls = {"sqlite": None, "postgresql": postgres.new()}
        base = tmp_path / f"{source_kind}-to-{target_kind}"
        init_vault(base / "source", PASSPHRASE, database_url=urls[source_kind], kdf=CHEAP_KDF)
        init_vault(base / "target", TARGET_PASSPHRASE, database_url=urls[target_kind],
                   kdf=CHEAP_KDF)  # fmt: skip
        with Registry.open(base / "source", PASSPHRASE, clock=clock) as source:
            incident = source.incidents.add(factories.incident())
            source.incidents.amend(incident.id, {"title": "Moved ñandú"})
            out = base / "registry.amparo"
            archive.export_archive(source, out, EXPORT_PASSPHRASE, kdf=CHEAP_KDF)
            before = everything(source)
        with Registry.open(base / "target", TARGET_PASSPHRASE, clock=clock) as target:
            archive.import_archive(target, out, EXPORT_PASSPHRASE, TARGET_PASSPHRASE)
        with Registry.open(base / "target", TARGET_PASSPHRASE, clock=clock) as restored:
            after = everything(restored)
            for name in before:
                if name not in ("audit_log", "meta"):
                    assert after[name] == before[name], (source_kind, name)
            assert restored.incidents.search("ñandú")[0].id == incident.id
            assert restored.audit.verify().ok
        postgres.drop(str(urls["postgresql"]))
