"""Disk full (SECURITY.md test 19): new writes get a clear answer (a 503 problem, a non-zero
exit with one line from the CLI), nothing written before is lost, and the next write
succeeds once space returns, without a restart. SQLite: the vault is the file system's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import can_mount_tmpfs, disk_full
from tests.conftest import PG_URL

pytestmark = [
    pytest.mark.slow,
    # The disk that fills is the SQLite vault's; PostgreSQL's own disk is the server's care.
    pytest.mark.skipif(bool(PG_URL), reason="SQLite only: runs in the SQLite pass"),
]

METHODS = [
    pytest.param(
        "tmpfs",
        marks=pytest.mark.skipif(
            not can_mount_tmpfs(), reason="cannot mount a tmpfs here (not root?): RLIMIT_FSIZE runs"
        ),
    ),
    "rlimit",
]


@pytest.mark.parametrize("method", METHODS)
def test_a_full_disk_refuses_clearly_keeps_everything_and_recovers(
    tmp_path: Path, method: str
) -> None:
    result = disk_full(tmp_path, method, writes_while_full=3)
    assert result.method == method
    assert len(result.refused) == 3
    assert {status for status, _ in result.refused} == {503}
    assert {kind for _, kind in result.refused} == {"urn:amparo:problem:unavailable"}
    assert all("nothing was written" in d for d in result.details), result.details
    assert result.count_ok and result.problems == []
    assert result.after_status == 201  # space came back: the same server writes again
    if method == "tmpfs":
        assert result.cli_exit == 1
        assert result.cli_message.startswith("error: the disk is full; nothing was written")
        assert "\n" not in result.cli_message and "Traceback" not in result.cli_message
