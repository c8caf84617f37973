"""Swapped or bit-flipped ciphertext raises IntegrityError; it never shows the wrong data.

One vault serves the whole module (a database per test costs more than the tests on
PostgreSQL): every test damages only records of its own new case and looks only there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from amparo.clock import Clock
from amparo.errors import IntegrityError, NotFound
from amparo.registry import Registry
from amparo.services.defenders import DefenderFilter
from amparo.services.incidents import IncidentFilter
from amparo.store import schema
from amparo.vault import init_vault
from tests import factories
from tests.conftest import CHEAP_KDF, NOW, PASSPHRASE, PostgresDatabases

I = schema.incidents  # noqa: E741
D = schema.defenders
V = schema.record_versions


@pytest.fixture(scope="module")
def registry(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresDatabases | None
) -> Iterator[Registry]:
    url = postgres.new() if postgres else None
    vault = tmp_path_factory.mktemp("tamper") / "vault"
    init_vault(vault, PASSPHRASE, database_url=url, kdf=CHEAP_KDF)
    reg = Registry.open(vault, PASSPHRASE, clock=Clock(NOW), actor="tester")
    yield reg
    reg.close()
    if postgres and url:
        postgres.drop(url)


def _get(registry: Registry, table: sa.Table, row_id: str, column: str) -> bytes:
    with registry.store.read() as conn:
        value = conn.execute(sa.select(table.c[column]).where(table.c.id == row_id)).scalar_one()
    return bytes(value)


def _set(registry: Registry, table: sa.Table, row_id: str, **values: Any) -> None:
    with registry.store.write() as conn:
        result = conn.execute(sa.update(table).where(table.c.id == row_id).values(**values))
        assert result.rowcount == 1


def _flip(data: bytes, position: int | None = None) -> bytes:
    damaged = bytearray(data)
    damaged[len(data) // 2 if position is None else position] ^= 0x01
    return bytes(damaged)


@pytest.fixture
def two_incidents(registry: Registry) -> tuple[str, str, str]:
    """Two incidents in the same case (same key): only the associated data tells them apart."""
    case_id = registry.cases.create("Caso de prueba")
    a = registry.incidents.add(factories.incident(title="Title of A"), case_id=case_id)
    b = registry.incidents.add(
        factories.incident(title="Title of B", narrative="Narrative of B"), case_id=case_id
    )
    assert a.id and b.id
    return case_id, a.id, b.id


def _all_reads_fail(registry: Registry, incident_id: str) -> None:
    with pytest.raises(IntegrityError):
        registry.incidents.get(incident_id)


def test_title_swapped_between_incidents(
    registry: Registry, two_incidents: tuple[str, str, str]
) -> None:
    case_id, a, b = two_incidents
    title_a = _get(registry, I, a, "title_ct")
    title_b = _get(registry, I, b, "title_ct")
    _set(registry, I, a, title_ct=title_b)
    _set(registry, I, b, title_ct=title_a)

    _all_reads_fail(registry, a)
    _all_reads_fail(registry, b)
    in_case = IncidentFilter(case_id=case_id)
    with pytest.raises(IntegrityError):
        registry.incidents.list(in_case)
    with pytest.raises(IntegrityError):
        registry.incidents.search("motorbike", in_case)

    _set(registry, I, a, title_ct=title_a)
    _set(registry, I, b, title_ct=title_b)
    assert registry.incidents.get(a).title == "Title of A"
    assert {s.title for s in registry.incidents.list(in_case)} == {"Title of A", "Title of B"}


def test_fields_swapped_within_one_incident(
    registry: Registry, two_incidents: tuple[str, str, str]
) -> None:
    _case_id, a, _b = two_incidents
    title = _get(registry, I, a, "title_ct")
    narrative = _get(registry, I, a, "narrative_ct")
    _set(registry, I, a, title_ct=narrative, narrative_ct=title)
    _all_reads_fail(registry, a)
    _set(registry, I, a, place_ct=title, title_ct=title, narrative_ct=narrative)
    _all_reads_fail(registry, a)


def test_bit_flipped_narrative(registry: Registry, two_incidents: tuple[str, str, str]) -> None:
    _case_id, a, _b = two_incidents
    narrative = _get(registry, I, a, "narrative_ct")
    for position in (0, 1, 12, 13, len(narrative) // 2, -17, -1):  # format, nonce, body, tag
        _set(registry, I, a, narrative_ct=_flip(narrative, position))
        _all_reads_fail(registry, a)
    _set(registry, I, a, narrative_ct=narrative)
    assert registry.incidents.get(a).narrative == factories.incident()["narrative"]


def test_truncated_ciphertext(registry: Registry, two_incidents: tuple[str, str, str]) -> None:
    _case_id, a, _b = two_incidents
    narrative = _get(registry, I, a, "narrative_ct")
    for cut in (narrative[:-1], narrative[:20], b"", b"\x01"):
        _set(registry, I, a, narrative_ct=cut)
        _all_reads_fail(registry, a)


def test_version_counter_rolled_back(
    registry: Registry, two_incidents: tuple[str, str, str]
) -> None:
    """Every field is bound to the record's version: editing the counter breaks them all."""
    _case_id, a, _b = two_incidents
    registry.incidents.amend(a, {"title": "Second title"})
    _set(registry, I, a, version=1)
    _all_reads_fail(registry, a)


def test_child_ciphertext_swapped_between_rows(
    registry: Registry, two_incidents: tuple[str, str, str]
) -> None:
    _case_id, a, b = two_incidents
    p = schema.perpetrators
    sources = schema.sources
    with registry.store.read() as conn:
        perp_a, name_a = conn.execute(
            sa.select(p.c.id, p.c.name_ct).where(p.c.incident_id == a)
        ).one()
        src_a, ident_a = conn.execute(
            sa.select(sources.c.id, sources.c.identity_ct).where(sources.c.incident_id == a)
        ).one()
        name_b = conn.execute(sa.select(p.c.name_ct).where(p.c.incident_id == b)).scalar_one()
    _set(registry, p, perp_a, name_ct=bytes(name_b))
    _all_reads_fail(registry, a)
    _set(registry, p, perp_a, name_ct=bytes(name_a))
    assert registry.incidents.get(a).perpetrators[0].name == "Guard Unit 7"
    _set(registry, sources, src_a, description_ct=bytes(ident_a))
    _all_reads_fail(registry, a)


def test_defender_name_swapped(registry: Registry) -> None:
    case_id = registry.cases.create()
    a = registry.defenders.add(factories.defender(display_name="Ana"), case_id=case_id)
    b = registry.defenders.add(factories.defender(display_name="Bea"), case_id=case_id)
    assert a.id and b.id
    name_a = _get(registry, D, a.id, "display_name_ct")
    name_b = _get(registry, D, b.id, "display_name_ct")
    _set(registry, D, a.id, display_name_ct=name_b)
    with pytest.raises(IntegrityError):
        registry.defenders.get(a.id)
    with pytest.raises(IntegrityError):
        registry.defenders.list(DefenderFilter(case_id=case_id))
    with pytest.raises(IntegrityError):
        registry.defenders.list(DefenderFilter(case_id=case_id, text="Flores"))
    _set(registry, D, a.id, display_name_ct=name_a)
    _set(registry, D, a.id, contacts_ct=_get(registry, D, b.id, "contacts_ct"))
    with pytest.raises(IntegrityError):
        registry.defenders.get(a.id)


def test_close_person_name_swapped(registry: Registry) -> None:
    case_id = registry.cases.create()
    d = registry.defenders.add(
        factories.defender(
            close_people=[
                {"relation": "child", "name": "Laura"},
                {"relation": "partner", "name": "Salvador"},
            ]
        ),
        case_id=case_id,
    )
    cp = schema.close_people
    first, second = (p.id for p in d.close_people)
    assert first and second
    _set(registry, cp, first, name_ct=_get(registry, cp, second, "name_ct"))
    assert d.id
    with pytest.raises(IntegrityError):
        registry.defenders.get(d.id)


def test_case_key_swapped_between_cases(registry: Registry) -> None:
    vault_dir = registry.settings.vault_dir
    case_a = registry.cases.create("Case A")
    case_b = registry.cases.create("Case B")
    inc = registry.incidents.add(factories.incident(), case_id=case_a)
    assert inc.id
    c = schema.cases
    key_a = _get(registry, c, case_a, "wrapped_key")
    key_b = _get(registry, c, case_b, "wrapped_key")
    _set(registry, c, case_a, wrapped_key=key_b)
    _set(registry, c, case_b, wrapped_key=key_a)
    # A fresh unlock: the running registry still caches the right keys in memory.
    with Registry.open(vault_dir, PASSPHRASE, clock=Clock()) as fresh:
        with pytest.raises(IntegrityError):
            fresh.incidents.get(inc.id)
        with pytest.raises(IntegrityError):
            fresh.cases.get(case_b)
    _set(registry, c, case_a, wrapped_key=_flip(key_a))
    with (
        Registry.open(vault_dir, PASSPHRASE, clock=Clock()) as fresh,
        pytest.raises(IntegrityError),
    ):
        fresh.incidents.get(inc.id)


def test_case_title_swapped(registry: Registry) -> None:
    case_a = registry.cases.create("Case A")
    case_b = registry.cases.create("Case B")
    c = schema.cases
    _set(registry, c, case_a, title_ct=_get(registry, c, case_b, "title_ct"))
    with pytest.raises(IntegrityError):
        registry.cases.get(case_a)


# -- files -----------------------------------------------------------------------------
def _blob_path(registry: Registry, file_id: str) -> Path:
    matches = [p for p in registry.settings.files_dir.rglob(file_id) if p.is_file()]
    assert len(matches) == 1, matches
    return matches[0]


def test_bit_flipped_file_blob(registry: Registry) -> None:
    case_id = registry.cases.create()
    content = b"%PDF-1.4 testimony of a witness " * 100
    stored = registry.files.put(case_id, "testimonio.pdf", content, media_type="application/pdf")
    assert registry.files.read(stored.id) == content
    path = _blob_path(registry, stored.id)
    blob = path.read_bytes()
    for position in (0, 5, len(blob) // 2, len(blob) - 1):
        path.write_bytes(_flip(blob, position))
        with pytest.raises(IntegrityError):
            registry.files.read(stored.id)
    path.write_bytes(blob)
    assert registry.files.read(stored.id) == content


def test_file_blobs_swapped(registry: Registry) -> None:
    case_id = registry.cases.create()
    one = registry.files.put(case_id, "one.txt", b"first file")
    two = registry.files.put(case_id, "two.txt", b"second file")
    path_one, path_two = _blob_path(registry, one.id), _blob_path(registry, two.id)
    blob_one, blob_two = path_one.read_bytes(), path_two.read_bytes()
    path_one.write_bytes(blob_two)
    path_two.write_bytes(blob_one)
    with pytest.raises(IntegrityError):
        registry.files.read(one.id)
    with pytest.raises(IntegrityError):
        registry.files.read(two.id)


def test_file_blob_truncated(registry: Registry) -> None:
    case_id = registry.cases.create()
    stored = registry.files.put(case_id, "one.txt", b"some evidence bytes")
    path = _blob_path(registry, stored.id)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(IntegrityError):
        registry.files.read(stored.id)


def test_missing_file_blob_is_a_clean_error(registry: Registry) -> None:
    case_id = registry.cases.create()
    stored = registry.files.put(case_id, "gone.txt", b"evidence that was removed")
    _blob_path(registry, stored.id).unlink()
    with pytest.raises((IntegrityError, NotFound)):
        registry.files.read(stored.id)


def test_file_name_swapped(registry: Registry) -> None:
    case_id = registry.cases.create()
    one = registry.files.put(case_id, "one.txt", b"first file")
    two = registry.files.put(case_id, "two.txt", b"second file")
    t = schema.attachments
    _set(registry, t, one.id, name_ct=_get(registry, t, two.id, "name_ct"))
    with pytest.raises(IntegrityError):
        registry.files.info(one.id)
    with pytest.raises(IntegrityError):
        registry.files.read(one.id)
    _set(registry, t, two.id, sha256_ct=_get(registry, t, one.id, "sha256_ct"))
    with pytest.raises(IntegrityError):
        registry.files.read(two.id)


# -- version snapshots -----------------------------------------------------------------
def _snapshot(registry: Registry, entity: str, entity_id: str, version: int) -> bytes:
    with registry.store.read() as conn:
        value = conn.execute(
            sa.select(V.c.snapshot_ct).where(
                V.c.entity == entity, V.c.entity_id == entity_id, V.c.version == version
            )
        ).scalar_one()
    return bytes(value)


def _set_snapshot(
    registry: Registry, entity: str, entity_id: str, version: int, value: bytes
) -> None:
    with registry.store.write() as conn:
        result = conn.execute(
            sa.update(V)
            .where(V.c.entity == entity, V.c.entity_id == entity_id, V.c.version == version)
            .values(snapshot_ct=value)
        )
        assert result.rowcount == 1


READERS: dict[str, Callable[[Registry, str], object]] = {
    "diff": lambda r, i: r.incidents.diff(i, 1, 2),
    "snapshot-1": lambda r, i: r.incidents.versions.snapshot(i, 1),
    "snapshot-2": lambda r, i: r.incidents.versions.snapshot(i, 2),
    "restore": lambda r, i: r.incidents.restore(i, 1),
}


def test_snapshots_swapped_between_versions(
    registry: Registry, two_incidents: tuple[str, str, str]
) -> None:
    _case_id, a, _b = two_incidents
    registry.incidents.amend(a, {"title": "Second title"})
    v1 = _snapshot(registry, "incident", a, 1)
    v2 = _snapshot(registry, "incident", a, 2)
    _set_snapshot(registry, "incident", a, 1, v2)
    _set_snapshot(registry, "incident", a, 2, v1)
    assert [v.version for v in registry.incidents.history(a)] == [1, 2]  # metadata only
    for name, read in READERS.items():
        with pytest.raises(IntegrityError):
            read(registry, a)
            pytest.fail(f"{name} returned data from a swapped snapshot")
    assert registry.incidents.get(a).title == "Second title"  # the live record is untouched
    _set_snapshot(registry, "incident", a, 1, v1)
    _set_snapshot(registry, "incident", a, 2, v2)
    changes = {c.field: (c.before, c.after) for c in registry.incidents.diff(a, 1, 2)}
    assert changes["title"] == ("Title of A", "Second title")


def test_snapshot_swapped_between_records(
    registry: Registry, two_incidents: tuple[str, str, str]
) -> None:
    _case_id, a, b = two_incidents
    _set_snapshot(registry, "incident", a, 1, _snapshot(registry, "incident", b, 1))
    with pytest.raises(IntegrityError):
        registry.incidents.versions.snapshot(a, 1)


def test_defender_snapshot_bit_flipped(registry: Registry) -> None:
    d = registry.defenders.add(factories.defender())
    assert d.id
    registry.defenders.amend(d.id, {"notes": "new note"})
    v1 = _snapshot(registry, "defender", d.id, 1)
    _set_snapshot(registry, "defender", d.id, 1, _flip(v1))
    with pytest.raises(IntegrityError):
        registry.defenders.diff(d.id, 1, 2)
    with pytest.raises(IntegrityError):
        registry.defenders.restore(d.id, 1)
