"""The in-process scheduler: check-in escalation, the notifications outbox, severe-incident
review flags, and the periodic jobs registered in amparo.jobs.PERIODIC.

``Worker.run_once`` does one round; ``run`` repeats it until stopped. ``amparo serve`` runs one
worker in a background thread of its single process (with ``--workers N``, in one extra
process forked for it, so exactly one scheduler runs); on a SQLite vault ``amparo worker``
runs this loop on its own. On PostgreSQL ``amparo worker`` runs procrastinate instead
(amparo.jobs), as many as wanted; while one of those is alive the loop of ``amparo serve``
stands aside (``defer_to_queue``) and takes over again within 30 seconds of the last one
going. Claims and unique outbox keys make every notification go once either way
(amparo.services.notifications).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from amparo.services.notifications import RETRY_AFTER

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["BackgroundWorker", "Round", "Worker", "run_until_terminated"]

log = logging.getLogger("amparo.worker")
SWEEP_WINDOW = timedelta(days=2)  # how far back the first sweep looks for severe incidents
SWEEP_OVERLAP = timedelta(minutes=5)  # the next sweep looks back this far: slow commits count


@dataclass(frozen=True)
class Round:
    queued: int
    sent: int
    failed: int
    flagged: int
    periodic: int = 0  # registered periodic jobs run (amparo.jobs.PERIODIC)


class Worker:
    def __init__(
        self, registry: Registry, name: str | None = None, *, defer_to_queue: bool = False,
        retry_after: timedelta = RETRY_AFTER,
    ) -> None:  # fmt: skip
        self.r = registry.acting_as(registry.principal, "scheduler")
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.defer_to_queue = defer_to_queue
        self.retry_after = retry_after
        self._swept_at: datetime | None = None
        self._next_runs: dict[str, float] = {}
        self._standing_aside = False

    def run_once(self) -> Round:
        queued = self.r.checkins.escalate_due()
        report = self.r.notifications.deliver_due(self.name, retry_after=self.retry_after)
        now = self.r.clock.now()
        flagged = self.r.risk.sweep_severe_incidents(self._swept_at or now - SWEEP_WINDOW)
        self._swept_at = now - SWEEP_OVERLAP
        return Round(queued, report.sent, report.failed, flagged, self._run_periodic())

    def _run_periodic(self) -> int:
        """Run the registered periodic jobs whose cron tick came (the first tick after this
        worker started, not one before)."""
        from amparo.jobs import PERIODIC

        if not PERIODIC:
            return 0
        from croniter import croniter  # type: ignore[import-untyped]

        now, ran = time.time(), 0
        for job in list(PERIODIC.values()):
            due = self._next_runs.get(job.name)
            if due is None:
                self._next_runs[job.name] = croniter(job.cron, now).get_next(float)
                continue
            if now < due:
                continue
            self._next_runs[job.name] = croniter(job.cron, now).get_next(float)
            try:
                job.function()(self.r)
                ran += 1
            except Exception:  # one job's failure stops neither the round nor the others
                log.exception("periodic job %s failed", job.name)
        return ran

    def _queue_has_workers(self) -> bool:
        if not self.defer_to_queue or self.r.store.dialect != "postgresql":
            return False
        from amparo.jobs import queue_workers_alive

        alive = queue_workers_alive(self.r.store)
        if alive != self._standing_aside:
            state = "stands aside: amparo worker runs" if alive else "resumes: no amparo worker"
            log.info("the in-process scheduler %s", state)
            self._standing_aside = alive
        return alive

    def run(self, stop: threading.Event, interval_s: float = 15.0) -> None:
        while not stop.is_set():
            try:
                if not self._queue_has_workers():
                    self.run_once()
            except Exception:  # keep going: the next round retries; the error is logged
                log.exception("background round failed")
            stop.wait(interval_s)


class BackgroundWorker:
    """A worker in a daemon thread (``amparo serve`` with one process)."""

    def __init__(self, registry: Registry, interval_s: float = 15.0) -> None:
        self.worker = Worker(registry, defer_to_queue=True)
        self.interval_s = interval_s
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.worker.run, args=(self.stop_event, interval_s),
                                       name="amparo-worker", daemon=True)  # fmt: skip

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)


def run_until_terminated(registry: Registry, interval_s: float = 15.0) -> None:
    """Run rounds in this process until SIGTERM or SIGINT (the scheduler process of a
    prefork server)."""
    import signal

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    Worker(registry, defer_to_queue=True).run(stop, interval_s)
