"""``amparo worker`` on PostgreSQL runs procrastinate: two workers, the same due escalations,
each notification sent once; a failed send retried by procrastinate and still sent once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.registry import Registry
from amparo.store import schema
from tests import factories
from tests.conftest import PASSPHRASE, PG_URL
from tests.services.smtp_sink import FlakySink, Sink, smtp_sink

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs AMPARO_TEST_DATABASE_URL (PostgreSQL)")

SCHEDULES = 12
CHAIN = 3
DELIVER = "amparo.outbox.deliver"


def _use_sink(vault_dir: Path, sink: Sink) -> None:
    settings = vault_dir / "amparo.toml"
    settings.write_text(settings.read_text("utf-8") + "\n[smtp]\nhost = \"127.0.0.1\"\n"
                        f"port = {sink.port}\n", "utf-8")  # fmt: skip


def _schedule_missed(vault_dir: Path, schedules: int, chain: int) -> list[str]:
    """Check-in schedules overdue for a day: every step of each chain is due at once."""
    expected = []
    with Registry.open(vault_dir, PASSPHRASE, actor="tester") as registry:
        long_ago = datetime.now(UTC) - timedelta(hours=30)
        for n in range(schedules):
            defender = registry.defenders.add(factories.defender())
            steps = [{"email": f"s{n}-c{k}@contacts.test"} for k in range(chain)]
            expected += [step["email"] for step in steps]
            registry.checkins.schedule(defender.id, every_hours=1, grace_minutes=[0],
                                       chain=steps, starts_at=long_ago)  # fmt: skip
    return expected


def _workers(vault_dir: Path, n: int, *options: str) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
    command = [sys.executable, "-m", "amparo", "worker", "--vault", str(vault_dir), *options]
    return [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(n)]  # fmt: skip


def _wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def _stop(workers: list[subprocess.Popen[str]]) -> list[str]:
    for w in workers:
        w.send_signal(signal.SIGTERM)
    logs = [w.communicate(timeout=90)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * len(workers), logs
    return logs


def _query(vault_dir: Path, sql: str) -> list[tuple[object, ...]]:
    """``sql`` in the vault's database, procrastinate's schema first on the search path."""
    with Registry.open(vault_dir, PASSPHRASE, actor="tester") as r, r.store.read() as conn:
        conn.exec_driver_sql("SET search_path TO procrastinate, public")
        return [tuple(row) for row in conn.execute(sa.text(sql)).all()]


def _outbox(vault_dir: Path) -> list[tuple[object, ...]]:
    N = schema.notifications
    with Registry.open(vault_dir, PASSPHRASE, actor="tester") as r, r.store.read() as conn:
        return [tuple(row) for row in conn.execute(sa.select(N.c.status, N.c.attempts)).all()]


def test_two_workers_send_each_notification_exactly_once(vault_dir: Path) -> None:
    with smtp_sink() as sink:
        _use_sink(vault_dir, sink)
        expected = _schedule_missed(vault_dir, SCHEDULES, CHAIN)
        workers = _workers(vault_dir, 2, "--interval", "1", "--concurrency", "4")
        _wait_for(lambda: len(sink.recipients()) >= len(expected))
        time.sleep(3)  # a second send of anything would arrive now
        _stop(workers)
        assert sorted(sink.recipients()) == sorted(expected)  # every one, none twice
    # procrastinate did it: one delivery job per message, each run once and succeeded.
    jobs = _query(vault_dir, "SELECT status, attempts, count(*) FROM procrastinate_jobs WHERE "
                             f"task_name = '{DELIVER}' GROUP BY status, attempts")  # fmt: skip
    assert jobs == [("succeeded", 1, len(expected))]
    assert sorted(set(_outbox(vault_dir))) == [("sent", 1)]
    sends = _query(vault_dir, "SELECT count(*) FROM audit_log WHERE action = 'notification.send'")
    assert sends == [(len(expected),)]
    # Both started on a fresh database; the schema went in once, beside amparo's tables.
    tables = _query(vault_dir, "SELECT table_schema, count(*) FROM information_schema.tables "
                               "WHERE table_name LIKE 'procrastinate%' "
                               "GROUP BY table_schema")  # fmt: skip
    assert tables == [("procrastinate", 4)]


def test_a_failed_send_is_retried_by_procrastinate_and_sent_once(vault_dir: Path) -> None:
    with smtp_sink(FlakySink()) as sink:  # 451 to each recipient's first message
        _use_sink(vault_dir, sink)
        expected = _schedule_missed(vault_dir, 1, 2)
        workers = _workers(vault_dir, 2, "--interval", "30", "--retry-after", "1")
        _wait_for(lambda: len(sink.recipients()) >= len(expected), seconds=60)
        time.sleep(3)
        _stop(workers)
        assert sorted(sink.recipients()) == sorted(expected)
        assert sorted(sink.refused) == sorted(expected)  # each was refused once first
    # The same job ran twice (procrastinate's retry), not a second job queued by dispatch
    # (the next dispatch tick was 30 s away).
    jobs = _query(vault_dir, "SELECT status, attempts FROM procrastinate_jobs"
                             f" WHERE task_name = '{DELIVER}'")  # fmt: skip
    assert jobs == [("succeeded", 2)] * len(expected)
    assert sorted(_outbox(vault_dir)) == [("sent", 2)] * len(expected)
    audited = _query(vault_dir, "SELECT action, count(*) FROM audit_log WHERE action LIKE "
                                "'notification.%' GROUP BY action ORDER BY action")  # fmt: skip
    assert audited == [("notification.fail", len(expected)), ("notification.send", len(expected))]


def test_apply_schema_once_then_present_and_once_runs_what_is_due(vault_dir: Path) -> None:
    from tests.cli.test_cli import ok, run

    v = str(vault_dir)
    assert "applied" in ok("worker", "--vault", v, "--apply-schema")
    assert "present" in ok("worker", "--vault", v, "--apply-schema")
    _schedule_missed(vault_dir, 1, 1)  # no SMTP server: the send fails and waits for a retry
    ok("worker", "--vault", v, "--once")
    assert _outbox(vault_dir) == [("pending", 1)]
    jobs = _query(vault_dir, "SELECT status FROM procrastinate_jobs"
                             f" WHERE task_name = '{DELIVER}'")  # fmt: skip
    assert jobs == [("todo",)]  # the retry, scheduled by procrastinate a minute on
    bad = run("worker", "--vault", v, "--interval", "7")
    assert bad.exit_code != 0 and "divisor of 60" in bad.output


def test_the_serve_loop_stands_aside_while_a_queue_worker_lives(registry: Registry) -> None:
    from amparo.jobs import ensure_schema, queue_workers_alive
    from amparo.worker import Worker

    assert not queue_workers_alive(registry.store)  # no schema yet
    ensure_schema(registry.store)
    loop = Worker(registry, defer_to_queue=True)
    assert not loop._queue_has_workers()
    with registry.store.write() as conn:
        conn.exec_driver_sql("INSERT INTO procrastinate.procrastinate_workers DEFAULT VALUES")
    assert loop._queue_has_workers()
    assert not Worker(registry)._queue_has_workers()  # `amparo worker` on SQLite never defers
    with registry.store.write() as conn:
        conn.exec_driver_sql("UPDATE procrastinate.procrastinate_workers "
                             "SET last_heartbeat = now() - interval '1 minute'")  # fmt: skip
    assert not loop._queue_has_workers()  # gone: the loop takes over again


def test_a_schema_from_elsewhere_is_adopted_and_an_old_one_refused(registry: Registry) -> None:
    from procrastinate import App, SyncPsycopgConnector

    from amparo.jobs import QUEUE_SCHEMA, QueueError, _conninfo, ensure_schema

    # Applied with procrastinate's own schema manager (as its CLI would): no amparo marker.
    with registry.store.write() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {QUEUE_SCHEMA}")
    path = {"options": f"-c search_path={QUEUE_SCHEMA}"}
    connector = SyncPsycopgConnector(conninfo=_conninfo(registry.store.url), kwargs=path)
    with App(connector=connector).open() as app:
        app.schema_manager.apply_schema()
    assert ensure_schema(registry.store) == "present"  # taken as this version's, marked so
    with registry.store.write() as conn:
        conn.exec_driver_sql(f"COMMENT ON SCHEMA {QUEUE_SCHEMA} IS "
                             "'procrastinate 3.3.0 (applied by amparo)'")  # fmt: skip
    with pytest.raises(QueueError, match=r"3\.3\.0.*03\.04\.00_01_pre_add_retry"):
        ensure_schema(registry.store)
