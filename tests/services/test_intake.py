"""Secure intake: sealed at rest, bundles verified, inbox review, key rotation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.errors import Conflict, IntegrityError, NotFound, ValidationError
from amparo.registry import Registry
from amparo.security import intake_keys as ik
from amparo.services.intake import IntakeThrottled, hash_receipt
from amparo.services.intake_field import build_bundle, device_key, load_device_seed
from amparo.store import schema
from tests import factories
from tests.evidence.samples import jpeg
from tests.security.leaks import (
    database_bytes,
    files_with_canaries,
    hits,
    is_sqlite,
    new_canary,
    vault_files,
)

S = schema.intake_submissions


@pytest.fixture
def intake(registry: Registry) -> Registry:
    registry.intake.keygen()
    return registry


def _assert_sealed_at_rest(registry: Registry, canaries: list[str]) -> None:
    """No canary in any file under the vault (database, WAL, journal, files) and, on
    PostgreSQL, in any value of any table."""
    files = vault_files(registry.settings.vault_dir)
    assert files, "the vault has files"
    assert files_with_canaries(files, canaries) == {}
    if not is_sqlite(registry.settings.database_url):
        assert hits(database_bytes(registry.settings.database_url), canaries) == []


def test_a_submission_is_stored_only_sealed(intake: Registry) -> None:
    canaries = [new_canary(w) for w in ("qué", "where", "who", "contact", "file")]
    photo = jpeg() + canaries[4].encode()
    receipt = intake.intake.receive(
        {"what": f"Threatened {canaries[0]}", "when": "2024-05-01", "where": canaries[1],
         "who": canaries[2], "contact": canaries[3], "consent": ["contact", "documentation"]},
        [("photo.jpg", photo)], channel="form", address="203.0.113.5",
    )  # fmt: skip
    if is_sqlite(intake.settings.database_url):
        # Checkpoint nothing: the WAL as written is part of what is scanned.
        assert any(p.name.endswith("-wal") for p in vault_files(intake.settings.vault_dir))
    _assert_sealed_at_rest(intake, canaries)
    with intake.store.read() as conn:
        row = conn.execute(sa.select(S)).one()
    assert row.receipt_hash == hash_receipt(receipt.code)
    assert row.received_at.minute == 0 and row.received_at.second == 0  # to the hour
    opened = intake.intake.open(receipt.submission_id)
    assert opened.answers["where"] == canaries[1]
    assert opened.files[0].data == photo
    assert "GPS" in " ".join(opened.files[0].metadata_found)
    assert opened.consent == ["contact", "documentation"]


def test_receipt_shows_status_and_nothing_else(intake: Registry) -> None:
    receipt = intake.intake.receive({"what": "Followed home"})
    assert intake.intake.status(receipt.code) == "received"
    intake.intake.open(receipt.submission_id)
    assert intake.intake.status(receipt.code.lower().replace("-", " ")) == "in_review"
    intake.intake.discard(receipt.submission_id, "duplicate of an earlier call")
    assert intake.intake.status(receipt.code) == "acted_on"
    with pytest.raises(NotFound):
        intake.intake.status("AAAA-BBBB")


def test_failed_receipt_lookups_back_off(intake: Registry) -> None:
    for _ in range(5):
        with pytest.raises(NotFound):
            intake.intake.status("WRONG", address="198.51.100.7")
    with pytest.raises(IntakeThrottled):
        intake.intake.status("WRONG", address="198.51.100.7")
    assert intake.intake.receipt_wait("198.51.100.8").total_seconds() == 0


def test_rate_limit_per_address(intake: Registry) -> None:
    for _ in range(5):
        intake.intake.receive({"what": "x"}, address="192.0.2.1")
    with pytest.raises(IntakeThrottled):
        intake.intake.receive({"what": "x"}, address="192.0.2.1")
    intake.intake.receive({"what": "x"}, address="192.0.2.2")
    with intake.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S)).scalar() == 6


def test_bad_answers_name_the_field_and_store_nothing(intake: Registry) -> None:
    with pytest.raises(ValidationError) as err:
        intake.intake.receive({"what": ""})
    assert err.value.field == "what"
    with pytest.raises(ValidationError) as err:
        intake.intake.receive({"what": "x", "consent": ["sell_it"]})
    assert err.value.field == "consent"
    with pytest.raises(ValidationError) as err:
        intake.intake.receive({"what": "x", "name": "y"})
    assert err.value.field == "name"
    with pytest.raises(ValidationError) as err:
        intake.intake.receive({"what": "x"}, [("empty.txt", b"")])
    assert err.value.field == "files"
    with intake.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S)).scalar() == 0


def test_no_intake_key_no_submission(registry: Registry) -> None:
    with pytest.raises(NotFound):
        registry.intake.receive({"what": "x"})


def test_rotation_keeps_old_submissions_open(intake: Registry) -> None:
    old = intake.intake.receive({"what": "sealed to the first key"})
    first_public = intake.intake.public_key()
    new_info = intake.intake.rotate()
    assert intake.intake.public_key() == new_info.public_key != first_public
    new = intake.intake.receive({"what": "sealed to the second key"})
    assert intake.intake.open(old.submission_id).answers["what"] == "sealed to the first key"
    assert intake.intake.open(new.submission_id).answers["what"] == "sealed to the second key"
    previous = next(k.id for k in intake.intake.list_keys() if k.status == "previous")
    with pytest.raises(Conflict):  # an undecided submission is still sealed to it
        intake.intake.retire(previous)
    intake.intake.discard(old.submission_id, "tested")
    assert intake.intake.retire(previous) == 0
    with pytest.raises(IntegrityError):
        intake.intake.open(old.submission_id)
    with pytest.raises(Conflict):
        intake.intake.retire(new_info.id)  # the active key


def test_accept_creates_a_validated_incident_with_evidence(intake: Registry) -> None:
    receipt = intake.intake.receive(
        {"what": "Death threat by phone\nThey said they know her house.", "when": "2024-05-14",
         "where": "La Esperanza", "who": "Berta Flores", "contact": "Signal only"},
        [("note.txt", b"the message they sent")],
    )  # fmt: skip
    opened = intake.intake.open(receipt.submission_id)
    with pytest.raises(ValidationError):  # the act type and country are the reviewer's call
        intake.intake.accept(receipt.submission_id, {})
    incident_id = intake.intake.accept(
        receipt.submission_id,
        {"country": "HN", "acts": [{"act_type": "A09", "victim_description": "Berta"}]},
    )
    incident = intake.incidents.get(incident_id)
    assert incident.title == "Death threat by phone"
    assert incident.place == "La Esperanza"
    assert str(incident.date_start) == "2024-05-14"
    assert incident.sources[0].identity == "Signal only"
    items = intake.evidence.list(incident_id=incident_id)
    assert [i.name for i in items] == ["note.txt"]
    assert intake.intake.status(receipt.code) == "acted_on"
    with pytest.raises(Conflict):
        intake.intake.accept(receipt.submission_id, {"country": "HN"})
    assert opened.id == receipt.submission_id


def test_link_and_duplicate_suggestions(intake: Registry) -> None:
    defender = intake.defenders.add(factories.defender())
    incident = intake.incidents.add(factories.incident(date_start="2024-05-14"))
    receipt = intake.intake.receive({"what": "Again", "who": "Berta Flores", "when": "2024-05-16"})
    opened = intake.intake.open(receipt.submission_id)
    found = intake.intake.suggestions(opened)
    assert defender.id in [d.id for d in found.defenders]
    assert incident.id in [i.id for i in found.incidents]
    assert incident.id is not None
    intake.intake.link(receipt.submission_id, incident_id=incident.id)
    with intake.store.read() as conn:
        row = conn.execute(sa.select(S)).one()
    assert (row.state, row.incident_id) == ("linked", incident.id)
    with pytest.raises(ValidationError):
        intake.intake.link(receipt.submission_id)


def test_discard_keeps_the_reason_sealed(intake: Registry) -> None:
    canary = new_canary("reason")
    receipt = intake.intake.receive({"what": "x"})
    intake.intake.discard(receipt.submission_id, canary)
    assert intake.intake.discard_reason(receipt.submission_id) == canary
    _assert_sealed_at_rest(intake, [canary])
    with pytest.raises(ValidationError):
        intake.intake.discard(intake.intake.receive({"what": "y"}).submission_id, " ")


# -- field bundles ---------------------------------------------------------------------------
@pytest.fixture
def field_dir(tmp_path: Path) -> Path:
    return tmp_path / "partner-config"


def _bundle(intake: Registry, field_dir: Path, what: str = "Raid on the office") -> bytes:
    device_key(field_dir)
    built = build_bundle(intake.intake.public_key(), {"what": what}, [("a.txt", b"list")],
                         load_device_seed(field_dir))  # fmt: skip
    return built.data


def test_a_registered_device_bundle_imports_once(intake: Registry, field_dir: Path) -> None:
    canary = new_canary("bundle")
    intake.intake.add_device(device_key(field_dir), "Partner laptop")
    data = _bundle(intake, field_dir, canary)
    first = intake.intake.import_bundle(data)
    assert (first.outcome, first.quarantine) == ("imported", None)
    assert intake.intake.import_bundle(data).outcome == "duplicate"  # a replay
    with intake.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S)).scalar() == 1
    _assert_sealed_at_rest(intake, [canary])
    opened = intake.intake.open(first.submission_id)
    assert opened.answers["what"] == canary
    assert opened.device_label == "Partner laptop"


def test_tampered_and_truncated_bundles_are_rejected(intake: Registry, field_dir: Path) -> None:
    intake.intake.add_device(device_key(field_dir), "Partner laptop")
    data = _bundle(intake, field_dir)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    for bad in (bytes(flipped), data[:-1], data[: len(data) // 2], data + b"x", b"junk"):
        with pytest.raises(IntegrityError, match="nothing was imported"):
            intake.intake.import_bundle(bad, "field.bundle")
    with intake.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S)).scalar() == 0


def test_unknown_and_revoked_devices_are_quarantined(intake: Registry, field_dir: Path) -> None:
    unknown = intake.intake.import_bundle(_bundle(intake, field_dir))
    assert (unknown.outcome, unknown.quarantine) == ("quarantined", "unknown_device")
    intake.intake.add_device(device_key(field_dir), "Lost laptop")
    intake.intake.revoke_device(device_key(field_dir))
    revoked = intake.intake.import_bundle(_bundle(intake, field_dir))
    assert revoked.quarantine == "revoked_device"
    items = {i.id: i for i in intake.intake.inbox()}
    assert items[revoked.submission_id].quarantine == "revoked_device"
    with pytest.raises(Conflict, match="quarantined"):
        intake.intake.accept(revoked.submission_id, {"country": "HN"})
    intake.intake.link(revoked.submission_id, incident_id=intake.incidents.add(
        factories.incident()).id, release=True)  # fmt: skip


def test_bundle_for_another_organisation_is_refused(intake: Registry, field_dir: Path) -> None:
    device_key(field_dir)
    other = ik.format_key(ik.generate().public)
    data = build_bundle(other, {"what": "x"}, [], load_device_seed(field_dir)).data
    with pytest.raises(ValidationError, match="does not hold"):
        intake.intake.import_bundle(data)


def test_sqlite_journal_files_hold_no_plaintext(intake: Registry) -> None:
    if not is_sqlite(intake.settings.database_url):
        pytest.skip("SQLite files")
    canary = new_canary()
    intake.intake.receive({"what": canary})
    db = Path(sa.make_url(intake.settings.database_url).database or "")
    with sqlite3.connect(db) as conn:  # fold the WAL into the main file, scan again
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    assert files_with_canaries(vault_files(intake.settings.vault_dir), [canary]) == {}


def test_accept_without_a_date_keeps_what_was_said(intake: Registry) -> None:
    receipt = intake.intake.receive({"what": "Threatened", "when": "last night"})
    incident_id = intake.intake.accept(receipt.submission_id, {"country": "HN"}, act_type="A09")
    incident = intake.incidents.get(incident_id)
    assert incident.date_start.precision == "estimate"
    assert incident.notes["date_start"] == "reported as: last night"
