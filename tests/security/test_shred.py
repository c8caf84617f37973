"""Shredding a case: its records, history, tokens, files and key are gone for good; other
cases are intact, and links into the shredded case are cut, not left dangling."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.clock import Clock
from amparo.errors import Conflict, KeyShredded, NotFound
from amparo.registry import Registry
from amparo.store import schema
from tests import factories
from tests.conftest import NOW, PASSPHRASE, PG_URL
from tests.security.leaks import (
    database_bytes,
    files_with_canaries,
    new_canary,
    search_index,
    vault_files,
)


@dataclass
class Case:
    id: str
    canaries: list[str] = field(default_factory=list)
    defender_id: str = ""
    person_id: str = ""
    incident_id: str = ""
    file_id: str = ""
    file_content: bytes = b""

    def c(self) -> str:
        value = new_canary("ñandú")
        self.canaries.append(value)
        return value


def _fill(registry: Registry, case: Case) -> None:
    d = registry.defenders.add(
        factories.defender(
            display_name=case.c(),
            legal_name=case.c(),
            notes=case.c(),
            close_people=[{"relation": "child", "name": case.c(), "notes": case.c()}],
        ),
        case_id=case.id,
    )
    assert d.id and d.close_people[0].id
    case.defender_id, case.person_id = d.id, d.close_people[0].id
    registry.defenders.amend(d.id, {"contacts": case.c()})
    inc = registry.incidents.add(
        factories.incident(
            title=case.c(),
            narrative=case.c(),
            place=case.c(),
            acts=[{"act_type": "A09", "victim_defender_id": d.id, "victim_description": case.c()}],
            perpetrators=[{"perpetrator_type": "police", "name": case.c()}],
        ),
        case_id=case.id,
    )
    assert inc.id
    case.incident_id = inc.id
    registry.incidents.amend(inc.id, {"title": case.c()})
    case.file_content = f"evidence {case.c()}".encode() * 50
    case.file_id = registry.files.put(
        case.id, f"{case.c()}.pdf", case.file_content, incident_id=inc.id
    ).id


@pytest.fixture
def two_cases(registry: Registry) -> tuple[Case, Case]:
    doomed = Case(registry.cases.create("Doomed case"))
    kept = Case(registry.cases.create("Kept case"))
    _fill(registry, doomed)
    _fill(registry, kept)
    return doomed, kept


def _ciphertexts_of(registry: Registry, case: Case) -> list[bytes]:
    """Every sealed value the doomed case has in the database, captured before shredding."""
    s = schema
    out: list[bytes] = []
    with registry.store.read() as conn:
        out.append(
            bytes(
                conn.execute(
                    sa.select(s.cases.c.wrapped_key).where(s.cases.c.id == case.id)
                ).scalar_one()
            )
        )
        for table, where in [
            (s.incidents, s.incidents.c.id == case.incident_id),
            (s.defenders, s.defenders.c.id == case.defender_id),
            (s.close_people, s.close_people.c.defender_id == case.defender_id),
            (s.perpetrators, s.perpetrators.c.incident_id == case.incident_id),
            (s.acts, s.acts.c.incident_id == case.incident_id),
            (s.record_versions, s.record_versions.c.case_id == case.id),
            (s.attachments, s.attachments.c.case_id == case.id),
        ]:
            columns = [c for c in table.c if c.name.endswith("_ct")]
            for row in conn.execute(sa.select(*columns).where(where)):
                out.extend(bytes(v) for v in row if v is not None)
    assert len(out) > 15
    return out


def test_shred_removes_the_case_and_keeps_the_other(
    registry: Registry, two_cases: tuple[Case, Case], vault_dir: Path
) -> None:
    doomed, kept = two_cases
    sealed = _ciphertexts_of(registry, doomed)
    blob_paths = [p for p in registry.settings.files_dir.rglob(doomed.file_id) if p.is_file()]
    assert len(blob_paths) == 1
    blob = blob_paths[0].read_bytes()

    report = registry.cases.shred(doomed.id)

    assert (report.case_id, report.incidents, report.defenders, report.files) == (
        doomed.id, 1, 1, 1,
    )  # fmt: skip
    assert report.versions == 4  # defender v1, v2; incident v1, v2

    # The shredded case's records are gone, with clean errors.
    with pytest.raises(NotFound):
        registry.defenders.get(doomed.defender_id)
    with pytest.raises(NotFound):
        registry.incidents.get(doomed.incident_id)
    with pytest.raises(NotFound):
        registry.incidents.history(doomed.incident_id)
    with pytest.raises(NotFound):
        registry.defenders.history(doomed.defender_id)
    with pytest.raises(NotFound):
        registry.files.read(doomed.file_id)
    summary = registry.cases.get(doomed.id)
    assert summary.shredded and summary.status == "shredded" and summary.title is None
    with pytest.raises(KeyShredded):
        registry.incidents.add(factories.incident(), case_id=doomed.id)
    with pytest.raises(KeyShredded):
        registry.defenders.add(factories.defender(), case_id=doomed.id)
    with pytest.raises(KeyShredded):
        registry.files.put(doomed.id, "late.txt", b"too late")
    assert not blob_paths[0].exists()

    # The other case is whole.
    assert registry.cases.get(kept.id).title == "Kept case"
    assert registry.defenders.get(kept.defender_id).notes == kept.canaries[2]
    assert registry.incidents.get(kept.incident_id).title == kept.canaries[-3]
    assert registry.files.read(kept.file_id) == kept.file_content
    assert [d.id for d in registry.defenders.search(kept.canaries[0])] == [kept.defender_id]
    assert [i.id for i in registry.incidents.search(kept.canaries[-3])] == [kept.incident_id]
    assert [v.version for v in registry.incidents.history(kept.incident_id)] == [1, 2]
    assert registry.defenders.search(doomed.canaries[0]) == []
    assert registry.incidents.list() and {i.id for i in registry.incidents.list()} == {
        kept.incident_id
    }
    if registry.store.dialect == "sqlite":
        assert registry.store.integrity_problems() == []

    # Nothing of the shredded case is left anywhere: no canary, no ciphertext, no key.
    files = vault_files(vault_dir)
    assert files_with_canaries(files, doomed.canaries) == {}
    for path, data in files.items():
        assert blob not in data, path
        for value in sealed:
            assert value not in data, f"ciphertext of the shredded case survives in {path}"
    dump = database_bytes(registry.settings.database_url)
    assert all(value not in dump for value in sealed)
    with registry.store.read() as conn:
        assert conn.execute(
            sa.select(schema.cases.c.wrapped_key, schema.cases.c.title_ct).where(
                schema.cases.c.id == doomed.id
            )
        ).one() == (None, None)
        for table in (schema.record_versions, schema.attachments):
            assert not conn.execute(sa.select(table).where(table.c.case_id == doomed.id)).first()

    # A fresh unlock cannot read the case either (no key is cached anywhere).
    registry.close()
    with Registry.open(vault_dir, PASSPHRASE, clock=Clock()) as fresh:
        with pytest.raises(NotFound):
            fresh.incidents.get(doomed.incident_id)
        assert fresh.incidents.get(kept.incident_id).title == kept.canaries[-3]
        with pytest.raises(KeyShredded):
            fresh.incidents.add(factories.incident(), case_id=doomed.id)
    files = vault_files(vault_dir)
    assert files_with_canaries(files, doomed.canaries) == {}
    assert all(v not in data for data in files.values() for v in sealed)


def test_shred_removes_search_entries(
    registry: Registry, two_cases: tuple[Case, Case], vault_dir: Path
) -> None:
    doomed, kept = two_cases
    with registry.store.read() as conn:
        before = search_index(conn)
    doomed_ids = {doomed.defender_id, doomed.incident_id}
    kept_ids = {kept.defender_id, kept.incident_id}
    assert doomed_ids | kept_ids <= set(before)
    kept_tokens = set().union(*(before[i] for i in kept_ids))
    only_doomed = set().union(*(before[i] for i in doomed_ids)) - kept_tokens
    assert len(only_doomed) > 5

    registry.cases.shred(doomed.id)

    with registry.store.read() as conn:
        after = search_index(conn)
    assert set(after) == kept_ids
    assert set().union(*after.values()) == kept_tokens
    # The shredded case's words are no longer found, the kept case's still are.
    assert registry.defenders.search(doomed.canaries[0]) == []
    assert registry.incidents.search(doomed.canaries[-3]) == []
    assert [d.id for d in registry.defenders.search(kept.canaries[0])] == [kept.defender_id]
    if registry.store.dialect == "sqlite":
        registry.close()
        assert fts_terms(vault_dir / "amparo.db") & {t.hex() for t in only_doomed} == set()
        assert fts_terms(vault_dir / "amparo.db") >= {t.hex() for t in kept_tokens}
        files = vault_files(vault_dir)
        for token in only_doomed:
            assert all(token.hex().encode() not in data for data in files.values())


def fts_terms(db: Path) -> set[str]:
    """Every term physically present in SQLite's full-text index (through fts5vocab)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_fts, row)")
        return {row[0] for row in conn.execute("SELECT term FROM temp.terms")}
    finally:
        conn.close()


def test_links_from_other_cases_are_cut_not_dangling(
    registry: Registry, two_cases: tuple[Case, Case]
) -> None:
    doomed, kept = two_cases
    pointing = registry.incidents.add(
        factories.incident(
            title="Points at the doomed case",
            acts=[
                {"act_type": "A09", "victim_defender_id": doomed.defender_id},
                {"act_type": "A09", "victim_person_id": doomed.person_id},
                {"act_type": "A09", "victim_defender_id": kept.defender_id},
            ],
            perpetrators=[],
            links=[
                {"related_id": doomed.incident_id, "relation": "follows"},
                {"related_id": kept.incident_id, "relation": "follows"},
            ],
        ),
        case_id=kept.id,
    )
    duplicate = registry.defenders.add(factories.defender(display_name="Dup"), case_id=kept.id)
    assert pointing.id and duplicate.id
    registry.defenders.merge(doomed.defender_id, duplicate.id)

    registry.cases.shred(doomed.id)

    after = registry.incidents.get(pointing.id)
    assert after.title == "Points at the doomed case"
    assert [(a.victim_defender_id, a.victim_person_id) for a in after.acts] == [
        (None, None),
        (None, None),
        (kept.defender_id, None),
    ]
    assert [lk.related_id for lk in after.links] == [kept.incident_id]
    with registry.store.read() as conn:
        merged_into = conn.execute(
            sa.select(schema.defenders.c.merged_into).where(schema.defenders.c.id == duplicate.id)
        ).scalar_one()
    assert merged_into is None
    if registry.store.dialect == "sqlite":
        assert registry.store.integrity_problems() == []
    # The surviving incident can still be amended (no reference to a missing row).
    registry.incidents.amend(pointing.id, {"narrative": "still editable"})


def test_shred_unknown_case(registry: Registry) -> None:
    with pytest.raises(NotFound, match="no case"):
        registry.cases.shred("0" * 32)


def test_shredding_twice_is_a_clean_error(
    registry: Registry, two_cases: tuple[Case, Case], vault_dir: Path
) -> None:
    doomed, kept = two_cases
    registry.cases.shred(doomed.id)
    shredded_at = _shredded_at(registry, doomed.id)
    assert isinstance(shredded_at, datetime)
    later = Clock(NOW.replace(year=NOW.year + 1))
    with Registry.open(vault_dir, PASSPHRASE, clock=later) as again:
        with pytest.raises(Conflict, match="already shredded"):
            again.cases.shred(doomed.id)
        # The record of when it was shredded is not rewritten, and nothing else is touched.
        assert _shredded_at(again, doomed.id) == shredded_at
        assert again.incidents.get(kept.incident_id).case_id == kept.id
        assert again.cases.get(doomed.id).shredded


def _shredded_at(registry: Registry, case_id: str) -> object:
    with registry.store.read() as conn:
        return conn.execute(
            sa.select(schema.cases.c.shredded_at).where(schema.cases.c.id == case_id)
        ).scalar_one()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's MVCC keeps dead row versions in its pages")
def test_shred_leaves_no_dead_row_versions_on_postgres(
    registry: Registry, two_cases: tuple[Case, Case]
) -> None:
    doomed, _kept = two_cases
    sealed = _ciphertexts_of(registry, doomed)
    registry.cases.shred(doomed.id)
    with registry.store.write() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        pages = b""
        for table in ("cases", "incidents", "defenders", "close_people", "record_versions"):
            count = conn.exec_driver_sql(
                f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int"
            ).scalar_one()
            for page in range(count):
                pages += bytes(
                    conn.exec_driver_sql(f"SELECT get_raw_page('{table}', {page})").scalar_one()
                )
    assert pages
    survivors = [value for value in sealed if value in pages]
    assert survivors == [], f"{len(survivors)} sealed values (wrapped key first) remain on pages"


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's MVCC keeps dead row versions in its pages")
def test_a_transaction_open_elsewhere_during_a_shred_is_reported_then_the_rows_go(
    registry: Registry, two_cases: tuple[Case, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """VACUUM FULL keeps a dead version that a transaction begun before it may still see,
    even one in another database of the server: the shred says so instead of claiming the
    rows are gone, and a VACUUM FULL once that transaction ends removes them."""
    from amparo.store import engine

    doomed, _kept = two_cases
    sealed = _ciphertexts_of(registry, doomed)
    monkeypatch.setattr(engine, "VACUUM_RETRY_WAITS", (0.1,))
    other = sa.create_engine(
        sa.make_url(str(PG_URL)).set(drivername="postgresql+psycopg", database="postgres")
    )
    try:
        with other.connect() as elsewhere:
            elsewhere.exec_driver_sql("SELECT txid_current()")  # holds an xid until it ends
            report = registry.cases.shred(doomed.id)
            assert report.held_by_sessions >= 1
        assert registry.store.checkpoint(waits=()) == 0
    finally:
        other.dispose()
    with registry.store.write() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        pages = b"".join(
            bytes(conn.exec_driver_sql(f"SELECT get_raw_page('cases', {page})").scalar_one())
            for page in range(
                conn.exec_driver_sql(
                    "SELECT pg_relation_size('cases') / current_setting('block_size')::int"
                ).scalar_one()
            )
        )
    assert sealed[0] not in pages  # the wrapped key, once the transaction has ended
