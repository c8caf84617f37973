"""Crash safety (SECURITY.md test 18), reduced rounds: SIGKILL ``amparo serve`` and ``amparo
incidents add`` during writes; no acknowledged write lost, integrity and the audit chain
intact, the server restarts cleanly. ``make reliability`` runs 30 rounds of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import crash_cli_rounds, crash_server_rounds, make_vault

pytestmark = pytest.mark.slow


def test_killing_the_server_during_writes_loses_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    vault = make_vault(tmp_path / "vault", database_url)
    report = crash_server_rounds(vault, 4, tmp_path / "server.log")
    assert report.acknowledged > 0  # writes were in flight when the server died
    assert report.lost == 0
    assert report.problems == []
    assert all(r.restart_s > 0 for r in report.rounds[1:])  # restarted after each kill


def test_killing_the_cli_during_writes_loses_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    vault = make_vault(tmp_path / "vault", database_url)
    report = crash_cli_rounds(vault, 3, tmp_path / "cli.log")
    assert report.lost == 0
    assert report.problems == []
