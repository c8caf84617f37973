"""Load and soak: 20 users mixing API reads, API writes and staff pages for 10 minutes.

    python -m bench.soak [--minutes 10] [--warmup 1] [--backend sqlite|postgresql|both]
                         [--incidents 100000] [--users 20] [--think 0.5] [--workers 2]
                         [--write docs/benchmarks.md]

On the API benchmark's cached vault (``bench.api_bench.prepare``), starts ``amparo serve
--workers N`` on loopback and runs locust (``bench/soak_locustfile.py``): each user pauses
``--think`` seconds on average between requests and mixes reads through the API (newest
page, filtered list, keywords, one record; a coordinator's read token), writes through the
API (create an incident, amend one it created, with ``If-Match``; a documenter's write token
on 20 cases) and staff pages (list, filters, keywords, a record; a signed-in session). A
warm-up run comes first (``--warmup`` minutes), then the measured run (``--minutes``).

Reported per backend: requests and failures, 5xx answers (must be 0), p50/p95/p99 per request
type against its budget (API 100 ms, issue 4; pages 300 ms, issue 5), and the memory of the
server (the master and its worker processes, summed; PSS, with RSS and anonymous memory
beside it: :class:`MemorySampler` says why) sampled every few seconds, as growth from the end
of the warm-up to the end (must stay under 10 %). Bounded: the run
stops after ``--minutes``, and each user creates at most ``--max-creates`` incidents (then it
only amends); the incidents it creates stay in the cached vault (titled "Soak test incident").
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa

from bench.api_bench import (
    PASSPHRASE,
    PG_DEFAULT,
    free_port,
    log,
    prepare,
    start_server,
    stop_server,
)
from bench.registry_bench import machine_info
from bench.report import CRITERIA_NOT_MET, write_section

SECTION = "## Load and soak"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WRITE_CASES = 20  # cases the documenter may write: a team documenting a few cases at once
BUDGETS_MS = {"api": 100.0, "page": 300.0}  # p95 at 20 users: issue 4 (API), issue 5 (pages)
SAMPLE_S = 5.0  # memory sampling interval
GROWTH_LIMIT = 0.10


class Memory(NamedTuple):
    pss: float
    rss: float
    anon: float


WRITER = "soak-documenter"


def load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def soak_params(vault: Path, params: dict[str, Any], out: Path) -> Path:
    """The run's parameters: the API benchmark's, tokens, the writer's cases and a cookie."""
    from amparo.errors import NotFound
    from amparo.registry import Registry
    from amparo.store import schema
    from amparo.web.sessions import SessionStore

    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        with registry.store.read() as conn:
            cases = sorted(str(c) for c in conn.execute(sa.select(schema.cases.c.id)).scalars())
        write_cases = cases[:WRITE_CASES]
        try:
            writer = registry.accounts.get_by_username(WRITER)
        except NotFound:
            password = os.urandom(18).hex()
            writer = registry.accounts.add_user(WRITER, password, "documenter")
            for case_id in write_cases:
                registry.grants.grant(case_id, "user", writer.id, "write")
        read_token = registry.accounts.create_token(params["coordinator"], "soak", "read", 1)[1]
        write_token = registry.accounts.create_token(writer.id, "soak", "write", 1)[1]
        cookie = SessionStore(registry).create(params["coordinator"], True)
    data = {**params, "read_token": read_token, "write_token": write_token,
            "write_cases": write_cases, "cookie": cookie}  # fmt: skip
    path = out / "soak-params.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    path.chmod(0o600)
    return path


class MemorySampler(threading.Thread):
    """Memory of the server and its children (MiB), every ``SAMPLE_S`` seconds.

    Three measures per sample, each summed over the master and its workers:

    - **PSS** (proportional set size, from ``/proc/PID/smaps_rollup``): each resident page
      counted once in all, a page shared by n mappings as 1/n in each. This is the growth
      criterion, because of the next point;
    - **RSS**: every mapping's resident pages. Each SQLite reader connection maps the database
      file on its own (``mmap_size``), so a file page read through 20 connections of 2
      processes counts 40 times: RSS then grows with the number of connections that have
      touched a page, not with memory in use, and one page of the OS cache counts many times;
    - **anonymous** resident memory (``RssAnon``): the heap, where a leak would show (it also
      holds SQLite's per-connection page caches, bounded by ``cache_size``).
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.samples: list[tuple[float, Memory, str]] = []  # (time, MiB, phase)
        self.phase = "start"
        self.halt = threading.Event()
        self.started_at = time.monotonic()

    def memory(self) -> Memory:
        import psutil

        rss = pss = anon = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                full = proc.memory_full_info()
                with open(f"/proc/{proc.pid}/status", encoding="ascii") as handle:
                    status = handle.read()
            except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
                continue
            rss, pss = rss + full.rss, pss + full.pss
            found = re.search(r"^RssAnon:\s+(\d+) kB", status, re.MULTILINE)
            anon += int(found.group(1)) * 1024 if found else 0
        mib = 1024 * 1024
        return Memory(pss / mib, rss / mib, anon / mib)

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append((time.monotonic() - self.started_at, self.memory(), self.phase))
            self.halt.wait(SAMPLE_S)

    def stop(self) -> None:
        self.halt.set()
        self.join()
        self.samples.append((time.monotonic() - self.started_at, self.memory(), "end"))


def run_locust(port: int, params_file: Path, users: int, seconds: int, think: float,
               max_creates: int, prefix: Path) -> dict[str, Any]:  # fmt: skip
    env = {
        **os.environ,
        "AMPARO_SOAK_PARAMS": str(params_file),
        "AMPARO_BENCH_THINK": str(think),
        "AMPARO_SOAK_MAX_CREATES": str(max_creates),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(HERE / "soak_locustfile.py"), "--headless",
        "--users", str(users), "--spawn-rate", str(max(1, users // 2)),
        "--run-time", f"{seconds}s", "--stop-timeout", "30", "--reset-stats",
        "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, cwd=ROOT,
                          timeout=seconds + 180, check=False)  # fmt: skip
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"locust failed ({done.returncode})")
    rows: dict[str, dict[str, float]] = {}
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
            }
    errors: dict[str, int] = {}
    with Path(f"{prefix}_failures.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found = re.search(r"HTTP (\d{3})", row["Error"])
            status = found.group(1) if found else row["Error"][:60]
            key = f"{row['Name']}: {status}"
            errors[key] = errors.get(key, 0) + int(row["Occurrences"])
    return {"rows": rows, "errors": errors}


def _median(samples: list[tuple[float, Memory, str]], phase: str, measure: str,
            count: int = 3) -> float:  # fmt: skip
    values = [getattr(m, measure) for _, m, p in samples if p == phase][-count:]
    return statistics.median(values) if values else float("nan")


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    vault, params = prepare(backend, args.incidents, args.cache, args.database_url)
    outdir = Path(tempfile.mkdtemp(prefix=f"amparo-soak-{backend}-"))
    params_file = soak_params(vault, params, outdir)
    port = free_port()
    load_before = load_average()
    server = start_server(vault, port, outdir / "server.log", args.workers)
    sampler = MemorySampler(server.pid)
    sampler.start()
    try:
        if args.warmup > 0:
            log(f"[{backend}] warm-up: {args.users} users for {args.warmup:g} min")
            sampler.phase = "warm-up"
            run_locust(port, params_file, args.users, round(args.warmup * 60), args.think,
                       args.max_creates, outdir / "warmup")  # fmt: skip
        log(f"[{backend}] soak: {args.users} users for {args.minutes:g} min "
            f"(memory every {SAMPLE_S:g} s; load average {load_average()})")  # fmt: skip
        sampler.phase = "soak"
        started = time.monotonic()
        result = run_locust(port, params_file, args.users, round(args.minutes * 60), args.think,
                            args.max_creates, outdir / "soak")  # fmt: skip
        wall = time.monotonic() - started
    finally:
        sampler.stop()
        stop_server(server)
    server_log = (outdir / "server.log").read_text(encoding="utf-8", errors="replace")
    before = "warm-up" if args.warmup > 0 else "start"
    memory = {
        measure: {
            "warm": (warm := _median(sampler.samples, before, measure)),
            "end": (end := _median(sampler.samples, "soak", measure)),
            "peak": max(getattr(m, measure) for _, m, _ in sampler.samples),
            "growth": (end - warm) / warm if warm == warm and warm > 0 else float("nan"),
        }
        for measure in Memory._fields
    }
    fivexx = sum(n for key, n in result["errors"].items() if key.rsplit(": ", 1)[1][:1] == "5")
    agg = result["rows"]["Aggregated"]
    log(
        f"[{backend}] {agg['requests']:,} requests, {agg['failures']} failures ({fivexx} 5xx), "
        f"p95 {agg['p95']:.0f} ms; memory (PSS) {memory['pss']['warm']:.0f} -> "
        f"{memory['pss']['end']:.0f} MiB (peak {memory['pss']['peak']:.0f})"
    )
    with (outdir / "memory.csv").open("w", encoding="utf-8") as handle:
        handle.write("seconds,pss_mib,rss_mib,anon_mib,phase\n")
        handle.writelines(f"{t:.0f},{m.pss:.1f},{m.rss:.1f},{m.anon:.1f},{p}\n"
                          for t, m, p in sampler.samples)  # fmt: skip
    return {
        "backend": backend,
        "rows": result["rows"],
        "errors": result["errors"],
        "fivexx": fivexx,
        "tracebacks": server_log.count("Traceback"),
        "wall": wall,
        "memory": memory,
        "growth": memory["pss"]["growth"],
        "load_before": load_before,
        "load_after": load_average(),
        "outdir": str(outdir),
        "incidents": params["incidents"],
    }


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    command = (f"python -m bench.soak --minutes {args.minutes:g} --warmup {args.warmup:g} "
               f"--backend {args.backend} --incidents {args.incidents} --users {args.users} "
               f"--think {args.think:g} --workers {args.workers}")  # fmt: skip
    lines = [
        SECTION,
        "",
        "```sh",
        "make soak      # = python -m bench.soak --minutes 10 --backend both --write "
        "docs/benchmarks.md",
        "```",
        "",
        f"What it does: on the API benchmark's vault ({results[0]['incidents']:,} incidents), "
        f"`amparo serve --workers {args.workers}` on loopback and {args.users} locust users, "
        f"each pausing {args.think / 2:g}–{args.think * 1.5:g} s between requests, mixing API "
        "reads (newest page, filtered list, keywords, one record: a coordinator's read token "
        "over every case), API writes (create an incident, amend one it created with "
        f"`If-Match`: a documenter's write token on {WRITE_CASES} cases) and staff pages "
        "(list, filters, keywords, a record: a signed-in session), weights 11 : 2 : 6. A "
        f"{args.warmup:g}-minute warm-up run comes first, then the measured run of "
        f"{args.minutes:g} minutes; the server's memory (master and workers summed: PSS, RSS "
        f"and anonymous) is sampled every {SAMPLE_S:g} s through both. Budgets: p95 ≤ "
        f"{BUDGETS_MS['api']:.0f} ms for the API (issue 4), ≤ {BUDGETS_MS['page']:.0f} ms for "
        "pages (issue 5); 0 answers 5xx; memory (PSS) growth < 10 % from the end of the "
        "warm-up to the end (RSS counts a page of the database file once for every SQLite "
        "connection that mapped it; `bench/soak.py` says more). Bounded: each user creates at most "
        f"{args.max_creates} incidents, then only amends.",
        "",
        f"### Results ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine_info()}. Command: `{command}`.",
        "",
        "| backend | request | requests | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | budget p95"
        " (ms) | within | failures |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for name, row in r["rows"].items():
            if name == "Aggregated":
                budget, within = "", ""
            else:
                limit = BUDGETS_MS["page" if name.startswith("page") else "api"]
                budget, within = f"{limit:.0f}", "yes" if row["p95"] <= limit else "**no**"
            label = "all" if name == "Aggregated" else name
            lines.append(
                f"| {r['backend']} | {label} | {row['requests']:,} | {row['rps']:.1f} | "
                f"{row['p50']:.0f} | {row['p95']:.0f} | {row['p99']:.0f} | {budget} | {within} "
                f"| {row['failures']} |"
            )
    lines += [
        "",
        "| backend | measured (s) | 5xx | other failures | tracebacks in the server log | "
        "PSS end of warm-up → end (MiB) | PSS growth | PSS peak | RSS (growth) | anonymous "
        "(growth) | load average before / after (1 / 5 / 15 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        others = sum(r["errors"].values()) - r["fivexx"]
        detail = ", ".join(f"{k} × {n}" for k, n in sorted(r["errors"].items()))
        mem = r["memory"]

        def span(measure: str, mem: dict[str, dict[str, float]] = mem) -> str:
            m = mem[measure]
            return f"{m['warm']:.0f} → {m['end']:.0f} ({100 * m['growth']:+.1f} %)"

        lines.append(
            f"| {r['backend']} | {r['wall']:.0f} | {r['fivexx']} | {others}"
            f"{f' ({detail})' if detail else ''} | {r['tracebacks']} | {mem['pss']['warm']:.0f}"
            f" → {mem['pss']['end']:.0f} | {100 * r['growth']:+.1f} % | "
            f"{mem['pss']['peak']:.0f} | {span('rss')} | {span('anon')} | "
            f"{r['load_before']} → {r['load_after']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="Measured run (minutes)")
    parser.add_argument("--warmup", type=float, default=1.0, help="Warm-up run (minutes)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.5,
                        help="Mean pause (s) between one user's requests")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="amparo serve --workers")
    parser.add_argument("--max-creates", type=int, default=200,
                        help="Incidents one user creates at most (then it amends)")  # fmt: skip
    parser.add_argument(
        "--database-url", default=os.environ.get("AMPARO_BENCH_DATABASE_URL") or PG_DEFAULT
    )
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "amparo-bench-api")  # fmt: skip
    parser.add_argument("--write", type=Path, help="Replace the section in this file.")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [run_backend(b, args) for b in backends]
    section = render(results, args)
    print(section)
    if args.write:
        write_section(args.write, SECTION, section)
    failed = [r["backend"] for r in results if r["fivexx"] or r["growth"] >= GROWTH_LIMIT]
    if failed:
        # A criterion not met is a result, written above; exit 3 tells it from a crash.
        print(f"soak criteria not met on {', '.join(failed)}: 5xx answers or memory growth",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(CRITERIA_NOT_MET)


if __name__ == "__main__":
    main()
