"""Group commit: appends from many threads share transactions, none is lost or duplicated,
each caller returns after its own item is committed, and a failed batch fails its callers."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import Connection

from amparo.registry import Registry
from amparo.store.group_commit import GroupCommit


class _FakeStore:
    def __init__(self) -> None:
        self.committed: list[int] = []
        self.transactions = 0
        self.gate = threading.Event()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        self.gate.wait(5)
        staged: list[int] = []
        yield staged  # type: ignore[misc]
        self.transactions += 1
        self.committed += staged


def test_waiting_threads_share_one_transaction_and_nothing_is_lost() -> None:
    store = _FakeStore()

    def apply(conn: Connection, items: Sequence[int]) -> list[int]:
        conn.extend(items)  # type: ignore[attr-defined]
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(store.write, apply)
    results: dict[int, int] = {}

    def worker(i: int) -> None:
        results[i] = group.submit(i)
        group.submit(-1)  # equal items from several threads are still each written once

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    store.gate.set()  # the first writer was held: the others queued behind it
    for t in threads:
        t.join(10)
    assert sorted(store.committed) == [-1] * 40 + list(range(40))
    assert results == {i: i * 10 for i in range(40)}
    assert store.transactions < 80 and group.batches == store.transactions


def test_a_failed_batch_raises_in_every_caller_of_it_and_the_next_works() -> None:
    store = _FakeStore()
    store.gate.set()
    fail = [True]

    def apply(conn: Connection, items: Sequence[int]) -> list[int]:
        if fail[0]:
            raise OSError("disk full")
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(store.write, apply)
    with pytest.raises(OSError, match="disk full"):
        group.submit(1)
    fail[0] = False
    assert group.submit(2) == 2


def test_audit_entries_from_many_threads_form_one_intact_chain(registry: Registry) -> None:
    before = len(registry.audit.entries())

    def worker(i: int) -> None:
        for _ in range(5):
            registry.audit.record_alone("case.list", object_type="case", detail={"count": i})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    entries = registry.audit.entries()
    assert len(entries) == before + 40
    assert [e.seq for e in entries] == list(range(entries[0].seq, entries[0].seq + len(entries)))
    assert registry.audit.verify().ok
