"""Analytics benchmark: aggregates, a trend and escalations over 1,000,000 acts.

    python -m bench.analytics_bench [--acts 1000000] [--backend sqlite|postgresql|both]
                                    [--database-url URL] [--workdir DIR] [--write FILE]

Builds (or, with the same --workdir and size, reuses) a vault per backend whose tables are
filled by direct bulk inserts of plaintext facet columns (bench/analytics_fill.py: records
would need encryption, which the registry's import does at ~2,000 incidents/s; the counts
read only plaintext columns, so the placeholder ciphertext is never opened). Then it times
each aggregate as the operator (every case) and as a coordinator granted 2,000 cases: best
and median of RUNS runs, warm. Target (issue 8): each aggregate <= 1 s on SQLite and on
PostgreSQL. ``--write`` replaces the "Analytics" section of the file (notes from a ``####``
heading on are kept).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from amparo.analytics.aggregates import aggregate, escalations, trend
from amparo.registry import Registry
from amparo.security.kdf import KdfParams
from amparo.security.permissions import Actor, Grants
from amparo.services.incidents import IncidentFilter
from amparo.vault import init_vault
from bench.analytics_fill import fill
from bench.registry_bench import machine_info
from bench.report import write_section

PASSPHRASE = "benchmark passphrase"
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
RUNS = 3
GRANTED = 2_000
SECTION = "## Analytics"

QUERIES: list[tuple[str, Callable[[Registry], Any]]] = [
    ("by act type", lambda r: aggregate(r, ["act_type"])),
    ("by act type, SDG 16.10.1", lambda r: aggregate(r, ["act_type"], crosswalk="sdg_16_10_1")),
    ("by country", lambda r: aggregate(r, ["country"])),
    ("country x act type", lambda r: aggregate(r, ["country", "act_type"])),
    ("by year", lambda r: aggregate(r, ["year"])),
    ("gender identity x gender feature",
     lambda r: aggregate(r, ["gender_identity", "gender_feature"])),
    ("by perpetrator type", lambda r: aggregate(r, ["perpetrator_type"])),
    ("sector x modality", lambda r: aggregate(r, ["sector", "modality"])),
    ("target relation, filtered (CO, 2024)",
     lambda r: aggregate(r, ["target_relation"], IncidentFilter(country="CO", year=2024))),
    ("trend per quarter", lambda r: trend(r, "quarter")),
    ("escalations (both patterns)", lambda r: escalations(r)),
]  # fmt: skip


def _vault(backend: str, workdir: Path, n_acts: int, database_url: str | None) -> Path:
    vault = workdir / f"{backend}-{n_acts}"
    marker = vault / "filled"
    if marker.exists():
        print(f"[{backend}] reusing {vault}", file=sys.stderr)
        return vault
    url = None
    if backend == "postgresql":
        base = sa.make_url(database_url or "postgresql://postgres@127.0.0.1:5432/test")
        base = base.set(drivername="postgresql+psycopg")
        name = f"amparo_analytics_{n_acts}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    if vault.exists():
        import shutil

        shutil.rmtree(vault)
    init_vault(vault, PASSPHRASE, database_url=url, kdf=CHEAP)
    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        db_url = registry.settings.database_url
    print(f"[{backend}] filling {n_acts:,} acts", file=sys.stderr)
    started = time.perf_counter()
    counts = fill(db_url, n_acts)
    print(f"[{backend}] filled in {time.perf_counter() - started:.0f} s: {counts}", file=sys.stderr)
    marker.write_text(str(counts))
    return vault


def run(backend: str, workdir: Path, n_acts: int, database_url: str | None) -> dict[str, Any]:
    vault = _vault(backend, workdir, n_acts, database_url)
    results: dict[str, Any] = {"backend": backend, "queries": []}
    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        with registry.store.read() as conn:
            results["acts"] = conn.exec_driver_sql("SELECT COUNT(*) FROM act_facts").scalar()
            cases = [c for (c,) in conn.exec_driver_sql(
                f"SELECT id FROM cases ORDER BY id LIMIT {GRANTED}")]  # fmt: skip
        coordinator = registry.acting_as(
            Actor("bench", "coordinator", Grants(dict.fromkeys(cases, "read")),
                  mfa_complete=True), "bench",
        )  # fmt: skip
        for name, query in QUERIES:
            row: dict[str, Any] = {"name": name}
            for who, reg in (("operator", registry), ("coordinator", coordinator)):
                times = []
                for _ in range(RUNS + 1):  # the first run warms the caches and is dropped
                    t = time.perf_counter()
                    query(reg)
                    times.append(time.perf_counter() - t)
                row[who] = (min(times[1:]), statistics.median(times[1:]))
            print(f"[{backend}] {name}: {row}", file=sys.stderr)
            results["queries"].append(row)
    return results


def render(results: list[dict[str, Any]], n_acts: int) -> str:
    lines = [
        SECTION,
        "",
        f"Aggregates over {n_acts:,} acts ({datetime.now(UTC):%Y-%m-%d}). Machine: "
        f"{machine_info()}; load average {os.getloadavg()[0]:.1f} at the end (a shared machine"
        " when above 1).",
        f"Command: `make bench-analytics` (`python -m bench.analytics_bench --acts {n_acts}`)."
        " Tables filled by bulk inserts of plaintext facets (bench/analytics_fill.py); each"
        f" figure is best / median of {RUNS} warm runs in seconds, as the operator (all cases)"
        f" and as a coordinator granted {GRANTED:,} cases. Target: <= 1 s.",
        "",
        "| aggregate | " + " | ".join(
            f"{r['backend']} operator | {r['backend']} coordinator" for r in results
        ) + " |",
        "|---|" + "---|---|" * len(results),
    ]  # fmt: skip
    for i, (name, _) in enumerate(QUERIES):
        cells = []
        for r in results:
            q = r["queries"][i]
            for who in ("operator", "coordinator"):
                best, median = q[who]
                cells.append(f"{best:.2f} / {median:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--acts", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=os.environ.get("AMPARO_BENCH_DATABASE_URL"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/amparo-analytics-bench"))
    parser.add_argument("--write", type=Path, help="Replace the Analytics section of this file.")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [run(b, args.workdir, args.acts, args.database_url) for b in backends]
    text = render(results, args.acts)
    print(text)
    if args.write:
        write_section(args.write, SECTION, text)


if __name__ == "__main__":
    main()
