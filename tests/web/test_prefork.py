"""``amparo serve --workers 2``: two forked processes on one socket, one audit chain, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from amparo.registry import Registry
from tests import factories
from tests.conftest import PASSPHRASE
from tests.web.conftest import add_user

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for the workers")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4: the parent's pid
                found.add(int(entry.name))
    return found


def _wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _get(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def _answers(url: str) -> bool:
    try:
        return _get(url, timeout=2) == 200
    except (OSError, urllib.error.URLError):
        return False


@pytest.fixture
def token(vault_dir: Path) -> str:
    with Registry.open(vault_dir, PASSPHRASE, actor="tester") as registry:
        user = add_user(registry, "coord", "coordinator")
        added = registry.incidents.add(factories.incident())
        assert added.case_id
        registry.grants.grant(added.case_id, "user", user.id, "read")
        _, secret = registry.accounts.create_token(user.id, "prefork", "read", 1)
    return secret


def test_two_workers_share_the_socket_and_the_audit_chain(vault_dir: Path, token: str) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "amparo", "serve", "--vault", str(vault_dir),
         "--port", str(port), "--workers", "2"],
        env={**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        # Two web workers and the one scheduler process (escalation, notifications).
        _wait_for(lambda: _answers(f"{base}/healthz") and len(_children(server.pid)) == 3)
        workers = _children(server.pid)
        headers = {"Authorization": f"Bearer {token}"}

        def list_incidents(_: int) -> int:
            return _get(f"{base}/api/v1/incidents", headers)

        # Each read appends to the audit chain from whichever worker took it.
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(list_incidents, range(60)))
        assert statuses == [200] * 60

        # A worker that dies is replaced; the server keeps answering.
        os.kill(min(workers), signal.SIGKILL)
        _wait_for(lambda: len(_children(server.pid) - {min(workers)}) == 3)
        assert _answers(f"{base}/healthz")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "Traceback" not in output
    assert _children(server.pid) == set()  # no worker left behind
    with Registry.open(vault_dir, PASSPHRASE, actor="tester") as registry:
        assert registry.audit.verify().ok
        reads = registry.audit.entries(action="incident.list")
        assert len(reads) == 60
