"""The team worker on PostgreSQL: procrastinate is the queue and the scheduler, the outbox the
ledger.

``amparo worker`` on a PostgreSQL vault runs procrastinate's worker (:func:`run`); start as many
as wanted, on as many machines. Its periodic tasks are procrastinate periodic tasks, each tick
deferred once whichever worker defers it, and each run under its own lock (one at a time):

- ``amparo.checkins.escalate`` (every ``--interval``, a minute by default): check-in
  escalation; what it queues in the outbox it hands on to the dispatcher at once;
- ``amparo.outbox.dispatch`` (same cadence): one ``amparo.outbox.deliver`` job per due outbox
  row that has no job yet;
- ``amparo.risk.sweep`` (same cadence): review flags for new severe incidents;
- ``amparo.queue.prune`` (daily): finished jobs older than three days leave procrastinate's
  table;
- and every entry of :data:`PERIODIC` (:func:`register_periodic`), such as a scheduled backup.

Exactly once. A delivery job carries procrastinate's ``lock`` ``outbox:<dedupe key>``: no two
jobs for one message run at the same time. The job sends only after claiming the row in the
outbox (``SELECT ... FOR UPDATE SKIP LOCKED``, pending, due, no live lease) and marks it sent in
the same claim; a second job for a message already sent finds nothing to claim. Deliveries
carry no ``queueing_lock``: procrastinate retries a failed job by putting it back to ``todo``,
and with a queueing lock a second job queued meanwhile for the same message would make that
retry violate ``procrastinate_jobs_queueing_lock_idx_v1``; the dispatcher instead skips
messages that have a ``todo`` or ``doing`` job, and dispatchers run one at a time.

Retries. A failed send is audited (``notification.fail``), its back-off written to the outbox
row, and the job raises :class:`DeliveryFailed`; procrastinate's retry strategy
(``OutboxRetry``) schedules the same job again at that moment. After MAX_ATTEMPTS the row is
``failed`` and the job fails for good. Any other error (the database gone, say) is not retried
by procrastinate: the lease on the row runs out and the dispatcher queues it again.

The schema. procrastinate's tables and functions live in their own PostgreSQL schema,
``procrastinate``, of the vault's database: its connections set ``search_path`` to it, amparo's
tables stay in ``public``, and amparo's migrations (which build the same tables on SQLite and
PostgreSQL, compared with amparo.store.schema in tests) never see them. :func:`ensure_schema`
applies procrastinate's own ``schema.sql`` (``SchemaManager.get_schema``) on a worker's first
start, in one transaction under an advisory lock, so N workers starting together on a fresh
database apply it once; ``amparo worker --apply-schema`` does only that. An upgrade of
procrastinate that changes its schema stops the worker with the list of procrastinate's
migration files to apply. SQLite vaults have no queue (procrastinate has no SQLite connector):
``amparo serve`` and ``amparo worker`` run the in-process loop of amparo.worker there.

Nothing here imports procrastinate until a worker starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import re
import socket
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amparo.errors import AmparoError
from amparo.services.notifications import RETRY_AFTER

if TYPE_CHECKING:
    from procrastinate import App

    from amparo.registry import Registry
    from amparo.store.engine import Store

__all__ = ["BUILTIN_PERIODIC", "PERIODIC", "QUEUE_SCHEMA", "DeliveryFailed", "PeriodicJob",
           "QueueError", "build_app", "cron_every", "ensure_schema", "queue_workers_alive",
           "register_periodic", "run"]  # fmt: skip

log = logging.getLogger("amparo.jobs")

QUEUE_SCHEMA = "procrastinate"
_SCHEMA_LOCK = 0x616D7061726F  # pg_advisory_xact_lock key ("amparo"): one schema apply at once
DEFAULT_INTERVAL_S = 60
ESCALATE = "amparo.checkins.escalate"
DISPATCH = "amparo.outbox.dispatch"
DELIVER = "amparo.outbox.deliver"
SWEEP = "amparo.risk.sweep"
PRUNE = "amparo.queue.prune"
PRUNE_CRON = "17 3 * * *"
KEEP_JOBS_HOURS = 72
DISPATCH_PAGE = 500
# A worker whose heartbeat (procrastinate beats every 10 s) is older than this is gone.
ALIVE_WITHIN_S = 30
BUILTIN_PERIODIC = {
    ESCALATE: "check-in escalation, every --interval",
    DISPATCH: "outbox dispatch (one delivery job per due message), every --interval",
    SWEEP: "severe-incident review flags, every --interval",
    PRUNE: f"finished jobs older than {KEEP_JOBS_HOURS} h removed, cron {PRUNE_CRON!r}",
}


class QueueError(AmparoError):
    """The job queue cannot start (schema missing or out of date, bad cadence)."""


class DeliveryFailed(Exception):
    """A send failed; procrastinate retries the job in ``retry_in`` (the outbox's back-off)."""

    def __init__(self, error: str, retry_in: timedelta | None) -> None:
        super().__init__(error)
        self.retry_in = retry_in


# -- the registry of periodic jobs ---------------------------------------------------------


@dataclass(frozen=True)
class PeriodicJob:
    """A job run on a cron schedule by the worker: procrastinate on PostgreSQL (one run per
    tick across all workers), the in-process loop on SQLite.

    ``target`` is ``"module:function"`` (imported when a worker starts, so registering costs
    nothing) or the function itself; it is called with the worker's registry (acting as
    ``scheduler``) and runs in a thread.
    """

    name: str
    cron: str
    target: str | Callable[[Registry], object] = field(compare=False)

    def function(self) -> Callable[[Registry], object]:
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        func: Callable[[Registry], object] = getattr(importlib.import_module(module), attr)
        return func


#: Further periodic jobs, by name; add with :func:`register_periodic`.
PERIODIC: dict[str, PeriodicJob] = {}


def register_periodic(
    name: str, cron: str, target: str | Callable[[Registry], object]
) -> PeriodicJob:
    """Add a periodic job (e.g. ``register_periodic("amparo.backup", "0 3 * * *",
    "amparo.services.backups:scheduled")``). Cron has five fields, or six with seconds last."""
    from croniter import croniter  # type: ignore[import-untyped]

    if not re.fullmatch(r"[a-z][a-z0-9_.]{2,100}", name):
        raise ValueError(f"periodic job name {name!r}: lower-case letters, digits, _ and .")
    if name in BUILTIN_PERIODIC or name == DELIVER:
        raise ValueError(f"{name} is a built-in job")
    if not croniter.is_valid(cron):
        raise ValueError(f"periodic job {name}: {cron!r} is not a cron expression")
    job = PeriodicJob(name, cron, target)
    PERIODIC[name] = job
    return job


def cron_every(seconds: float) -> str:
    """The cron expression for "every ``seconds``": a divisor of 60 seconds, or a number of
    minutes dividing 60."""
    s = int(seconds)
    if s != seconds or s <= 0:
        raise QueueError(f"--interval {seconds:g}: whole seconds, at least 1, on PostgreSQL")
    if s < 60 and 60 % s == 0:
        return "* * * * *" if s == 60 else f"* * * * * */{s}"
    if s % 60 == 0 and 60 % (s // 60) == 0:
        return "* * * * *" if s == 60 else f"*/{s // 60} * * * *"
    raise QueueError(f"--interval {s}: on PostgreSQL a divisor of 60 seconds (1, 2, ... 30) or of "
                     "60 minutes (60, 120, ... 3600)")  # fmt: skip


# -- the schema ----------------------------------------------------------------------------


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _migrations_between(applied: str, installed: str) -> list[str]:
    from procrastinate.schema import SchemaManager

    low, high = _version_tuple(applied), _version_tuple(installed)
    names = sorted(p.name for p in Path(SchemaManager.get_migrations_path()).glob("*.sql"))
    return [n for n in names if low < _version_tuple(n[:8]) <= high]


def ensure_schema(store: Store) -> str:
    """Create procrastinate's schema in the vault's database if it is missing; returns
    ``"applied"`` or ``"present"``. Raises QueueError when it is from an older procrastinate
    whose migrations are not applied."""
    from procrastinate.schema import SchemaManager

    if store.dialect != "postgresql":
        raise QueueError("the job queue needs PostgreSQL; SQLite vaults use the in-process loop")
    installed = version("procrastinate")
    marker = f"procrastinate {installed} (applied by amparo)"
    with store.write() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        table = conn.execute(sa.text("SELECT to_regclass(:t)"),
                             {"t": f"{QUEUE_SCHEMA}.procrastinate_jobs"}).scalar()  # fmt: skip
        if table is None:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
            conn.exec_driver_sql(f"SET LOCAL search_path TO {QUEUE_SCHEMA}")
            # The driver's own execute: one script, many statements, no parameter markers.
            conn.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]
            conn.exec_driver_sql(f"COMMENT ON SCHEMA {QUEUE_SCHEMA} IS '{marker}'")
            log.info("procrastinate %s schema applied in schema %s", installed, QUEUE_SCHEMA)
            return "applied"
        comment = conn.execute(
            sa.text("SELECT obj_description(CAST(:s AS regnamespace), 'pg_namespace')"),
            {"s": QUEUE_SCHEMA},
        ).scalar()
        found = re.fullmatch(r"procrastinate (\S+) \(applied by amparo\)", str(comment or ""))
        if found is None:
            # Applied by someone else (procrastinate's own CLI, say): its version is unknown;
            # take it as this one's, say so, and record it.
            log.warning("schema %s has no amparo marker; taken as procrastinate %s's",
                        QUEUE_SCHEMA, installed)  # fmt: skip
        applied = installed if found is None else found.group(1)
        if found is None or _version_tuple(applied) != _version_tuple(installed):
            pending = _migrations_between(applied, installed)
            if pending:
                raise QueueError(
                    f"the {QUEUE_SCHEMA} schema is procrastinate {applied}'s; this is "
                    f"{installed}: apply, with search_path={QUEUE_SCHEMA}, "
                    + ", ".join(pending)
                    + f" from {SchemaManager.get_migrations_path()} (docs/deploy.md)"
                )
            conn.exec_driver_sql(f"COMMENT ON SCHEMA {QUEUE_SCHEMA} IS '{marker}'")
    return "present"


def queue_workers_alive(store: Store) -> bool:
    """Whether an ``amparo worker`` (procrastinate) beat its heart in the last 30 seconds."""
    if store.dialect != "postgresql":
        return False
    with store.read() as conn:
        table = conn.execute(sa.text("SELECT to_regclass(:t)"),
                             {"t": f"{QUEUE_SCHEMA}.procrastinate_workers"}).scalar()  # fmt: skip
        if table is None:
            return False
        return bool(conn.execute(sa.text(
            f"SELECT EXISTS (SELECT 1 FROM {QUEUE_SCHEMA}.procrastinate_workers "  # noqa: S608
            "WHERE last_heartbeat > now() - make_interval(secs => :s))"),
            {"s": ALIVE_WITHIN_S}).scalar())  # fmt: skip


# -- the app -------------------------------------------------------------------------------


def _conninfo(url: sa.URL) -> str:
    """libpq's form of the vault's database URL (SQLAlchemy names the driver in it)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class _State:
    swept_at: datetime | None = None  # the severe-incident sweep's watermark, per process


def build_app(
    registry: Registry, *, interval_s: float = DEFAULT_INTERVAL_S,
    retry_after: timedelta = RETRY_AFTER, pool_size: int = 8,
) -> App:  # fmt: skip
    """The procrastinate app of one worker process: its connector (the vault's database,
    schema ``procrastinate``) and every task above, bound to ``registry``."""
    from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision
    from procrastinate.exceptions import AlreadyEnqueued
    from procrastinate.jobs import Job

    from amparo.worker import SWEEP_OVERLAP, SWEEP_WINDOW

    r = registry.acting_as(registry.principal, "scheduler")
    me = f"{socket.gethostname()}:{os.getpid()}"
    every = cron_every(interval_s)
    state = _State()
    connector = PsycopgConnector(
        conninfo=_conninfo(registry.store.url),
        kwargs={"options": f"-c search_path={QUEUE_SCHEMA}"},
        min_size=2, max_size=max(pool_size, 4),
    )  # fmt: skip
    app = App(connector=connector)

    class OutboxRetry(BaseRetryStrategy):
        """Retry a failed send when the outbox row says (its back-off), never anything else."""

        def get_retry_decision(self, *, exception: BaseException, job: Job) -> Any:
            if isinstance(exception, DeliveryFailed) and exception.retry_in is not None:
                return RetryDecision(retry_at=datetime.now(UTC) + exception.retry_in)
            return None

    async def soon(task: Any) -> None:
        """Defer a periodic task now, unless one already waits (its queueing lock)."""
        with contextlib.suppress(AlreadyEnqueued):
            await task.configure().defer_async(timestamp=0)

    @app.task(name=DELIVER, retry=OutboxRetry(), pass_context=True)
    async def deliver(context: Any, notification_id: str) -> str:
        done = await asyncio.to_thread(r.notifications.deliver_one, notification_id,
                                       f"{me}:job{context.job.id}", retry_after)  # fmt: skip
        log.info("notification %s: %s%s", notification_id, done.status,
                 f" ({done.error})" if done.error else "")  # fmt: skip
        if done.status == "failed":
            raise DeliveryFailed(done.error or "send failed", done.retry_in)
        if done.status == "gave_up":
            raise DeliveryFailed(done.error or "send failed", None)
        return done.status

    @app.periodic(cron=every, periodic_id="amparo")
    @app.task(name=DISPATCH, queueing_lock=DISPATCH, lock=DISPATCH)
    async def dispatch(timestamp: int) -> int:
        deferred = 0
        after: tuple[datetime, str] | None = None
        while True:
            page = await asyncio.to_thread(r.notifications.due, DISPATCH_PAGE, after)
            if not page:
                return deferred
            locks = {f"outbox:{key}": nid for nid, key, _ in page}
            busy = {row["lock"] for row in await app.connector.execute_query_all_async(
                "SELECT lock FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing') AND lock = ANY(%(locks)s)",
                locks=list(locks),
            )}  # fmt: skip
            jobs = [deliver.configure(lock=lock, task_kwargs={"notification_id": nid}).job
                    for lock, nid in locks.items() if lock not in busy]  # fmt: skip
            if jobs:
                await app.job_manager.batch_defer_jobs_async(jobs)
                deferred += len(jobs)
            if len(page) < DISPATCH_PAGE:
                return deferred
            after = (page[-1][2], page[-1][0])

    @app.periodic(cron=every, periodic_id="amparo")
    @app.task(name=ESCALATE, queueing_lock=ESCALATE, lock=ESCALATE)
    async def escalate(timestamp: int) -> int:
        queued = await asyncio.to_thread(r.checkins.escalate_due)
        if queued:
            log.info("check-in escalation: %d notification(s) queued", queued)
            await soon(dispatch)  # the alert should not wait for the next tick
        return queued

    @app.periodic(cron=every, periodic_id="amparo")
    @app.task(name=SWEEP, queueing_lock=SWEEP, lock=SWEEP)
    async def sweep(timestamp: int) -> int:
        now = r.clock.now()
        flagged = await asyncio.to_thread(r.risk.sweep_severe_incidents,
                                          state.swept_at or now - SWEEP_WINDOW)  # fmt: skip
        state.swept_at = now - SWEEP_OVERLAP
        if flagged:
            log.info("severe incidents: %d case(s) flagged for review", flagged)
        return flagged

    @app.periodic(cron=PRUNE_CRON, periodic_id="amparo")
    @app.task(name=PRUNE, queueing_lock=PRUNE, lock=PRUNE)
    async def prune(timestamp: int) -> None:
        await app.job_manager.delete_old_jobs(nb_hours=KEEP_JOBS_HOURS)

    for job in PERIODIC.values():
        func = job.function()

        async def extra(timestamp: int, _func: Callable[[Registry], object] = func) -> None:
            await asyncio.to_thread(_func, r)

        task = app.task(name=job.name, queueing_lock=job.name, lock=job.name)(extra)
        app.periodic(cron=job.cron, periodic_id="amparo")(task)

    return app


def run(
    registry: Registry, *, concurrency: int = 4, interval_s: float = DEFAULT_INTERVAL_S,
    retry_after: timedelta = RETRY_AFTER, once: bool = False, name: str | None = None,
    graceful_s: float = 60.0,
) -> None:  # fmt: skip
    """Run a procrastinate worker until SIGTERM or SIGINT (it finishes the jobs it runs, up to
    ``graceful_s``) or, with ``once``, until nothing is left to do now."""
    ensure_schema(registry.store)
    if once:
        concurrency = 1  # a worker that stops when the queue is empty must see follow-up jobs
    app = build_app(registry, interval_s=interval_s, retry_after=retry_after,
                    pool_size=concurrency + 4)  # fmt: skip

    from procrastinate.exceptions import AlreadyEnqueued

    async def main() -> None:
        # Jobs run the vault's blocking code in threads: one per job at most.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=concurrency + 2, thread_name_prefix="amparo-job")
        )
        async with app.open_async():
            if once:
                for name_ in (ESCALATE, SWEEP, DISPATCH):
                    # One waiting already (AlreadyEnqueued) runs anyway.
                    with contextlib.suppress(AlreadyEnqueued):
                        await app.tasks[name_].configure().defer_async(timestamp=0)
            await app.run_worker_async(
                concurrency=concurrency, wait=not once, name=name or "amparo",
                shutdown_graceful_timeout=graceful_s, delete_jobs="never",
            )  # fmt: skip

    _run_coroutine(main)


def _run_coroutine(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """``asyncio.run(main())``, or in a thread of its own when this thread already runs an
    event loop (a caller embedding the CLI, such as Playwright's synchronous API in the same
    process): asyncio refuses to nest loops. Signals then stay with the caller."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(main())
        return
    with ThreadPoolExecutor(1, thread_name_prefix="amparo-worker") as pool:
        pool.submit(asyncio.run, main()).result()
