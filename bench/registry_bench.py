"""Registry benchmark: encrypted import, filtered list and keyword search at 100,000 incidents.

    python -m bench.registry_bench [--incidents 100000] [--backend sqlite|postgresql|both]
                                   [--database-url URL] [--write docs/benchmarks.md]

Records come from the deterministic demo generator (realistic narratives and facets).
The vault uses the minimum Argon2id cost: unlocking is not what is measured here.
Targets (issue 2): import >= 2,000 incidents/s on SQLite; p95 <= 50 ms for a filtered list
(country + act type + year, first page of 50) and <= 150 ms for a keyword search.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from amparo.demo import DemoSize, demo_defenders, demo_incidents
from amparo.registry import Registry
from amparo.security.kdf import KdfParams
from amparo.services.incidents import IncidentFilter
from amparo.vault import init_vault

PASSPHRASE = "benchmark passphrase"
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
PAGE = 50
QUERIES = 200
SEED = 7


def machine_info() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sa.__version__}; {platform.system()} {platform.release()}"
    )


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def progress(done: int, total: int) -> None:
    print(f"\r  imported {done:,}/{total:,}", end="", file=sys.stderr, flush=True)


def run(
    backend: str, n_incidents: int, database_url: str | None, keep: Path | None = None
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"amparo-bench-{backend}-"))
    url = None
    admin = None
    if backend == "postgresql":
        base = sa.make_url(database_url or "postgresql://postgres@127.0.0.1:5432/test")
        base = base.set(drivername="postgresql+psycopg")
        name = f"amparo_bench_{os.getpid()}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
    init_vault(workdir / "vault", PASSPHRASE, database_url=url, kdf=CHEAP)
    registry = Registry.open(workdir / "vault", PASSPHRASE, actor="bench")
    try:
        rng = random.Random(SEED)
        today = registry.clock.today()
        size = DemoSize(defenders=max(60, n_incidents // 50), incidents=n_incidents)
        defender_inputs = demo_defenders(rng, size, today)
        defender_ids = []
        for data in defender_inputs:
            defender_ids.append(registry.defenders.add(data).id)
        records = list(demo_incidents(rng, defender_ids, defender_inputs, size, today))
        print(f"[{backend}] importing {len(records):,} incidents", file=sys.stderr)
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        report = registry.incidents.add_many(records, progress=progress, total=len(records))
        elapsed = time.perf_counter() - start
        print(file=sys.stderr)
        if report.errors:
            raise SystemExit(f"benchmark data rejected: {report.errors[:3]}")
        if backend == "postgresql":
            with registry.store.write() as conn:
                conn.exec_driver_sql("ANALYZE")

        qrng = random.Random(SEED + 1)
        combos = [(r["country"], r["acts"][0]["act_type"], int(r["date_start"].lstrip("~")[:4]))
                  for r in qrng.sample(records, QUERIES)]  # fmt: skip
        list_ms, list_rows = [], []
        for country, act_type, year in combos:
            t = time.perf_counter()
            rows = registry.incidents.list(
                IncidentFilter(country=country, act_type=act_type, year=year, limit=PAGE)
            )
            list_ms.append((time.perf_counter() - t) * 1000)
            list_rows.append(len(rows))

        words = []
        for r in qrng.sample(records, QUERIES):
            candidates = [w for w in (r.get("narrative") or "").split() if len(w) > 5]
            words.append(qrng.choice(candidates).strip(".,;:()") if candidates else "amenaza")
        search_ms, search_rows = [], []
        for word in words:
            t = time.perf_counter()
            rows = registry.incidents.search(word, IncidentFilter(limit=PAGE))
            search_ms.append((time.perf_counter() - t) * 1000)
            search_rows.append(len(rows))
        db_bytes = sum(p.stat().st_size for p in (workdir / "vault").rglob("*") if p.is_file())
        return {
            "backend": backend,
            "incidents": len(report.added),
            "import_s": elapsed,
            "import_rate": len(report.added) / elapsed,
            "list_p50": statistics.median(list_ms),
            "list_p95": percentile(list_ms, 95),
            "list_rows_mean": statistics.mean(list_rows),
            "search_p50": statistics.median(search_ms),
            "search_p95": percentile(search_ms, 95),
            "search_rows_mean": statistics.mean(search_rows),
            "vault_mib": db_bytes / 1024 / 1024,
            "load": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
        }
    finally:
        registry.close()
        if keep is not None and backend == "sqlite":  # for bench.api_bench --adopt
            shutil.move(workdir / "vault", keep)
        shutil.rmtree(workdir, ignore_errors=True)  # 10 GiB at a million incidents
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "amparo_bench_{os.getpid()}" '
                                     "WITH (FORCE)")  # fmt: skip
            admin.dispose()


def render(results: list[dict[str, Any]], n: int) -> str:
    lines = [
        f"### Registry at {n:,} incidents ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Machine: {machine_info()}. Load average: 1 minute, against {os.cpu_count()} cores, "
        "at the start of the import and after the queries.",
        f"Command: `python -m bench.registry_bench --incidents {n} --backend both`.",
        "",
        "| backend | import (incidents/s) | filtered list p50 / p95 (ms) | keyword search p50 / p95"
        " (ms) | rows per list / search (mean) | vault on disk (MiB) | load average before /"
        " after |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['import_rate']:,.0f} ({r['import_s']:.1f} s) | "
            f"{r['list_p50']:.1f} / {r['list_p95']:.1f} | "
            f"{r['search_p50']:.1f} / {r['search_p95']:.1f} | "
            f"{r['list_rows_mean']:.1f} / {r['search_rows_mean']:.1f} | "
            f"{r['vault_mib']:.0f}{' (files only)' if r['backend'] == 'postgresql' else ''} | "
            f"{r['load']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=os.environ.get("AMPARO_BENCH_DATABASE_URL"))
    parser.add_argument("--write", type=Path, help="Replace the results table in this file.")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="Move the SQLite vault to DIR instead of deleting it, for "
                        "python -m bench.api_bench --adopt DIR")  # fmt: skip
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep: {args.keep} exists already")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [run(b, args.incidents, args.database_url, args.keep) for b in backends]
    table = render(results, args.incidents)
    print(table)
    if args.write:
        replace_table(args.write, table, args.incidents)


def replace_table(path: Path, table: str, n: int) -> None:
    """Put the table in place of the last one for ``n`` incidents (heading to the table's
    end: the notes written under it stay), or after the section's other tables."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.split("\n")
    heading = f"### Registry at {n:,} incidents ("
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        anchor = text.find("\n## Results\n")
        if anchor < 0:
            path.write_text(text.rstrip("\n") + "\n\n" + table, encoding="utf-8")
        else:
            at = anchor + len("\n## Results\n")
            path.write_text(text[:at] + table + "\n" + text[at:], encoding="utf-8")
        return
    end, in_table = start + 1, False
    while end < len(lines) and not (in_table and not lines[end].startswith("|")):
        in_table = in_table or lines[end].startswith("|")
        end += 1
    new = [*lines[:start], *table.rstrip("\n").split("\n"), *lines[end:]]
    path.write_text("\n".join(new), encoding="utf-8")


if __name__ == "__main__":
    main()
