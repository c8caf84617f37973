"""amparo.jobs: the registry of periodic jobs, cadences, and the procrastinate app's wiring
(the worker itself runs in tests/services/test_workers_postgres.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from amparo import jobs
from amparo.registry import Registry


@pytest.fixture
def periodic() -> Iterator[dict[str, jobs.PeriodicJob]]:
    saved = dict(jobs.PERIODIC)
    yield jobs.PERIODIC
    jobs.PERIODIC.clear()
    jobs.PERIODIC.update(saved)


def test_cadences() -> None:
    assert jobs.cron_every(60) == "* * * * *"
    assert jobs.cron_every(1) == "* * * * * */1"
    assert jobs.cron_every(15) == "* * * * * */15"
    assert jobs.cron_every(600) == "*/10 * * * *"
    for bad in (0, 0.5, 7, 90, 7200):
        with pytest.raises(jobs.QueueError, match="--interval"):
            jobs.cron_every(bad)


def test_register_periodic_checks_name_and_cron(periodic: dict[str, jobs.PeriodicJob]) -> None:
    job = jobs.register_periodic("amparo.backup", "0 3 * * *", "amparo.demo:nothing")
    assert periodic["amparo.backup"] == job
    with pytest.raises(ValueError, match="cron"):
        jobs.register_periodic("amparo.backup", "every night", "x:y")
    with pytest.raises(ValueError, match="built-in"):
        jobs.register_periodic(jobs.ESCALATE, "* * * * *", "x:y")
    with pytest.raises(ValueError, match="name"):
        jobs.register_periodic("Bad Name", "* * * * *", "x:y")


def test_a_target_is_imported_only_when_asked() -> None:
    job = jobs.PeriodicJob("amparo.x", "* * * * *", "amparo.jobs:cron_every")
    assert job.function() is jobs.cron_every


def test_the_app_has_every_task_and_each_periodic_once(
    registry: Registry, periodic: dict[str, jobs.PeriodicJob]
) -> None:
    jobs.register_periodic("amparo.backup", "0 3 * * *", lambda r: None)
    app = jobs.build_app(registry, interval_s=30)  # builds; connects only when a worker opens it
    assert {jobs.ESCALATE, jobs.DISPATCH, jobs.DELIVER, jobs.SWEEP, jobs.PRUNE,
            "amparo.backup"} <= set(app.tasks)  # fmt: skip
    crons = {name: p.cron for (name, _), p in app.periodic_registry.periodic_tasks.items()}
    assert crons == {jobs.ESCALATE: "* * * * * */30", jobs.DISPATCH: "* * * * * */30",
                     jobs.SWEEP: "* * * * * */30", jobs.PRUNE: jobs.PRUNE_CRON,
                     "amparo.backup": "0 3 * * *"}  # fmt: skip
    deliver = app.tasks[jobs.DELIVER]
    assert deliver.retry_strategy is not None and deliver.queueing_lock is None
    assert all(app.tasks[name].lock == name for name in crons)  # one run of each at a time


def test_importing_the_module_imports_no_procrastinate() -> None:
    code = "import sys, amparo.jobs, amparo.worker; print('procrastinate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sqlite_has_no_queue(registry: Registry) -> None:
    if registry.store.dialect != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(jobs.QueueError, match="PostgreSQL"):
        jobs.ensure_schema(registry.store)
    assert not jobs.queue_workers_alive(registry.store)
