"""Several web server processes sharing one listening socket, forked after the vault is unlocked.

One Python process runs one thread at a time: on this design's hardware a request costs the
server 7-9 ms of CPU, so one process tops out near 120-150 requests/s whatever the database
does (docs/benchmarks.md). More processes use more cores. They are forked from the process
that unlocked the vault, so the keys reach them by copy-on-write memory: the passphrase is
asked for once and never handed to another process (uvicorn's own ``workers`` would start
fresh interpreters that each need it, through the environment or a prompt).

Each worker is a plain uvicorn server on the inherited socket; the kernel hands connections
to whichever worker accepts first. Everything a request needs between requests (sessions,
login throttling, the audit chain) is in the database, not in a worker's memory. A worker that
dies is replaced; one that keeps dying stops the whole server rather than loop.

``background``, when given, runs in one more forked process (not a thread of this one: a
process that forks must not hold threads): the scheduler of check-in escalation and
notifications, so that exactly one runs however many web workers there are.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["RESPAWN_LIMIT", "run"]

RESPAWN_LIMIT = 5  # deaths within RESPAWN_WINDOW_S after which the server gives up
RESPAWN_WINDOW_S = 60.0


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


def run(
    app: Any,
    host: str,
    port: int,
    workers: int,
    *,
    after_fork: Callable[[], None],
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    background: Callable[[], None] | None = None,
) -> int:
    """Serve ``app`` from ``workers`` forked processes until SIGINT or SIGTERM; the exit code.

    ``after_fork`` runs first in each worker (to drop database connections inherited from
    this process: two processes must never share one).
    """
    sock = listening_socket(host, port)
    children: dict[int, float] = {}  # pid -> started at
    background_pid: list[int] = []
    deaths: list[float] = []
    stopping = False
    failed = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                after_fork()
                code = _serve_forever(app, sock)
            finally:
                os._exit(code)
        children[pid] = time.monotonic()

    def spawn_background() -> None:
        assert background is not None
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                sock.close()
                after_fork()
                background()
                code = 0
            finally:
                os._exit(code)
        children[pid] = time.monotonic()
        background_pid[:] = [pid]

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _kill(pid, signal.SIGTERM)  # each worker finishes its requests, then exits

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(workers):
            spawn()
        if background is not None:
            spawn_background()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries os.wait itself
                continue
            if children.pop(pid, None) is None:
                continue
            if stopping:
                continue
            now = time.monotonic()
            deaths[:] = [t for t in deaths if now - t < RESPAWN_WINDOW_S] + [now]
            log(f"web worker {pid} exited ({_describe(status)})")
            if len(deaths) >= RESPAWN_LIMIT:
                log(f"{len(deaths)} workers died within {RESPAWN_WINDOW_S:.0f} s: stopping")
                stop(signal.SIGTERM, None)
                failed = True
                continue  # wait for the others to finish
            spawn_background() if background_pid == [pid] else spawn()
        return 1 if failed else 0
    finally:
        sock.close()  # kept open until now for the workers that replace dead ones
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve_forever(app: Any, sock: socket.socket) -> int:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0 if server.started else 1


def _kill(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
