"""Triage batches in the vault: storage, encryption at rest, need-to-know, review, accept."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from amparo.errors import Conflict, Forbidden, NotFound, ValidationError
from amparo.registry import Registry
from amparo.security.permissions import Actor
from amparo.services.triage import MessageFilter, act_types_for
from amparo.store import schema
from tests import factories
from tests.security.leaks import canary_cores, core_of, database_bytes, new_canary, vault_files

CAMPAIGN = "the so-called defender {} is a paid foreign agent, everyone share this now"
BATCH = (
    "id,author,created_at,text,url,platform\n"
    "t1,@wolf,2026-10-30T10:00:00Z,I will kill you tonight bitch,https://x.example/t1,x\n"
    "t2,@crow,2026-10-30T10:05:00Z,she is a terrorist and a criminal,https://x.example/t2,x\n"
    "t3,@dove,2026-10-30T10:06:00Z,lovely weather at the march today,,x\n"
    "t4,@hawk,not-a-date,hello,,x\n"
    "t5,@kite,2026-10-30T11:00:00Z,,,x\n"
    + "".join(
        f'c{i},@bot{i},2026-10-30T12:{i:02d}:00Z,"{CAMPAIGN.format("Berta")}",,x\n'
        for i in range(1, 6)
    )
).encode()


def store(registry: Registry, data: bytes = BATCH, name: str = "replies.csv") -> Any:
    defender = registry.defenders.add(factories.defender())
    assert defender.id
    return defender, registry.triage.ingest(defender.id, data, name=name, rules_only=True)


def rows(registry: Registry, table: sa.Table) -> int:
    with registry.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def as_user(registry: Registry, role: str, grants: dict[str, str]) -> Registry:
    actor = Actor(user_id="u1", role=role, grants=grants, mfa_complete=True)
    return registry.acting_as(actor, "user:someone")


def test_a_batch_is_stored_for_the_defender_and_read_back_ranked(registry: Registry) -> None:
    defender, stored = store(registry)
    batch = stored.batch
    assert (batch.defender_id, batch.case_id) == (defender.id, defender.case_id)
    assert (batch.messages, batch.skipped, batch.source_name) == (8, 2, "replies.csv")
    assert batch.model_id == "rules-only" and batch.defender_name == "Berta Flores"
    assert stored.skipped == [
        "row 5, column 'created_at': 'not-a-date' is not a date and time",
        "row 6, column 'text': is empty",
    ]
    assert registry.triage.skipped_rows(batch.id) == stored.skipped
    messages = registry.triage.messages(batch.id)
    assert [m.urgency for m in messages] == sorted((m.urgency for m in messages), reverse=True)
    top = messages[0]
    assert top.text == "I will kill you tonight bitch" and top.categories == ["threat"]
    assert top.author == "@wolf" and top.url == "https://x.example/t1" and top.source_id == "t1"
    assert top.text_sha256 == hashlib.sha256(top.text.encode()).hexdigest()
    assert any("kill-you" in r for r in top.reasons) and top.status == "new"
    assert top.posted_at is not None and top.posted_at.isoformat() == "2026-10-30T10:00:00+00:00"
    smear = registry.triage.messages(batch.id, MessageFilter(category="smear"))
    assert {m.source_id for m in smear} >= {"t2"}
    assert all(m.urgency >= 30 for m in registry.triage.messages(
        batch.id, MessageFilter(min_urgency=30)))  # fmt: skip
    (listed,) = registry.triage.batches()
    assert listed.id == batch.id and listed.unreviewed == batch.abusive
    assert registry.triage.batches(defender_id=defender.id)[0].id == batch.id
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count("triage.store") == 1 and "triage.read" in actions


def test_campaigns_are_stored_with_their_members(registry: Registry) -> None:
    _, stored = store(registry)
    (campaign,) = registry.triage.campaigns(stored.batch.id)
    assert campaign.accounts == 5 and len(campaign.members) == 5
    assert sorted(campaign.authors) == [f"@bot{i}" for i in range(1, 6)]
    assert campaign.representative == CAMPAIGN.format("Berta") and campaign.reasons
    members = registry.triage.messages(stored.batch.id, MessageFilter(campaign_id=campaign.id))
    assert {m.id for m in members} == set(campaign.members)


def test_texts_authors_and_addresses_are_ciphertext_at_rest(
    registry: Registry, vault_dir: Path
) -> None:
    text, author, url_part, name = (new_canary("ñandú") for _ in range(4))
    reason = new_canary("motivo")
    data = (
        f'text,author,url\n"{text} I will kill you",@{author},https://x.example/{url_part}\n'
    ).encode()
    defender = registry.defenders.add(factories.defender())
    assert defender.id
    stored = registry.triage.ingest(defender.id, data, name=f"{name}.csv", rules_only=True)
    (message,) = registry.triage.messages(stored.batch.id)
    assert text in message.text and author in (message.author or "")
    registry.triage.relabel(message.id, ["threat"])
    registry.triage.dismiss(message.id, reason)
    registry.triage.accept(message.id)  # the evidence capture is sealed too
    dump = database_bytes(registry.settings.database_url)
    on_disk = b"".join(vault_files(vault_dir).values())  # the database file, its WAL, blobs
    for blob in (dump, on_disk):
        found = canary_cores(blob)
        for canary in (text, author, url_part, name, reason):
            assert core_of(canary) not in found, canary
    assert hashlib.sha256(message.text.encode()).hexdigest().encode() not in dump


def test_need_to_know_someone_without_the_grant_sees_nothing(registry: Registry) -> None:
    defender, stored = store(registry)
    batch = stored.batch
    top = registry.triage.messages(batch.id)[0]
    outsider = as_user(registry, "coordinator", {})
    for attempt in (
        lambda: outsider.triage.batch(batch.id),
        lambda: outsider.triage.messages(batch.id),
        lambda: outsider.triage.message(top.id),
        lambda: outsider.triage.campaigns(batch.id),
        lambda: outsider.triage.relabel(top.id, ["none"]),
        lambda: outsider.triage.dismiss(top.id, "no"),
        lambda: outsider.triage.accept(top.id),
        lambda: outsider.triage.ingest(defender.id, BATCH, name="x.csv", rules_only=True),
        lambda: outsider.risk_flags.for_defender(defender.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert outsider.triage.batches() == [] and outsider.triage.urgent() == []
    assert list(outsider.triage.export_relabels()) == []
    # A reader of the case sees the batch but may not act on it.
    reader = as_user(registry, "viewer", {batch.case_id: "read"})
    assert [b.id for b in reader.triage.batches()] == [batch.id]
    assert reader.triage.messages(batch.id)
    with pytest.raises(Forbidden):
        reader.triage.relabel(top.id, ["none"])
    with pytest.raises(Forbidden):
        reader.triage.accept(top.id)
    # A trusted colleague with a write grant on her case triages on her behalf.
    colleague = as_user(registry, "documenter", {batch.case_id: "write"})
    assert colleague.triage.relabel(top.id, ["threat", "doxxing"]).categories == [
        "threat", "doxxing"]  # fmt: skip
    again = colleague.triage.ingest(defender.id, BATCH, name="more.csv", rules_only=True)
    assert again.batch.case_id == batch.case_id


def test_relabel_and_dismiss_are_checked_and_audited(registry: Registry) -> None:
    _, stored = store(registry)
    messages = registry.triage.messages(stored.batch.id)
    first, second = messages[0], messages[1]
    relabelled = registry.triage.relabel(first.id, ["sexual_harassment", "threat"])
    assert relabelled.categories == ["sexual_harassment", "threat"]
    assert relabelled.model_categories == first.model_categories
    assert relabelled.status == "relabelled" and relabelled.relabelled_by == "tester"
    for bad in ([], ["hate"], ["none", "threat"]):
        with pytest.raises(ValidationError):
            registry.triage.relabel(first.id, bad)
    with pytest.raises(ValidationError):
        registry.triage.dismiss(second.id, "  ")
    dismissed = registry.triage.dismiss(second.id, "a joke between friends")
    assert dismissed.status == "dismissed" and dismissed.dismiss_reason == "a joke between friends"
    (relabel_entry,) = registry.audit.entries(action="triage.relabel")
    assert relabel_entry.object_id == first.id
    assert relabel_entry.detail == "categories=sexual_harassment threat"
    (dismiss_entry,) = registry.audit.entries(action="triage.dismiss")
    assert dismiss_entry.object_id == second.id and "joke" not in dismiss_entry.detail
    exported = list(registry.triage.export_relabels())
    assert [(e["id"], e["categories"]) for e in exported] == [
        (first.id, ["sexual_harassment", "threat"])]  # fmt: skip
    assert exported[0]["text"] == first.text
    assert len(registry.audit.entries(action="triage.export_relabels")) == 1
    new_only = registry.triage.messages(stored.batch.id, MessageFilter(status="new"))
    assert first.id not in {m.id for m in new_only} and second.id not in {m.id for m in new_only}
    with pytest.raises(ValidationError):
        registry.triage.messages(stored.batch.id, MessageFilter(status="gone"))


def test_accept_makes_exactly_one_incident_with_evidence_and_flags_her(registry: Registry) -> None:
    defender, stored = store(registry)
    threat = registry.triage.messages(stored.batch.id)[0]
    result = registry.triage.accept(threat.id)
    assert result.created and len(result.evidence) == 1 and result.flag_id
    again = registry.triage.accept(threat.id)
    assert again.incident_id == result.incident_id and not again.created
    assert rows(registry, schema.incidents) == 1
    incident = registry.incidents.get(result.incident_id)
    assert incident.case_id == defender.case_id and incident.country == "HN"
    assert [a.act_type for a in incident.acts] == ["A09"]  # "kill you": a death threat
    act = incident.acts[0]
    assert act.victim_defender_id == defender.id and act.modality == "online"
    assert threat.text in (incident.narrative or "")
    assert incident.perpetrators[0].name == "@wolf"
    (item,) = registry.evidence.list(incident_id=result.incident_id)
    assert item.kind == "capture" and item.url == "https://x.example/t1"
    assert item.captured_at == stored.batch.created_at
    assert threat.text_sha256 in (item.description or "")
    page = registry.evidence.shared_copy(item.id).data.decode()
    assert html.escape(threat.text) in page and threat.text_sha256 in page
    (flag,) = registry.risk_flags.for_defender(defender.id)
    assert flag.open and flag.source_kind == "triage_message" and flag.source_id == threat.id
    assert flag.incident_id == result.incident_id and "threat" in flag.reason
    accepted = registry.triage.message(threat.id)
    assert accepted.status == "accepted" and accepted.incident_id == result.incident_id
    with pytest.raises(Conflict):
        registry.triage.dismiss(threat.id, "changed my mind")
    assert len(registry.audit.entries(action="triage.accept")) == 1
    # Cleared by whoever reviews her risk; a cleared flag stays on record.
    cleared = registry.risk_flags.clear(flag.id, "assessed: plan updated")
    assert not cleared.open and cleared.clear_note == "assessed: plan updated"
    assert registry.risk_flags.open_flags() == []
    with pytest.raises(Conflict):
        registry.risk_flags.clear(flag.id)


def test_accepting_a_campaign_makes_one_incident_of_all_its_messages(registry: Registry) -> None:
    defender, stored = store(registry)
    (campaign,) = registry.triage.campaigns(stored.batch.id)
    result = registry.triage.accept_campaign(campaign.id)
    assert result.created and result.messages == 5 and len(result.evidence) == 5
    assert registry.triage.accept_campaign(campaign.id).incident_id == result.incident_id
    incident = registry.incidents.get(result.incident_id)
    codes = [a.act_type for a in incident.acts]
    assert codes[0] == "A20" and "A19" in codes  # coordinated abuse; a smear
    assert len(incident.perpetrators) == 5
    assert len(registry.evidence.list(incident_id=result.incident_id)) == 5
    for member in campaign.members:
        assert registry.triage.message(member).incident_id == result.incident_id
        assert registry.triage.accept(member).incident_id == result.incident_id
    assert rows(registry, schema.incidents) == 1
    (flag,) = registry.risk_flags.open_flags()
    assert flag.defender_id == defender.id and flag.defender_name == "Berta Flores"


def test_an_accept_in_progress_is_not_doubled_and_a_failed_one_releases(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, stored = store(registry)
    threat = registry.triage.messages(stored.batch.id)[0]
    with registry.store.write() as conn:
        conn.execute(sa.update(schema.triage_messages)
                     .where(schema.triage_messages.c.id == threat.id)
                     .values(accepting_since=registry.clock.now()))  # fmt: skip
    with pytest.raises(Conflict):
        registry.triage.accept(threat.id)
    with registry.store.write() as conn:
        conn.execute(sa.update(schema.triage_messages).values(accepting_since=None))

    def broken(*args: object, **kwargs: object) -> None:
        raise ValidationError("title", "broken on purpose")

    monkeypatch.setattr(registry.incidents, "add", broken)
    with pytest.raises(ValidationError):
        registry.triage.accept(threat.id)
    monkeypatch.undo()
    assert registry.triage.accept(threat.id).created  # the claim was released
    assert rows(registry, schema.incidents) == 1


def test_a_defender_without_a_country_needs_one_given(registry: Registry) -> None:
    defender = registry.defenders.add(factories.defender(country=None, region=None))
    assert defender.id
    stored = registry.triage.ingest(defender.id, BATCH, name="b.csv", rules_only=True)
    threat = registry.triage.messages(stored.batch.id)[0]
    with pytest.raises(ValidationError) as caught:
        registry.triage.accept(threat.id)
    assert caught.value.field == "country"
    assert registry.incidents.get(registry.triage.accept(threat.id, country="co").incident_id)


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"", "empty.csv", "the file is empty"),
        (b"\x00\x01\x02binary\xff" * 20, "photo.csv", "binary file"),
        (b"who,when\n@a,2026-01-01\n", "columns.csv", "text"),
        (b'text\n\n""\n', "blank.csv", "no message"),
        (b'{"messages": [{"text": 3}]', "broken.json", "broken.json"),
    ],
)
def test_bad_files_store_nothing_and_say_why(
    registry: Registry, data: bytes, name: str, expected: str
) -> None:
    defender = registry.defenders.add(factories.defender())
    assert defender.id
    with pytest.raises(ValidationError) as caught:
        registry.triage.ingest(defender.id, data, name=name, rules_only=True)
    assert caught.value.field == "file" and expected in str(caught.value)
    for table in (schema.triage_batches, schema.triage_messages, schema.triage_campaigns):
        assert rows(registry, table) == 0
    assert registry.audit.entries(action="triage.store") == []


def test_shredding_the_case_removes_the_batches(registry: Registry) -> None:
    _, stored = store(registry)
    registry.triage.accept(registry.triage.messages(stored.batch.id)[0].id)
    registry.cases.shred(stored.batch.case_id)
    for table in (schema.triage_batches, schema.triage_messages, schema.triage_campaigns,
                  schema.risk_flags):  # fmt: skip
        assert rows(registry, table) == 0
    with pytest.raises(NotFound):
        registry.triage.batch(stored.batch.id)


def test_unknown_ids_are_not_found_without_touching_the_database(registry: Registry) -> None:
    for bad in ("", "x" * 40, "ZZ", "abc\x00"):
        with pytest.raises(NotFound):
            registry.triage.message(bad)
        with pytest.raises(NotFound):
            registry.triage.batch(bad)


def test_act_types_follow_the_vocabulary(registry: Registry) -> None:
    labels = {t.code: t.label("en") for t in registry.vocab["act_types"]}
    assert act_types_for(["threat"], ["i will hurt you"]) == ["A10"]
    assert act_types_for(["threat"], ["te vamos a matar"]) == ["A09"]
    assert act_types_for(["sexual_harassment"], ["x"]) == ["A08"]
    assert act_types_for(["smear"], ["x"]) == ["A19"]
    assert act_types_for(["doxxing", "sexist_derogation"], ["x"]) == ["A20"]
    assert act_types_for(["none"], ["x"]) == ["A20"]
    assert "Death threat" in labels["A09"] and "rape" in labels["A10"]
    assert "Sexual harassment" in labels["A08"] and "Smear" in labels["A19"]
    assert "doxxing" in labels["A20"]
