"""Crash safety and disk full (docs/SECURITY design, tests 18 and 19).

    python -m bench.reliability [--rounds 30] [--cli-rounds 30]
        [--backend sqlite|postgresql|both] [--database-url URL] [--kdf floor|cheap]
        [--no-disk-full] [--write docs/reliability.md]

Crash rounds, server: ``amparo serve`` on a fresh vault; four clients POST incidents back to
back through the API; at a random moment (0 to 1 s after the first write is acknowledged)
the server gets SIGKILL. Every write answered 201 is *acknowledged*. With the server dead,
the harness opens the vault and checks: every acknowledged incident is there (0 lost), ``PRAGMA
integrity_check`` and the foreign-key check are clean (SQLite) and the audit chain verifies.
The next round restarts the server on the same vault and times it until ``/healthz``
answers (the restart time). On PostgreSQL the server dies, PostgreSQL stays up.

Crash rounds, CLI: three ``amparo incidents add`` processes at once, each killed with SIGKILL
at a random moment between 0.6 and 1.1 times the time three such runs take here (most of a
run is Python starting; the write comes at the end); every one that exited 0 printing an id
is acknowledged; then the same checks.

Disk full: :func:`disk_full` runs the server on a vault whose file system runs out (a small
tmpfs, filled up, where the machine lets us mount one; else a file-size limit,
RLIMIT_FSIZE, with SIGXFSZ ignored, raised again through ``prlimit`` for "space returns").
New writes must get a problem-details answer (503), not a 500; what was there stays
(integrity, count, audit chain); once space returns the next write succeeds without a
restart.

tests/reliability runs a few rounds of each in the test suite; ``make reliability`` runs 30.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from amparo.security.kdf import VAULT_FLOOR, KdfParams

PASSPHRASE = "reliability passphrase"
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
CLIENTS = 4
CLI_PROCESSES = 3
WRITER = "rel-writer"


@dataclass
class Vault:
    path: Path
    token: str
    database_url: str | None = None


@dataclass
class RoundResult:
    acknowledged: int
    lost: int
    attempted: int
    restart_s: float
    problems: list[str] = field(default_factory=list)
    killed: int = 1  # processes that got SIGKILL while still running


@dataclass
class Report:
    kind: str
    backend: str
    rounds: list[RoundResult] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return sum(r.acknowledged for r in self.rounds)

    @property
    def lost(self) -> int:
        return sum(r.lost for r in self.rounds)

    @property
    def problems(self) -> list[str]:
        return [p for r in self.rounds for p in r.problems]

    @property
    def killed(self) -> int:
        return sum(r.killed for r in self.rounds)

    def restart_p(self, q: float) -> float:
        times = sorted(r.restart_s for r in self.rounds if r.restart_s > 0)
        return times[min(len(times) - 1, int(q * len(times)))] if times else 0.0


# -- a vault with a writer's token ---------------------------------------------------------


def make_vault(root: Path, database_url: str | None = None, kdf: KdfParams = CHEAP) -> Vault:
    from amparo.registry import Registry
    from amparo.vault import init_vault

    init_vault(root, PASSPHRASE, database_url=database_url, kdf=kdf)
    with Registry.open(root, PASSPHRASE, actor="reliability") as registry:
        user = registry.accounts.add_user(WRITER, secrets.token_hex(12), "documenter")
        token = registry.accounts.create_token(user.id, "reliability", "write", 1)[1]
    return Vault(root, token, database_url)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A throw-away database next to ``admin_url``'s, dropped afterwards."""
    admin = sa.create_engine(
        sa.make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"amparo_rel_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# -- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    vault: Vault, port: int, log: Path, fsize_limit: int | None = None
) -> tuple[subprocess.Popen[bytes], float]:
    """``amparo serve`` on loopback; returns it and the seconds until /healthz answered."""
    env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
    command = [
        sys.executable,
        "-m",
        "amparo",
        "serve",
        "--vault",
        str(vault.path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]

    def limit() -> None:  # in the child, before exec: writes past the limit get EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert fsize_limit is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_limit, resource.RLIM_INFINITY))

    started = time.monotonic()
    with log.open("ab") as out:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limit if fsize_limit is not None else None,
        )
    deadline = started + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}: see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server, time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"the server did not answer /healthz within 120 s: see {log}")


def post_incident(port: int, token: str, title: str, timeout: float = 30) -> tuple[int, Any]:
    body = json.dumps(
        {
            "title": title,
            "narrative": f"Reliability record {title}.",
            "date_start": "2024-05-14",
            "country": "HN",
            "acts": [{"act_type": "A09"}],
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/incidents",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            text = exc.read()
        try:
            return exc.code, {**json.loads(text), "_content_type": exc.headers["content-type"]}
        except ValueError:
            return exc.code, {"raw": text.decode("utf-8", "replace")}


class Client(threading.Thread):
    """Posts incidents until the server stops answering; keeps the ids answered 201."""

    def __init__(self, port: int, token: str, name: str) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.name_ = port, token, name
        self.acknowledged: list[str] = []
        self.attempted = 0
        self.unexpected: list[str] = []

    def run(self) -> None:
        n = 0
        while True:
            n += 1
            self.attempted += 1
            try:
                status, body = post_incident(self.port, self.token, f"{self.name_}-{n}")
            except (OSError, ValueError, http.client.HTTPException):
                return  # the server died under this request: not acknowledged
            if status == 201:
                self.acknowledged.append(body["id"])
            else:
                self.unexpected.append(f"HTTP {status}: {str(body)[:200]}")
                return


# -- checks --------------------------------------------------------------------------------


def check_vault(vault: Vault, acknowledged: set[str]) -> tuple[int, list[str]]:
    """(lost acknowledged writes, problems) of a vault nobody is writing to."""
    from amparo.registry import Registry
    from amparo.store import schema

    with Registry.open(vault.path, PASSPHRASE, actor="reliability") as registry:
        with registry.store.read() as conn:
            present = set(conn.execute(sa.select(schema.incidents.c.id)).scalars())
        problems = registry.store.integrity_problems()
        verdict = registry.audit.verify()
        if not verdict.ok:
            problems.append(f"audit chain: {verdict}")
    return len(acknowledged - present), problems


# -- crash rounds --------------------------------------------------------------------------


def crash_server_rounds(vault: Vault, rounds: int, log: Path, seed: int = 1) -> Report:
    rng = random.Random(seed)
    report = Report("server", "postgresql" if vault.database_url else "sqlite")
    acknowledged: set[str] = set()
    for index in range(rounds):
        port = free_port()
        server, restart_s = start_server(vault, port, log)
        clients = [Client(port, vault.token, f"r{index}c{c}") for c in range(CLIENTS)]
        for client in clients:
            client.start()
        # Kill while writes are in flight: after the first one is acknowledged.
        waited = time.monotonic() + 30
        while not any(c.acknowledged for c in clients) and time.monotonic() < waited:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 1.0))
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        for client in clients:
            client.join(timeout=60)
        mine = {i for c in clients for i in c.acknowledged}
        acknowledged |= mine
        lost, problems = check_vault(vault, acknowledged)
        problems += [u for c in clients for u in c.unexpected]
        report.rounds.append(
            RoundResult(
                len(mine),
                lost,
                sum(c.attempted for c in clients),
                restart_s if index else 0.0,
                problems,
            )
        )
        _progress(report, rounds)
    return report


def crash_cli_rounds(vault: Vault, rounds: int, log: Path, seed: int = 2) -> Report:
    rng = random.Random(seed)
    report = Report("cli", "postgresql" if vault.database_url else "sqlite")
    acknowledged: set[str] = set()
    env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
    lifetimes = [_cli_lifetime(vault, env, log)]
    for index in range(rounds):
        lifetime = sorted(lifetimes)[len(lifetimes) // 2]  # what a run takes here, lately
        processes = []
        for p in range(CLI_PROCESSES):
            data = json.dumps(
                {
                    "title": f"cli r{index} p{p}",
                    "date_start": "2024-05-14",
                    "country": "HN",
                    "acts": [{"act_type": "A09"}],
                }
            )
            with log.open("ab") as err:
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "amparo",
                            "incidents",
                            "add",
                            "--vault",
                            str(vault.path),
                            "--json",
                            data,
                        ],
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=err,
                    )
                )
        # Most of a run is starting Python; the write is at the end: kill in its last part.
        started = time.monotonic()
        deadline = {id(p): started + lifetime * rng.uniform(0.5, 1.05) for p in processes}
        ended: dict[int, float] = {}
        while any(p.poll() is None for p in processes):
            for process in processes:
                if process.poll() is None and time.monotonic() >= deadline[id(process)]:
                    process.send_signal(signal.SIGKILL)
                elif process.poll() is not None and id(process) not in ended:
                    ended[id(process)] = time.monotonic()
            time.sleep(0.005)
        mine = set()
        for process in processes:
            out = ""
            if process.stdout is not None:
                with process.stdout:
                    out = process.stdout.read().decode()
            if process.returncode == 0 and out.strip():
                mine.add(out.split()[0])
                lifetimes = [*lifetimes[-9:], ended.get(id(process), time.monotonic()) - started]
        acknowledged |= mine
        lost, problems = check_vault(vault, acknowledged)
        killed = sum(1 for p in processes if p.returncode == -signal.SIGKILL)
        report.rounds.append(RoundResult(len(mine), lost, CLI_PROCESSES, 0.0, problems, killed))
        _progress(report, rounds)
    return report


def _cli_lifetime(vault: Vault, env: dict[str, str], log: Path) -> float:
    """Seconds one ``amparo incidents add`` takes here, unkilled, while others run too."""
    data = json.dumps(
        {
            "title": "calibration",
            "date_start": "2024-05-14",
            "country": "HN",
            "acts": [{"act_type": "A09"}],
        }
    )
    started = time.monotonic()
    with log.open("ab") as err:
        runs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "amparo",
                    "incidents",
                    "add",
                    "--vault",
                    str(vault.path),
                    "--json",
                    data,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            for _ in range(CLI_PROCESSES)
        ]
    for run in runs:
        run.wait()
    return time.monotonic() - started


def _progress(report: Report, rounds: int) -> None:
    r = report.rounds[-1]
    print(
        f"  {report.kind}/{report.backend} round {len(report.rounds)}/{rounds}: "
        f"{r.killed} killed, {r.acknowledged} acknowledged, {r.lost} lost, "
        f"restart {r.restart_s:.2f} s" + (f", problems: {r.problems}" if r.problems else ""),
        file=sys.stderr,
        flush=True,
    )


# -- disk full -----------------------------------------------------------------------------


@dataclass
class DiskFullResult:
    method: str  # "tmpfs" or "rlimit"
    before: int  # incidents acknowledged before the disk filled
    refused: list[tuple[int, str]]  # (status, problem type) of writes while full
    after_status: int  # the first write once space returned
    count_ok: bool
    problems: list[str]
    cli_exit: int | None = None
    cli_message: str = ""
    details: list[str] = field(default_factory=list)  # the problems' detail texts


def can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path(tempfile.mkdtemp(prefix="amparo-tmpfs-probe-"))
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=False)
        return True
    finally:
        probe.rmdir()


@contextmanager
def small_tmpfs(size_mib: int) -> Iterator[Path]:
    mount = Path(tempfile.mkdtemp(prefix="amparo-full-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(mount)],
        check=True,
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def _fill(directory: Path) -> Path:
    """Fill the file system with one file until it is full; returns it (delete = space back)."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):  # big blocks, then the last crumbs
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def disk_full(work: Path, method: str | None = None, writes_while_full: int = 5) -> DiskFullResult:
    """The server on a vault whose space runs out, then comes back (see module docstring)."""
    method = method or ("tmpfs" if can_mount_tmpfs() else "rlimit")
    log = work / "disk-full-server.log"
    if method == "tmpfs":
        with small_tmpfs(24) as mount:
            vault = make_vault(mount / "vault")
            return _disk_full_run(vault, log, method, writes_while_full, filler_dir=mount)
    vault = make_vault(work / "vault-rlimit")
    return _disk_full_run(vault, log, method, writes_while_full, filler_dir=None)


def _disk_full_run(
    vault: Vault, log: Path, method: str, writes_while_full: int, filler_dir: Path | None
) -> DiskFullResult:
    port = free_port()
    # With the file-size limit: none yet (SIGXFSZ ignored), set once the first writes are in.
    fsize = None if filler_dir is not None else resource.RLIM_INFINITY
    server, _ = start_server(vault, port, log, fsize_limit=fsize)
    acknowledged: set[str] = set()
    refused: list[tuple[int, str]] = []
    details: list[str] = []
    try:
        for n in range(20):
            status, body = post_incident(port, vault.token, f"before-{n}")
            assert status == 201, (status, body)
            acknowledged.add(body["id"])
        filler = _fill(filler_dir) if filler_dir is not None else None
        if filler_dir is None:
            # Every file may grow 256 KiB past the largest now: soon the WAL or the database
            # cannot (the limit holds per file, for the server process only).
            largest = max(p.stat().st_size for p in vault.path.iterdir() if p.is_file())
            limit = largest + 256 * 1024
            resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        # Writes until the disk refuses (with the limit, the WAL grows to it first).
        for n in range(5000):
            status, body = post_incident(port, vault.token, f"full-{n}")
            if status == 201:
                acknowledged.add(body["id"])
                continue
            refused.append((status, str(body.get("type") or body.get("raw", ""))[:200]))
            details.append(str(body.get("detail", ""))[:200])
            if len(refused) >= writes_while_full:
                break
        if filler is not None:
            filler.unlink()
        else:
            resource.prlimit(
                server.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            )
        after_status, body = post_incident(port, vault.token, "after")
        if after_status == 201:
            acknowledged.add(body["id"])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    lost, problems = check_vault(vault, acknowledged)
    result = DiskFullResult(
        method, len(acknowledged), refused, after_status, lost == 0, problems, details=details
    )
    if filler_dir is not None:
        result.cli_exit, result.cli_message = _cli_when_full(vault, filler_dir)
    return result


def _cli_when_full(vault: Vault, filler_dir: Path) -> tuple[int, str]:
    """``amparo incidents add`` on the full disk: its exit code and its message."""
    filler = _fill(filler_dir)
    try:
        env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
        data = json.dumps(
            {
                "title": "cli while full",
                "date_start": "2024-05-14",
                "country": "HN",
                "acts": [{"act_type": "A09"}],
            }
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "amparo",
                "incidents",
                "add",
                "--vault",
                str(vault.path),
                "--json",
                data,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode, done.stderr.strip()
    finally:
        filler.unlink()


# -- the command ---------------------------------------------------------------------------


def render(reports: list[Report], full: DiskFullResult | None, kdf: str) -> str:
    lines = [
        "## Crash safety and disk full (`make reliability`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, key slots with "
        f"{'the Argon2id floor (256 MiB, t=3)' if kdf == 'floor' else 'cheap Argon2id'}.",
        "SIGKILL at a random moment during writes; after each kill the vault is opened and "
        "checked (acknowledged writes present, `PRAGMA integrity_check` and foreign keys on "
        "SQLite, the audit chain); the server is restarted on the same vault (time to "
        "`/healthz`). Script: `bench/reliability.py`.",
        "",
        "| what is killed | database | rounds | kills | writes acknowledged | lost | integrity and "
        "audit problems | restart median | restart max |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        restart = (
            (f"{r.restart_p(0.5):.2f} s", f"{r.restart_p(1.0):.2f} s")
            if r.kind == "server"
            else ("-", "-")
        )
        what = (
            f"`amparo serve` ({CLIENTS} API clients)"
            if r.kind == "server"
            else f"`amparo incidents add` ({CLI_PROCESSES} at once)"
        )
        lines.append(
            f"| {what} | {r.backend} | {len(r.rounds)} | {r.killed} | {r.acknowledged} | {r.lost} "
            f"| {len(r.problems)} | {restart[0]} | {restart[1]} |"
        )
    if full is not None:
        statuses = sorted({f"{s} `{t}`" for s, t in full.refused})
        lines += [
            "",
            f"Disk full ({'a 24 MiB tmpfs filled up' if full.method == 'tmpfs' else 'RLIMIT_FSIZE'}"
            f", SQLite): {full.before} writes acknowledged before and while filling; new writes "
            f'answered {", ".join(statuses) or "nothing"} ("{(full.details or [""])[0]}"); '
            "when space came back the next write "
            f"answered {full.after_status} without a restart; acknowledged writes all present: "
            f"{'yes' if full.count_ok else 'NO'}; integrity and audit problems: "
            f"{len(full.problems)}."
            + (
                f" The CLI on the full disk exits {full.cli_exit}: `{full.cli_message[:160]}`."
                if full.cli_exit is not None
                else ""
            ),
        ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace this section of ``path`` (from its heading to the next ``## ``), or append."""
    heading = text.splitlines()[0]
    old = path.read_text("utf-8") if path.exists() else "# Reliability\n"
    if heading in old:
        start = old.index(heading)
        rest = old[start + len(heading) :]
        end = rest.find("\n## ")
        old = old[:start] + (rest[end + 1 :] if end >= 0 else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="server crash rounds")
    parser.add_argument("--cli-rounds", type=int, default=30, help="CLI crash rounds")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("AMPARO_TEST_DATABASE_URL") or PG_DEFAULT,
        help="PostgreSQL server for --backend postgresql",
    )
    parser.add_argument("--kdf", choices=("floor", "cheap"), default="floor")
    parser.add_argument("--no-disk-full", action="store_true")
    parser.add_argument("--kinds", default="server,cli", help="which crash rounds: server, cli")
    parser.add_argument("--write", type=Path, help="append/replace the section in this file")
    args = parser.parse_args(argv)
    kdf = VAULT_FLOOR if args.kdf == "floor" else CHEAP
    reports: list[Report] = []
    with tempfile.TemporaryDirectory(prefix="amparo-reliability-") as tmp:
        work = Path(tmp)
        log = work / "server.log"
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
        for backend in backends:
            if "server" in kinds:
                with contextmanager_for(backend, args.database_url) as url:
                    vault = make_vault(work / f"{backend}-server", url, kdf)
                    reports.append(crash_server_rounds(vault, args.rounds, log))
            if "cli" in kinds:
                with contextmanager_for(backend, args.database_url) as url:
                    vault = make_vault(work / f"{backend}-cli", url, kdf)
                    reports.append(crash_cli_rounds(vault, args.cli_rounds, log))
        full = None if args.no_disk_full else disk_full(work)
        text = render(reports, full, args.kdf)
    print(text)
    if args.write:
        write_section(args.write, text)
    bad = any(r.lost or r.problems for r in reports) or (
        full is not None and (not full.count_ok or full.problems or full.after_status != 201)
    )
    return 1 if bad else 0


@contextmanager
def contextmanager_for(backend: str, admin_url: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    with postgres_database(admin_url) as url:
        yield url


if __name__ == "__main__":
    raise SystemExit(main())
