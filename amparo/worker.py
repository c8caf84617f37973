"""Background work: check-in escalation, the notifications outbox, severe-incident review flags.

``Worker.run_once`` does one round; ``run`` repeats it until stopped. ``amparo serve`` runs one
worker in a background thread of its single process (with ``--workers N``, in one extra
process forked for it, so exactly one scheduler runs); ``amparo worker`` runs it on its own
for team deployments, as many as wanted on PostgreSQL: claims and unique outbox keys make
every notification go once (amparo.services.notifications).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["BackgroundWorker", "Round", "Worker", "run_until_terminated"]

log = logging.getLogger("amparo.worker")
SWEEP_WINDOW = timedelta(days=2)  # how far back the first sweep looks for severe incidents


@dataclass(frozen=True)
class Round:
    queued: int
    sent: int
    failed: int
    flagged: int


class Worker:
    def __init__(self, registry: Registry, name: str | None = None) -> None:
        self.r = registry.acting_as(registry.principal, "scheduler")
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._swept_at: datetime | None = None

    def run_once(self) -> Round:
        queued = self.r.checkins.escalate_due()
        report = self.r.notifications.deliver_due(self.name)
        now = self.r.clock.now()
        flagged = self.r.risk.sweep_severe_incidents(self._swept_at or now - SWEEP_WINDOW)
        self._swept_at = now - timedelta(minutes=5)  # overlap: a slow transaction still counts
        return Round(queued, report.sent, report.failed, flagged)

    def run(self, stop: threading.Event, interval_s: float = 15.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep going: the next round retries; the error is logged
                log.exception("background round failed")
            stop.wait(interval_s)


class BackgroundWorker:
    """A worker in a daemon thread (``amparo serve`` with one process)."""

    def __init__(self, registry: Registry, interval_s: float = 15.0) -> None:
        self.worker = Worker(registry)
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
    Worker(registry).run(stop, interval_s)
