"""Group commit: many threads' small appends written in one transaction.

Every read of identities is audited, so under load every page costs a write transaction and,
on SQLite with ``synchronous=FULL``, an fsync. Threads that append at the same moment share
one: the first to arrive writes everything waiting (its own item included) while later ones
queue; when it commits, the next waiting thread takes the next batch. Each caller returns only
after its own item is committed, exactly as with a transaction of its own, and an error
reaches every caller whose item was in the failed batch. No thread of its own, nothing to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")
MAX_BATCH = 256  # items per transaction; a longer queue is written in several


@dataclass(eq=False)  # identity, not equality: two callers may append equal items
class _Ticket(Generic[T, R]):
    item: T
    done: bool = False
    result: R | None = None
    error: BaseException | None = field(default=None)


class GroupCommit(Generic[T, R]):
    """``submit(item)`` runs ``apply(conn, items)`` for a batch of items inside ``begin()``."""

    def __init__(
        self,
        begin: Callable[[], object],
        apply: Callable[[Connection, Sequence[T]], Sequence[R]],
    ) -> None:
        self._begin = begin  # Store.write: a context manager yielding a Connection
        self._apply = apply
        self._cv = threading.Condition()
        self._pending: list[_Ticket[T, R]] = []
        self._writing = False
        self.batches = 0  # transactions written; for tests and benchmarks

    def submit(self, item: T) -> R:
        ticket: _Ticket[T, R] = _Ticket(item)
        with self._cv:
            self._pending.append(ticket)
            while not ticket.done and self._writing:
                self._cv.wait()
            if ticket.done:
                return self._outcome(ticket)
            self._writing = True
            # The writer's own item always goes, behind the oldest of those waiting.
            self._pending.remove(ticket)
            batch = [*self._pending[: MAX_BATCH - 1], ticket]
            del self._pending[: MAX_BATCH - 1]
        try:
            with self._begin() as conn:  # type: ignore[attr-defined]
                results = self._apply(conn, [t.item for t in batch])
            for t, result in zip(batch, results, strict=True):
                t.result = result
        except BaseException as exc:
            for t in batch:
                t.error = exc
        finally:
            with self._cv:
                for t in batch:
                    t.done = True
                self._writing = False
                self.batches += 1
                self._cv.notify_all()
        return self._outcome(ticket)

    @staticmethod
    def _outcome(ticket: _Ticket[T, R]) -> R:
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]
