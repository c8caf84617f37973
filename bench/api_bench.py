"""JSON API under load: authenticated lists and searches at 100,000 incidents.

    python -m bench.api_bench [--incidents 100000] [--backend sqlite|postgresql|both]
                              [--database-url URL] [--users 20] [--seconds 30] [--workers 1]
                              [--write docs/benchmarks.md]

Builds (or reuses) a vault of demo incidents, a coordinator holding read grants on every
case and an API token of scope ``read``; starts ``amparo serve --workers N`` (as in
production) on a free loopback port; then runs locust headless with ``--users`` clients that
send requests back to back, one scenario at a time: (a) the newest page, (b) a filtered list,
(c) keyword searches, (d) paging by cursor, (e) one incident, and all of them mixed.
Target (issue 4): p95 <= 100 ms at 20 concurrent clients.

``--profile SCENARIO`` runs one scenario against the same app under cProfile (one profiler
per server thread) and prints where the time goes instead.

The SQLite vault is cached under the system temporary directory (``--cache``), keyed by size,
and reused by later runs. The PostgreSQL database (``amparo_bench_api_<size>``, created next to
``--database-url``'s database) is dropped at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.registry_bench import CHEAP, PASSPHRASE, SEED, machine_info
from bench.report import write_section

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
CACHE_VERSION = 1
SCENARIOS = {
    "list": "(a) newest page: `GET /api/v1/incidents?limit=50`",
    "filtered": "(b) filtered list: country + act_type + year, limit 50",
    "search": "(c) keywords: `q=` a common or a rare word (limit 50), and `GET /api/v1/search`",
    "paging": "(d) newest page, then 5 more pages following `next_cursor`",
    "get": "(e) one incident: `GET /api/v1/incidents/{id}`",
    "mixed": "all of the above together (lists and single records weigh 3, the rest 1)",
}
CPU_PARTS = ("server", "database", "locust", "other")
# Paced runs: 20 people each reading a page for about this long before the next request
# (half to one and a half times it) -- several times faster than anyone reads a list.
THINK_S = 0.5
PACED = ("mixed", "search")
STARTUP_S, RAMP_S = 1.5, 2  # locust's start-up; spawning all clients at users/2 per second
OFFICER_CASES = 20  # grants of the second user: a field officer following a few cases
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "## JSON API under load"
SECTION_1M = "## JSON API at 1,000,000 incidents"  # beside the 100,000 one, not instead


def section_for(incidents: int) -> str:
    return SECTION_1M if incidents >= 1_000_000 else SECTION


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the data -----------------------------------------------------------------------------
def _pg_admin(database_url: str) -> tuple[sa.Engine, sa.URL]:
    base = sa.make_url(database_url).set(drivername="postgresql+psycopg")
    return sa.create_engine(base, isolation_level="AUTOCOMMIT"), base


def _pg_exists(admin: sa.Engine, name: str) -> bool:
    with admin.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
    return found is not None


def _drop_pg(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _words(records: list[dict[str, Any]], rng: random.Random) -> tuple[list[str], list[str]]:
    """Words of the titles and narratives: common ones (in 5-40 % of incidents, which the
    search pages through in date order) and rare ones (in 1-20 incidents, fetched by id)."""
    from amparo.security.blind_index import normalise_words

    df: Counter[str] = Counter()
    for r in records:
        df.update(normalise_words(f"{r.get('title') or ''} {r.get('narrative') or ''}"))
    n = len(records)
    common = sorted(w for w, c in df.items() if 0.05 * n <= c <= 0.4 * n and len(w) > 3)
    rare = sorted(w for w, c in df.items() if 1 <= c <= 20 and len(w) > 4 and w.isalpha())
    return rng.sample(common, min(40, len(common))), rng.sample(rare, min(200, len(rare)))


def _demo_records(
    n: int, today: Any, defender_ids: list[str] | None = None, limit: int | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo defenders and (the first ``limit`` of) the incidents of a vault of ``n``,
    exactly as the registry benchmark generates them (same seed, same sizes)."""
    from itertools import islice

    from amparo.demo import DemoSize, demo_defenders, demo_incidents

    rng = random.Random(SEED)
    size = DemoSize(defenders=max(60, n // 50), incidents=n)
    defender_inputs = demo_defenders(rng, size, today)
    ids = defender_ids or [f"{i:032x}" for i in range(len(defender_inputs))]
    incidents = demo_incidents(rng, ids, defender_inputs, size, today)
    return defender_inputs, list(islice(incidents, limit))


def build(vault: Path, n: int, url: str | None) -> dict[str, Any]:
    """A vault of ``n`` demo incidents and the two benchmark users; returns the parameters
    the clients draw from (no secret: tokens are issued per run)."""
    from amparo.registry import Registry
    from amparo.vault import init_vault

    init_vault(vault, PASSPHRASE, database_url=url, kdf=CHEAP)
    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        today = registry.clock.today()
        started = time.perf_counter()
        defender_inputs, _ = _demo_records(n, today, limit=0)
        defender_ids = [str(registry.defenders.add(data).id) for data in defender_inputs]
        _, records = _demo_records(n, today, defender_ids)
        log(f"  {len(defender_ids):,} defenders; importing {len(records):,} incidents")
        report = registry.incidents.add_many(records, total=len(records))
        if report.errors:
            raise SystemExit(f"benchmark data rejected: {report.errors[:3]}")
        params = _add_users(registry, records, list(report.added))
        log(f"  built in {time.perf_counter() - started:.0f} s")
        return params


def adopt(vault: Path, n: int) -> dict[str, Any]:
    """Take over a vault that already holds the ``n`` demo incidents of the registry
    benchmark (``python -m bench.registry_bench --keep DIR``), generated today: a million
    incidents are imported once for both benchmarks. The two users and their grants are
    added as ``build`` adds them; the words and filter combinations are drawn from the first
    100,000 records of the same generator, the record ids from the vault."""
    from amparo.registry import Registry
    from amparo.store import schema

    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        with registry.store.read() as conn:
            ids = [str(i) for i in conn.execute(sa.select(schema.incidents.c.id)).scalars()]
        if len(ids) != n:
            raise SystemExit(f"{vault} holds {len(ids):,} incidents, not {n:,}")
        log(f"  adopting {vault}: {n:,} incidents; drawing words from 100,000 of them")
        _, records = _demo_records(n, registry.clock.today(), limit=100_000)
        return _add_users(registry, records, ids)


def _add_users(registry: Any, records: list[dict[str, Any]], added: list[str]) -> dict[str, Any]:
    from amparo.store import schema

    with registry.store.read() as conn:
        cases = [str(c) for c in conn.execute(sa.select(schema.cases.c.id)).scalars()]
    password = secrets.token_urlsafe(24)
    coordinator = registry.accounts.add_user("bench-coordinator", password, "coordinator")
    officer = registry.accounts.add_user("bench-officer", password, "coordinator")
    # Each grant as an administrator gives it: one transaction and audit entry apiece.
    log(f"  granting {len(cases):,} cases")
    for case_id in cases:
        registry.grants.grant(case_id, "user", coordinator.id, "read")
    for case_id in random.Random(SEED + 2).sample(cases, min(OFFICER_CASES, len(cases))):
        registry.grants.grant(case_id, "user", officer.id, "read")
    if registry.store.dialect == "postgresql":
        with registry.store.write() as conn:
            conn.exec_driver_sql("ANALYZE")
    qrng = random.Random(SEED + 1)
    common, rare = _words(records, qrng)
    return {
        "cache_version": CACHE_VERSION,
        "incidents": len(added),
        "cases": len(cases),
        "officer_cases": min(OFFICER_CASES, len(cases)),
        "coordinator": coordinator.id,
        "officer": officer.id,
        "combos": [
            (r["country"], r["acts"][0]["act_type"], int(r["date_start"].lstrip("~")[:4]))
            for r in qrng.sample(records, min(200, len(records)))
        ],
        "common_words": common,
        "rare_words": rare,
        "incident_ids": qrng.sample(added, min(1000, len(added))),
    }


def prepare(
    backend: str, n: int, cache: Path, database_url: str, adopt_from: Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """The cached vault for (backend, n), built when missing or unusable (or, for SQLite,
    taken over from ``adopt_from``: moved into the cache)."""
    workdir = cache / f"{backend}-{n}"
    params_file = workdir / "params.json"
    url = None
    if backend == "postgresql":
        admin, base = _pg_admin(database_url)
        name = f"amparo_bench_api_{n}"
        url = base.set(database=name).render_as_string(hide_password=False)
        try:
            if not _pg_exists(admin, name):
                params_file.unlink(missing_ok=True)
        finally:
            admin.dispose()
    if params_file.exists():
        params: dict[str, Any] = json.loads(params_file.read_text(encoding="utf-8"))
        if params.get("cache_version") == CACHE_VERSION and params.get("incidents") == n:
            log(f"[{backend}] reusing the vault in {workdir}")
            return workdir / "vault", params
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if adopt_from is not None and backend == "sqlite" and (adopt_from / "vault.key").exists():
        shutil.move(adopt_from, workdir / "vault")
        params = adopt(workdir / "vault", n)
        params_file.write_text(json.dumps(params), encoding="utf-8")
        return workdir / "vault", params
    if backend == "postgresql":
        admin, _ = _pg_admin(database_url)
        try:
            _drop_pg(admin, f"amparo_bench_api_{n}")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "amparo_bench_api_{n}"')
        finally:
            admin.dispose()
    log(f"[{backend}] building a vault of {n:,} incidents in {workdir}")
    params = build(workdir / "vault", n, url)
    params_file.write_text(json.dumps(params), encoding="utf-8")
    return workdir / "vault", params


def issue_tokens(vault: Path, params: dict[str, Any]) -> dict[str, str]:
    """Fresh read tokens for both users (a day long; never stored)."""
    from amparo.registry import Registry

    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        return {
            who: registry.accounts.create_token(params[who], "api-bench", "read", 1)[1]
            for who in ("coordinator", "officer")
        }


# -- the server ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    vault: Path, port: int, logfile: Path, workers: int = 1
) -> subprocess.Popen[bytes]:
    """``amparo serve`` exactly as an operator runs it: loopback, HTTP, ``workers`` processes."""
    env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
    command = [sys.executable, "-m", "amparo", "serve", "--vault", str(vault),
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    with logfile.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    _wait_healthy(server, port, logfile)
    return server


def _wait_healthy(server: subprocess.Popen[bytes], port: int, logfile: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: see {logfile}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not answer /healthz within 60 s: see {logfile}")


def serve_profiled(vault: Path, port: int, out: Path) -> None:
    """``amparo serve``'s app under cProfile, one profiler per thread (the event loop and
    each worker of the thread pool that runs the endpoints); stats merged into ``out``."""
    import cProfile
    import pstats
    import threading

    import uvicorn

    from amparo.registry import Registry
    from amparo.web.app import create_app

    profilers: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_thread_profiler(*_: object) -> None:
        profiler = cProfile.Profile()
        with lock:
            profilers.append(profiler)
        profiler.enable()  # replaces this hook in the new thread

    registry = Registry.open(vault, PASSPHRASE, actor="web")
    app = create_app(registry, secure_cookies=False)
    threading.setprofile(start_thread_profiler)
    start_thread_profiler()
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
        with lock:
            stats = pstats.Stats(*profilers)  # workers are idle: the server has stopped
        stats.dump_stats(out)
        registry.close()


def profile(backend: str, n: int, database_url: str, cache: Path, users: int, seconds: int,
            scenario: str) -> None:  # fmt: skip
    """Run one scenario against the profiled server and print where the time goes."""
    import pstats

    vault, params = prepare(backend, n, cache, database_url)
    tokens = issue_tokens(vault, params)
    outdir = vault.parent / "results"
    outdir.mkdir(exist_ok=True)
    port = free_port()
    out = outdir / f"profile-{scenario}.pstats"
    env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
    command = [sys.executable, "-m", "bench.api_bench", "--serve-profiled", str(vault),
               "--port", str(port), "--profile-out", str(out)]  # fmt: skip
    logfile = vault.parent / "server.log"
    with logfile.open("wb") as handle:
        server = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                  cwd=ROOT)  # fmt: skip
    _wait_healthy(server, port, logfile)
    try:
        database = f"amparo_bench_api_{n}" if backend == "postgresql" else None
        run = run_locust(scenario, port, tokens["coordinator"], vault.parent / "params.json",
                         users, seconds, outdir, server.pid, database)  # fmt: skip
    finally:
        stop_server(server)
    agg = run["rows"]["Aggregated"]
    print(
        f"{scenario} (profiled, slower than unprofiled): {agg['requests']} requests, "
        f"{agg['rps']:.0f} req/s, p50 {agg['p50']:.0f} ms, p95 {agg['p95']:.0f} ms"
    )
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and of its live children (the server's worker processes)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def _database_cpu(database: str | None) -> dict[int, float]:
    """CPU seconds of the PostgreSQL server processes serving ``database``, by pid."""
    found: dict[int, float] = {}
    if database is None:
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            if cmdline.startswith("postgres:") and f" {database} " in cmdline:
                found[int(entry.name)] = _cpu_seconds(int(entry.name))
        except OSError:
            continue
    return found


# -- the load -----------------------------------------------------------------------------
def run_locust(
    scenario: str, port: int, token: str, params_file: Path, users: int, seconds: int,
    outdir: Path, server_pid: int, database: str | None = None, think: float = 0.0,
) -> dict[str, Any]:  # fmt: skip
    """One headless locust run; per-request-name and aggregated stats from its CSV."""
    label = f"{scenario}-paced" if think else scenario
    prefix = outdir / label
    env = {**os.environ, "AMPARO_BENCH_PARAMS": str(params_file),
           "AMPARO_BENCH_SCENARIO": scenario, "AMPARO_BENCH_TOKEN": token,
           "AMPARO_BENCH_THINK": str(think)}  # fmt: skip
    command = [
        sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
        "--users", str(users), "--spawn-rate", str(max(1, users // 2)),
        "--run-time", f"{seconds}s", "--stop-timeout", "10", "--reset-stats",
        "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              cwd=ROOT)  # fmt: skip
    # CPU is counted from when locust has started and its clients all run (the statistics
    # are reset then) until it exits.
    time.sleep(min(seconds / 2, STARTUP_S + RAMP_S))
    started = time.monotonic()
    server_before, (busy_before, total_before) = _cpu_seconds(server_pid), _machine_busy()
    db_before = _database_cpu(database)
    locust_before = _cpu_seconds(locust.pid)
    try:
        _, stderr = locust.communicate(timeout=seconds + 120)
    except subprocess.TimeoutExpired:
        locust.kill()
        raise SystemExit(f"locust did not finish scenario {scenario}") from None
    wall = time.monotonic() - started
    server_cpu = _cpu_seconds(server_pid) - server_before
    db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in _database_cpu(database).items())
    busy_after, total_after = _machine_busy()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if locust.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"locust failed ({locust.returncode}) in scenario {scenario}")
    rows = {}
    with (outdir / f"{label}_stats.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
                "mean": float(row["Average Response Time"]),
            }
    locust_cpu = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime + locust_before
    )
    cores = os.cpu_count() or 1
    machine = cores * (busy_after - busy_before) / max(1e-9, total_after - total_before)
    return {  # CPU in % of one core, as top shows it
        "scenario": scenario,
        "think": think,
        "rows": rows,
        "cpu": {
            "server": 100 * server_cpu / wall,
            "database": 100 * db_cpu / wall,
            "locust": 100 * locust_cpu / wall,
            "other": max(0.0, 100 * (machine * wall - server_cpu - db_cpu - locust_cpu) / wall),
        },
        "server_ms_per_request": 1000 * server_cpu / max(1.0, rows["Aggregated"]["rps"] * wall),
        "cores": cores,
    }


def run_backend(
    backend: str,
    n: int,
    database_url: str,
    cache: Path,
    users: int,
    seconds: int,
    keep: bool,
    workers: int = 1,
    think: float = THINK_S,
    adopt_from: Path | None = None,
) -> dict[str, Any]:
    vault, params = prepare(backend, n, cache, database_url, adopt_from)
    outdir = vault.parent / "results"
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir()
    tokens = issue_tokens(vault, params)
    database = f"amparo_bench_api_{n}" if backend == "postgresql" else None
    port = free_port()
    server = start_server(vault, port, vault.parent / "server.log", workers)

    def load(scenario: str, who: str, length: int, pause: float = 0.0) -> dict[str, Any]:
        return run_locust(scenario, port, tokens[who], vault.parent / "params.json", users,
                          length, outdir, server.pid, database, pause)  # fmt: skip

    runs = []
    try:
        log(f"[{backend}] serving on 127.0.0.1:{port} (pid {server.pid}); warming up")
        load("mixed", "coordinator", 5)
        for scenario in SCENARIOS:
            log(f"[{backend}] {scenario}: {users} users for {seconds} s")
            runs.append(load(scenario, "coordinator", seconds))
            agg = runs[-1]["rows"]["Aggregated"]
            log(f"  {agg['rps']:.0f} req/s, p50 {agg['p50']:.0f} ms, p95 {agg['p95']:.0f} ms, "
                f"{agg['failures']} failures; CPU % of a core {runs[-1]['cpu']}")  # fmt: skip
        log(f"[{backend}] officer ({params['officer_cases']} cases): newest page and filters")
        officer = load("officer", "officer", max(5, seconds // 2))
        paced = []
        for scenario in PACED:
            log(f"[{backend}] {scenario}, {users} users pausing {think} s on average")
            paced.append(load(scenario, "coordinator", seconds, think))
            agg = paced[-1]["rows"]["Aggregated"]
            log(f"  {agg['rps']:.0f} req/s, p50 {agg['p50']:.0f} ms, p95 {agg['p95']:.0f} ms")
    finally:
        stop_server(server)
    version = ""
    if database is not None:
        admin, _ = _pg_admin(database_url)
        try:
            with admin.connect() as conn:
                version = str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]
            if not keep:
                _drop_pg(admin, database)
                shutil.rmtree(vault.parent, ignore_errors=True)
        finally:
            admin.dispose()
    return {"backend": backend, "version": version, "params": params, "runs": runs,
            "officer": officer, "paced": paced}  # fmt: skip


# -- the report ---------------------------------------------------------------------------
def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    import locust
    import uvicorn

    versions = ", ".join(f"PostgreSQL {r['version']}" for r in results if r["version"])
    command = f"python -m bench.api_bench --incidents {args.incidents} --backend {args.backend}"
    if args.users != 20 or args.seconds != 30:
        command += f" --users {args.users} --seconds {args.seconds}"
    if args.workers != 1:
        command += f" --workers {args.workers}"
    first = results[0]["params"]
    lines = [
        section_for(args.incidents),
        "",
        "```sh",
        f"python -m bench.api_bench --incidents {args.incidents} --backend both --workers 2 \\",
        "    --write docs/benchmarks.md",
        "```",
        "",
        f"What it does: builds a vault of {first['incidents']:,} demo incidents in "
        f"{first['cases']:,} cases with the",
        "registry benchmark's generator (once: it is cached and reused); adds a coordinator",
        f"with a read grant on each case, who so sees everything through {first['cases']:,} "
        "grants (every",
        "request filters its records by those case ids), and issues it an API token",
        f"of scope `read`; starts `amparo serve --workers {args.workers}` (as in production) on a",
        f"free loopback port; then runs locust (headless, `FastHttpUser`) with {args.users} "
        "clients sending",
        f"requests back to back, {args.seconds} s per scenario after a ramp of 2 s "
        "(statistics reset once all",
        "clients run):",
        "",
        *[f"- {text}" for text in SCENARIOS.values()],
        "",
        "Target (issue 4): p95 ≤ 100 ms with 20 concurrent clients.",
        "",
        f"### Results ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Machine: {machine_info()}"
        + (f"; {versions}" if versions else "")
        + f"; uvicorn {uvicorn.__version__}, locust {locust.__version__}.",
        f"Command: `{command}`.",
        "",
        f"The machine has {results[0]['runs'][0]['cores']} cores and the load generator runs on"
        " it too. The last column is",
        "CPU in % of one core (200 = the whole machine): the server process, the PostgreSQL",
        "processes serving the benchmark database, locust, and everything else (other work on",
        "the machine during the run); the one before it, the server's CPU time per request, is",
        "the figure least disturbed by such other work. Clients send without pause, so by",
        "Little's law the mean latency is clients ÷ throughput: these are saturation numbers.",
        "",
        "| backend | scenario | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | failures |"
        " server CPU per request (ms) | CPU % server / db / locust / other |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for run in result["runs"]:
            names = [k for k in run["rows"] if k != "Aggregated"]
            shown = [*names, "Aggregated"] if len(names) > 1 else names
            for name in shown:
                row = run["rows"][name]
                label = f"{run['scenario']}: all" if name == "Aggregated" else name
                if run["scenario"] == "mixed" and name != "Aggregated":
                    label = f"mixed: {name}"
                cpu = (f"{run['server_ms_per_request']:.1f} | "
                       + " / ".join(f"{run['cpu'][k]:.0f}" for k in CPU_PARTS))  # fmt: skip
                lines.append(
                    f"| {result['backend']} | {label} | {_fmt(row['rps'])} | {row['p50']:.0f} | "
                    f"{row['p95']:.0f} | {row['p99']:.0f} | {row['failures']} | "
                    f"{cpu if name == shown[-1] else ' |'} |"
                )
    lines += [
        "",
        "(a) and (b) together for a second coordinator holding grants on "
        f"{first['officer_cases']} cases only",
        f"(`case_id IN (...)` with {first['officer_cases']} ids; half as long a run):",
        "",
        "| backend | scenario | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for name, row in result["officer"]["rows"].items():
            label = "officer: all" if name == "Aggregated" else name
            lines.append(
                f"| {result['backend']} | {label} | {_fmt(row['rps'])} | {row['p50']:.0f} | "
                f"{row['p95']:.0f} | {row['p99']:.0f} | {row['failures']} |"
            )
    think = results[0]["paced"][0]["think"] if results[0]["paced"] else THINK_S
    lines += [
        "",
        f"The same {args.users} clients (coordinator, {first['cases']:,} grants) as people use it:"
        f" each pauses {think / 2:g}–{think * 1.5:g} s",
        f"(mean {think:g} s) between requests, so each asks about "
        f"{1 / think:g} times a second — faster than anyone",
        "reads a list. This is the load the target is about; the tables above find the ceiling:",
        "",
        "| backend | scenario | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for run in result["paced"]:
            for name, row in run["rows"].items():
                label = f"{run['scenario']}: " + ("all" if name == "Aggregated" else name)
                lines.append(
                    f"| {result['backend']} | {label} | {_fmt(row['rps'])} | "
                    f"{row['p50']:.0f} | {row['p95']:.0f} | {row['p99']:.0f} | "
                    f"{row['failures']} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url",
                        default=os.environ.get("AMPARO_BENCH_DATABASE_URL") or PG_DEFAULT,
                        help="PostgreSQL server to create the database on")  # fmt: skip
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1,
                        help="Server processes (amparo serve --workers)")  # fmt: skip
    parser.add_argument("--think", type=float, default=THINK_S,
                        help="Mean pause (s) of each client in the paced runs")  # fmt: skip
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "amparo-bench-api")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="Keep the PostgreSQL database.")
    parser.add_argument("--adopt", type=Path, metavar="VAULT",
                        help="SQLite: take over this vault of the registry benchmark "
                        "(its --keep) instead of importing the incidents again")  # fmt: skip
    parser.add_argument("--write", type=Path, help="Replace the section in this file.")
    parser.add_argument("--profile", choices=list(SCENARIOS),
                        help="Profile the server under one scenario instead.")  # fmt: skip
    parser.add_argument("--serve-profiled", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_profiled:
        serve_profiled(args.serve_profiled, args.port, args.profile_out)
        return
    if args.profile:
        backend = "postgresql" if args.backend == "postgresql" else "sqlite"
        profile(backend, args.incidents, args.database_url, args.cache, args.users,
                args.seconds, args.profile)  # fmt: skip
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [
        run_backend(b, args.incidents, args.database_url, args.cache, args.users, args.seconds,
                    args.keep, args.workers, args.think,
                    args.adopt if b == "sqlite" else None)
        for b in backends
    ]  # fmt: skip
    section = render(results, args)
    print(section)
    if args.write:
        write_section(args.write, section_for(args.incidents), section)


if __name__ == "__main__":
    main()
