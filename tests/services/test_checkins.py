"""Check-ins: one-time links, escalation along the chain to a real SMTP server, and its end."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from amparo.clock import Clock
from amparo.errors import NotFound, ValidationError
from amparo.registry import Registry
from amparo.store import schema
from amparo.worker import Worker
from tests import factories
from tests.conftest import NOW
from tests.services.smtp_sink import Sink, smtp_sink

SECRET_WORDS = ("Berta", "Flores", "Intibucá", "Esperanza", "motorbike", "radio")


class MovingClock(Clock):
    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def moving(registry: Registry) -> MovingClock:
    clock = MovingClock(NOW)
    registry.clock = clock
    return clock


@pytest.fixture
def sink(registry: Registry) -> Iterator[Sink]:
    with smtp_sink() as sink:
        registry.settings = dataclasses.replace(
            registry.settings,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_from="alerts@amparo.test",
        )
        yield sink


def _setup(registry: Registry) -> tuple[str, str]:
    defender = registry.defenders.add(factories.defender())
    registry.incidents.add(factories.incident(), case_id=defender.case_id)
    officer = registry.accounts.add_user("officer.ana", "a long enough password 1", "coordinator")
    registry.notifications.set_preferences(officer.id, email="ana@org.test")
    registry.protection.update(
        defender.case_id, officer_id=officer.id, subject_defender_id=defender.id, priority="urgent"
    )
    return defender.id, officer.id


def test_missed_checkin_escalates_in_order_by_email_and_stops_after_checkin(
    registry: Registry, moving: MovingClock, sink: Sink
) -> None:
    defender_id, _ = _setup(registry)
    _schedule, token = registry.checkins.schedule(
        defender_id,
        every_hours=6,
        grace_minutes=[30, 60],
        chain=[
            {"user": _officer(registry)},
            {"email": "sister@contacts.test"},
            {"email": "lawyer@contacts.test"},
        ],
    )
    worker = Worker(registry)
    moving.advance(hours=5)
    assert worker.run_once().sent == 0
    # Due at 6 h; 30 minutes later the officer, 60 more the first safety contact.
    moving.advance(hours=1, minutes=31)
    assert worker.run_once().sent == 1
    assert sink.recipients() == ["ana@org.test"]
    assert worker.run_once().sent == 0  # nothing twice
    moving.advance(minutes=60)
    assert worker.run_once().sent == 1
    assert sink.recipients() == ["ana@org.test", "sister@contacts.test"]

    due, next_token = registry.checkins.check_in_with_token(token)
    assert due == moving.at + timedelta(hours=6)
    with pytest.raises(NotFound):
        registry.checkins.check_in_with_token(token)  # one time only
    moving.advance(hours=3)
    worker.run_once()
    # The lawyer is never alerted; those already alerted hear (at once, in any order) that it
    # stopped.
    received = sink.recipients()
    assert received[:2] == ["ana@org.test", "sister@contacts.test"]
    assert sorted(received[2:]) == ["ana@org.test", "sister@contacts.test"]
    events = [m["Subject"].split()[1] for _, m in sink.received]
    assert events == ["checkin.missed", "checkin.missed", "checkin.resumed", "checkin.resumed"]
    for _, message in sink.received:
        text = message.as_string()
        assert all(word not in text for word in SECRET_WORDS), text
        assert "AMP-" in message["Subject"] and "/cases/" in text
    status = registry.checkins.status(defender_id=defender_id)[0]
    assert status.escalation_step == 0 and status.checkins[0]["method"] == "link"
    # The next link works; audit has every send.
    registry.checkins.check_in_with_token(next_token)
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count("notification.send") == 4 and actions.count("checkin.missed") == 2


def _officer(registry: Registry) -> str:
    return registry.accounts.get_by_username("officer.ana").id


def test_officer_records_a_checkin_and_default_chain_is_the_officer(
    registry: Registry, moving: MovingClock, sink: Sink
) -> None:
    defender_id, officer_id = _setup(registry)
    schedule, _ = registry.checkins.schedule(defender_id, every_hours=1, chain=[])
    assert schedule.chain == [{"user": officer_id}]
    moving.advance(minutes=50)
    registry.checkins.record(schedule.id, note="called by phone")
    moving.advance(minutes=50)
    assert Worker(registry).run_once().sent == 0
    stored = registry.checkins.status(defender_id=defender_id)[0]
    assert stored.checkins[0]["note"] == "called by phone"


def test_failed_sends_are_retried_with_back_off(registry: Registry, moving: MovingClock) -> None:
    defender_id, _ = _setup(registry)
    registry.checkins.schedule(
        defender_id, every_hours=1, grace_minutes=[0], chain=[{"email": "x@contacts.test"}]
    )
    moving.advance(minutes=61)
    worker = Worker(registry)
    first = worker.run_once()  # no SMTP server configured: fails, retried later
    assert (first.queued, first.sent, first.failed) == (1, 0, 1)
    assert worker.run_once().failed == 0  # not yet due again
    moving.advance(minutes=1)
    assert worker.run_once().failed == 1
    with registry.store.read() as conn:
        row = conn.execute(sa.select(schema.notifications)).one()
    assert row.attempts == 2 and row.status == "pending"
    assert row.next_attempt_at.replace(tzinfo=None) == (moving.at + timedelta(minutes=2)).replace(
        tzinfo=None
    )


def test_chain_and_interval_are_checked(registry: Registry) -> None:
    defender_id, _ = _setup(registry)
    with pytest.raises(ValidationError):
        registry.checkins.schedule(defender_id, every_hours=0.1, chain=[])
    with pytest.raises(ValidationError):
        registry.checkins.schedule(defender_id, every_hours=2, chain=[{"email": "nobody"}])
    with pytest.raises(ValidationError):
        registry.checkins.schedule(
            defender_id, every_hours=2, chain=[{"webhook": "https://x.test/hook"}]
        )


def test_contacts_are_ciphertext_in_the_database(registry: Registry) -> None:
    defender_id, _ = _setup(registry)
    registry.checkins.schedule(
        defender_id, every_hours=2, chain=[{"email": "CANARY-ADDR@contacts.test"}]
    )
    with registry.store.read() as conn:
        row = conn.execute(sa.select(schema.checkin_schedules)).one()
    assert b"CANARY-ADDR" not in bytes(row.chain_ct)


def test_stopping_ends_links_and_escalation(registry: Registry, moving: MovingClock) -> None:
    defender_id, _ = _setup(registry)
    schedule, token = registry.checkins.schedule(defender_id, every_hours=1, chain=[])
    registry.checkins.stop(schedule.id)
    with pytest.raises(NotFound):
        registry.checkins.check_in_with_token(token)
    moving.advance(hours=5)
    assert Worker(registry).run_once().queued == 0


def test_the_background_thread_escalates(registry: Registry, moving: MovingClock) -> None:
    import time

    from amparo.worker import BackgroundWorker

    defender_id, _ = _setup(registry)
    registry.checkins.schedule(
        defender_id, every_hours=1, grace_minutes=[0], chain=[{"email": "x@contacts.test"}]
    )
    moving.advance(minutes=61)
    background = BackgroundWorker(registry, interval_s=0.05)
    background.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not registry.checkins.status()[0].escalation_step:
            time.sleep(0.05)
    finally:
        background.stop()
    assert registry.checkins.status()[0].escalation_step == 1
    assert not background.thread.is_alive()
