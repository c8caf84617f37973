"""Acceptance: no plaintext at rest. Canaries in every sensitive field and file; then every
byte the vault leaves on disk (database, WAL, key file, settings, files, temp files) and every
row of the database is searched for them, in several encodings and foldings."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.clock import Clock
from amparo.registry import Registry
from amparo.security.blind_index import normalise_words
from amparo.settings import Settings
from amparo.store import schema
from tests import factories
from tests.conftest import PASSPHRASE
from tests.security.leaks import (
    canary_cores,
    core_of,
    database_bytes,
    hits,
    new_canary,
    open_files_of_this_process,
    search_index,
    strip_accents,
    vault_files,
)

ACCENTED = "ñandúCáceres"  # every canary carries accents, so folded forms differ


@dataclass
class Canaries:
    by_field: dict[str, str] = field(default_factory=dict)

    def __call__(self, name: str) -> str:
        value = new_canary(ACCENTED)
        self.by_field[name] = value
        return value

    @property
    def all(self) -> list[str]:
        return list(self.by_field.values())


@dataclass
class Written:
    canaries: Canaries
    defender_id: str
    incident_id: str
    file_id: str
    file_digest: str
    file_content: bytes


def _temp_dirs() -> list[Path]:
    dirs = {Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp")}
    return [d for d in dirs if d.is_dir()]


def _temp_listing() -> set[Path]:
    return {
        Path(root) / n for top in _temp_dirs() for root, _d, names in os.walk(top) for n in names
    }


def _new_temp_files(since: float, before: set[Path]) -> dict[Path, bytes]:
    """Files that appeared (or changed) in the temp directories while the test ran."""
    out = {}
    for top in _temp_dirs():
        for root, _dirs, names in os.walk(top):
            for name in names:
                path = Path(root) / name
                try:
                    if not path.is_file() or (path in before and path.stat().st_mtime < since):
                        continue
                    out[path] = path.read_bytes()
                except OSError:
                    continue  # vanished or unreadable: another process's
    return out


@pytest.fixture
def log_records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def _write_everything(registry: Registry) -> Written:
    c = Canaries()
    case_id = registry.cases.create(c("case.title"))
    defender = registry.defenders.add(
        factories.defender(
            display_name=c("defender.display_name"),
            legal_name=c("defender.legal_name"),
            aliases=[c("defender.aliases[0]"), c("defender.aliases[1]")],
            organisations=[c("defender.organisations")],
            contacts=f"+504 555 {c('defender.contacts')}",
            notes=f"Vive cerca del río. {c('defender.notes')}",
            close_people=[
                {
                    "relation": "child",
                    "name": c("close_people.name"),
                    "notes": c("close_people.notes"),
                }
            ],
            consents=[
                {
                    "purpose": "documentation",
                    "granted": True,
                    "recorded_on": "2024-03-01",
                    "note": c("consent.note"),
                }
            ],
        ),
        case_id=case_id,
    )
    assert defender.id
    incident_data = factories.incident(
        title=f"Amenaza {c('incident.title')}",
        narrative=f"Dos hombres en moto. {c('incident.narrative')} Fin.",
        place=c("incident.place"),
        notes={"date_start": c("incident.notes.date_start"), "place": c("incident.notes.place")},
        perpetrators=[
            {
                "perpetrator_type": "private_security",
                "name": c("perpetrator.name"),
                "description": c("perpetrator.description"),
            }
        ],
        acts=[
            {
                "act_type": "A09",
                "victim_defender_id": defender.id,
                "victim_description": c("act.victim_description"),
                "business_company": c("act.business_company"),
                "involvements": [{"perpetrator": 0, "degree": "carried_out"}],
            }
        ],
        sources=[
            {
                "source_type": "victim_testimony",
                "reliability": "highly_reliable",
                "identity": c("source.identity"),
                "description": c("source.description"),
            }
        ],
        interventions=[
            {
                "status": "pending",
                "priority": "urgent",
                "intervener": c("intervention.intervener"),
                "response": c("intervention.response"),
            }
        ],
    )
    incident = registry.incidents.add(incident_data, case_id=case_id)
    assert incident.id

    content = f"JPEG evidence of {c('file.content')} ".encode() * 64
    stored = registry.files.put(
        case_id, f"foto_{c('file.name')}.jpg", content, incident_id=incident.id
    )

    # Amendments leave versions behind (their snapshots must be sealed too).
    registry.defenders.amend(
        defender.id, {"notes": c("defender.notes.v2"), "display_name": c("defender.name.v2")}
    )
    registry.incidents.amend(incident.id, {"title": c("incident.title.v2")})
    registry.incidents.amend(incident.id, {"narrative": c("incident.narrative.v3")})

    # A deleted incident: gone from the tables, kept sealed in its history.
    doomed = registry.incidents.add(
        factories.incident(title=c("deleted.title"), narrative=c("deleted.narrative")),
        case_id=case_id,
    )
    assert doomed.id
    registry.incidents.delete(doomed.id)

    return Written(c, defender.id, incident.id, stored.id, stored.sha256, content)


def _read_everything(registry: Registry, w: Written) -> None:
    """Reads and searches must work (the canaries are really there) without leaving traces."""
    c = w.canaries.by_field
    defender = registry.defenders.get(w.defender_id)
    assert defender.display_name == c["defender.name.v2"]
    assert defender.close_people[0].name == c["close_people.name"]
    assert defender.consents[0].note == c["consent.note"]
    incident = registry.incidents.get(w.incident_id)
    assert incident.title == c["incident.title.v2"]
    assert incident.sources[0].identity == c["source.identity"]
    assert registry.files.read(w.file_id) == w.file_content
    assert registry.files.info(w.file_id).name == f"foto_{c['file.name']}.jpg"
    assert registry.incidents.diff(w.incident_id, 1, 3)

    for name in ("defender.name.v2", "defender.legal_name", "defender.aliases[1]",
                 "close_people.name", "defender.organisations", "defender.notes.v2"):  # fmt: skip
        assert [d.id for d in registry.defenders.search(c[name])] == [w.defender_id], name
    # Search folds case and accents: the lower-case accent-free form finds it too.
    folded = strip_accents(c["defender.legal_name"]).lower()
    assert [d.id for d in registry.defenders.search(folded)] == [w.defender_id]
    for name in ("incident.title.v2", "incident.narrative.v3", "incident.place",
                 "perpetrator.name", "act.victim_description", "source.description",
                 "intervention.response"):  # fmt: skip
        assert [i.id for i in registry.incidents.search(c[name])] == [w.incident_id], name
    # Old values are no longer searchable.
    assert registry.incidents.search(c["incident.title"]) == []
    assert registry.defenders.search(c["defender.notes"]) == []
    assert registry.incidents.search(c["deleted.title"]) == []


def _leaks(blob: bytes, w: Written, *, passphrase: bool = True) -> list[str]:
    ours = {core_of(c): c for c in w.canaries.all}
    found = [ours[core] for core in canary_cores(blob) if core in ours]
    if passphrase:  # not in foreign temp files: other test runs share the constant
        found += hits(blob, [PASSPHRASE])
    for marker in (w.file_digest.encode(), bytes.fromhex(w.file_digest)):
        if marker in blob:
            found.append(f"file hash {marker!r}")
    return found


def test_no_plaintext_at_rest(
    registry: Registry, vault_dir: Path, log_records: pytest.LogCaptureFixture
) -> None:
    started = time.time() - 1
    temp_before = _temp_listing()

    w = _write_everything(registry)
    _read_everything(registry, w)
    expected = {
        "case.title", "defender.display_name", "defender.legal_name", "defender.aliases[0]",
        "defender.organisations", "defender.contacts", "defender.notes", "close_people.name",
        "close_people.notes", "consent.note", "incident.title", "incident.narrative",
        "incident.place", "incident.notes.date_start", "perpetrator.name",
        "perpetrator.description", "act.victim_description", "act.business_company",
        "source.identity", "source.description", "intervention.intervener",
        "intervention.response", "file.content", "file.name",
    }  # fmt: skip
    assert expected <= set(w.canaries.by_field)
    url = registry.settings.database_url

    # While the vault is open (WAL full of fresh pages): what a raid on a running server finds,
    # and every file this process holds open, deleted temp files included.
    open_files = vault_files(vault_dir)
    assert {str(p): f for p, d in open_files.items() if (f := _leaks(d, w))} == {}
    held = open_files_of_this_process()
    assert any(p.startswith(str(vault_dir)) for p in held) or registry.store.dialect != "sqlite"
    assert {p: f for p, d in held.items() if (f := _leaks(d, w))} == {}
    assert _leaks(database_bytes(url), w) == []

    registry.close()

    files = vault_files(vault_dir)
    names = {p.relative_to(vault_dir).as_posix() for p in files}
    assert {"vault.key", "amparo.toml"} <= names
    assert any(n.startswith("files/") for n in names)
    assert any(n.endswith(w.file_id) for n in names)
    if registry.store.dialect == "sqlite":
        assert {"amparo.db"} <= names
    leaking = {str(p): found for p, data in files.items() if (found := _leaks(data, w))}
    assert leaking == {}

    # Every row of every table, as a dump would hold it (the only check that sees PostgreSQL).
    assert _leaks(database_bytes(url), w) == []

    # Temp files: anything new in the system temp directories (other processes' files too).
    temp_files = _new_temp_files(started, temp_before)
    assert {str(p): f for p, d in temp_files.items() if (f := _leaks(d, w, passphrase=False))} == {}
    assert _leaks(log_records.text.encode(), w) == []
    assert hits(log_records.text.encode(), w.canaries.all) == []


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: t.encode(),
        lambda t: t.lower().encode(),
        lambda t: t.upper().encode(),
        lambda t: strip_accents(t).lower().encode(),
        lambda t: unicodedata.normalize("NFD", t).encode(),
        lambda t: json.dumps(t).encode(),
        lambda t: t.encode("utf-16-le"),
        lambda t: t.encode("utf-16-be"),
        lambda t: t.lower().encode("utf-16"),
        lambda t: strip_accents(t).upper().encode("utf-16-be"),
    ],
)
def test_detector_sees_every_form(transform: Callable[[str], bytes]) -> None:
    canary = new_canary(ACCENTED)
    other = new_canary(ACCENTED)
    data = transform(canary)
    blob = os.urandom(1000) + data + os.urandom(1000)
    assert canary_cores(blob) & {core_of(canary), core_of(other)} == {core_of(canary)}
    assert canary_cores(os.urandom(2000)) == set()


def test_search_index_holds_no_words(registry: Registry) -> None:
    w = _write_everything(registry)
    with registry.store.read() as conn:
        index = search_index(conn)
        raw = b"\x00".join(
            str(v).encode() for row in conn.execute(sa.select(schema.search_docs)) for v in row
        )
    assert set(index) == {w.defender_id, w.incident_id}
    tokens = set().union(*index.values())
    assert len(tokens) >= 16
    assert {len(t) for t in tokens} == {16}
    assert hits(raw, w.canaries.all) == []
    assert hits(b"".join(tokens), w.canaries.all) == []
    # Nor unkeyed digests of the words, which anyone could recompute from a guess.
    for canary in w.canaries.all:
        for word in normalise_words(canary):
            data = word.encode()
            for guess in (
                hashlib.sha256(data).digest()[:16],
                hashlib.md5(data).digest(),  # a guess an attacker would try
                hmac.new(b"", data, hashlib.sha256).digest()[:16],
            ):
                assert guess not in tokens
                assert guess.hex().encode() not in raw


def test_reopened_vault_reads_the_canaries_back(registry: Registry, vault_dir: Path) -> None:
    """The canaries are really stored (sealed), not dropped: a fresh unlock reads them."""
    w = _write_everything(registry)
    registry.close()
    with Registry.open(vault_dir, PASSPHRASE, clock=Clock()) as again:
        _read_everything(again, w)
    assert Settings.load(vault_dir).key_file.exists()


def test_demo_names_are_not_at_rest(registry: Registry, vault_dir: Path) -> None:
    from amparo import demo

    counts = demo.populate(registry, size=demo.DemoSize(defenders=40, incidents=150))
    assert counts["defenders"] == 40 and counts["incidents"] == 150
    summaries = registry.defenders.list()
    names = {d.display_name for d in summaries}
    assert len(names) >= 35
    secrets_: set[str] = set(names)
    for summary in summaries:
        legal_name = registry.defenders.get(summary.id).legal_name
        if legal_name:
            secrets_.add(legal_name)
    secrets_.add(demo.MARKER_WORD)
    # The names are really stored: search over the encrypted profiles finds them.
    first = summaries[0]
    assert first.id in {d.id for d in registry.defenders.search(first.display_name)}
    assert registry.incidents.search(demo.MARKER_WORD)
    url = registry.settings.database_url

    open_files = vault_files(vault_dir)
    leaking = {str(p): f for p, d in open_files.items() if (f := hits(d, secrets_, lean=True))}
    assert leaking == {}
    registry.close()

    files = vault_files(vault_dir)
    leaking = {str(p): f for p, d in files.items() if (f := hits(d, secrets_, lean=True))}
    assert leaking == {}
    assert hits(database_bytes(url), secrets_, lean=True) == []
