"""Two ``amparo worker`` processes on PostgreSQL, the same due escalations: each sent once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amparo.registry import Registry
from tests import factories
from tests.conftest import PASSPHRASE, PG_URL
from tests.services.smtp_sink import smtp_sink

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs AMPARO_TEST_DATABASE_URL (PostgreSQL)")

SCHEDULES = 12
CHAIN = 3


def test_two_workers_send_each_notification_exactly_once(vault_dir: Path) -> None:
    with smtp_sink() as sink:
        settings = vault_dir / "amparo.toml"
        settings.write_text(settings.read_text("utf-8") + "\n[smtp]\nhost = \"127.0.0.1\"\n"
                            f"port = {sink.port}\n", "utf-8")  # fmt: skip
        expected = []
        with Registry.open(vault_dir, PASSPHRASE, actor="tester") as registry:
            long_ago = datetime.now(UTC) - timedelta(hours=30)
            for n in range(SCHEDULES):
                defender = registry.defenders.add(factories.defender())
                chain = [{"email": f"s{n}-c{k}@contacts.test"} for k in range(CHAIN)]
                expected += [step["email"] for step in chain]
                registry.checkins.schedule(defender.id, every_hours=1, grace_minutes=[0],
                                           chain=chain, starts_at=long_ago)  # fmt: skip
        env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
        command = [sys.executable, "-m", "amparo", "worker", "--vault", str(vault_dir),
                   "--interval", "0.05", "--rounds", "8"]  # fmt: skip
        workers = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]  # fmt: skip
        logs = [w.communicate(timeout=120)[1] for w in workers]
        assert [w.returncode for w in workers] == [0, 0], logs
        assert sorted(sink.recipients()) == sorted(expected)  # every one, none twice
        # Which worker sends what depends on timing (usually both take part); not asserted.
