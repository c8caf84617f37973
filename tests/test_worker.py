"""The in-process scheduler (amparo.worker): registered periodic jobs run on their cron."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from amparo import jobs
from amparo.registry import Registry
from amparo.worker import Worker


@pytest.fixture
def periodic() -> Iterator[dict[str, jobs.PeriodicJob]]:
    saved = dict(jobs.PERIODIC)
    yield jobs.PERIODIC
    jobs.PERIODIC.clear()
    jobs.PERIODIC.update(saved)


def test_registered_periodic_jobs_run_on_their_tick(
    registry: Registry, periodic: dict[str, jobs.PeriodicJob]
) -> None:
    calls: list[str] = []
    jobs.register_periodic("amparo.test.every_second", "* * * * * *",
                           lambda r: calls.append(r.actor))  # fmt: skip
    jobs.register_periodic("amparo.test.broken", "* * * * * *", lambda r: 1 / 0)
    jobs.register_periodic("amparo.test.yearly", "0 0 1 1 *", lambda r: calls.append("no"))
    worker = Worker(registry)
    assert worker.run_once().periodic == 0  # the first tick after start, not one before
    time.sleep(1.1)
    assert worker.run_once().periodic == 1  # the broken one is logged, the round goes on
    assert calls == ["scheduler"]
