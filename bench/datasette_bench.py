"""Side by side: Amparo's API against Datasette over a plaintext copy of the same records.

    python -m bench.datasette_bench [--incidents 100000] [--backend sqlite|postgresql|both]
                                    [--users 20] [--seconds 20] [--workers 2]
                                    [--write docs/benchmarks.md]

The baseline is what a team would otherwise publish: the records decrypted into one SQLite
file (``incidents`` with the list columns, the narrative and the year; ``acts``; indexes for
the date order, the country and year filter and the act type; an FTS5 table over title and
narrative) served by Datasette in immutable mode on loopback. The same four queries go to
both, one after the other, with the same locust clients: (a) the newest page of 50, (b) a
filtered list by country, act type and year, (c) a keyword search (a common or a rare word,
newest first, 50), (d) one record by id. Reported: requests/s and p50/p95 for each, and the
ratios Amparo ÷ Datasette (latency) and Amparo ÷ Datasette (requests/s).

The plaintext copy holds every name and narrative unencrypted (of the synthetic benchmark
data): it is written under the benchmark cache (``--cache``, mode 0600) and reused while the
vault's count is unchanged; ``--drop-plaintext`` deletes it at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.api_bench import (
    PASSPHRASE,
    PG_DEFAULT,
    free_port,
    issue_tokens,
    log,
    prepare,
    start_server,
    stop_server,
)
from bench.registry_bench import machine_info
from bench.report import write_section

SECTION = "## Side by side: Datasette over a plaintext copy"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DB = "plain"  # the file's stem, which is the database's name in Datasette's URLs
QUERIES = {
    "newest": "newest page (50)",
    "filtered": "filtered list: country + act type + year",
    "keyword": "keyword search (common or rare word), newest first",
    "record": "one record by id",
}
FILTERED_SQL = """
select id, case_id, title, date_start, country, region, violation_status
from incidents
where country = :country and year = cast(:year as integer)
  and rowid in (select incident_rowid from acts where act_type = :act_type)
order by date_start desc, id desc
limit 50
"""


def export_plaintext(vault: Path, out: Path) -> int:
    """Every incident of the vault, decrypted, into a fresh SQLite file; returns the count."""
    from amparo.registry import Registry

    out.unlink(missing_ok=True)
    out.touch(mode=0o600)
    db = sqlite3.connect(out)
    db.executescript(
        """
        create table incidents (
            id text primary key, case_id text, title text, narrative text, date_start text,
            date_precision text, year integer, country text, region text, place text,
            violation_status text, act_types text
        );
        create table acts (incident_rowid integer, act_type text);
        """
    )
    count = 0
    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        batch: list[tuple[Any, ...]] = []
        acts: list[tuple[int, str]] = []
        for incident in registry.incidents.export():
            d = incident.to_dict()
            count += 1
            types = [a["act_type"] for a in d["acts"]]
            batch.append((count, d["id"], d["case_id"], d["title"], d["narrative"],
                          d["date_start"], d["date_precision"], int(d["date_start"][:4]),
                          d["country"], d["region"], d["place"], d["violation_status"],
                          json.dumps(types)))  # fmt: skip
            acts.extend((count, t) for t in types)
            if len(batch) >= 5000:
                _insert(db, batch, acts)
                print(f"\r  exported {count:,}", end="", file=sys.stderr, flush=True)
        _insert(db, batch, acts)
    print(file=sys.stderr)
    db.executescript(
        """
        create index incidents_date on incidents (date_start, id);
        create index incidents_country_year on incidents (country, year, date_start);
        create index acts_type on acts (act_type, incident_rowid);
        create virtual table incidents_fts using fts5 (
            title, narrative, content="incidents", content_rowid="rowid"
        );
        insert into incidents_fts (rowid, title, narrative)
            select rowid, title, narrative from incidents;
        analyze;
        """
    )
    db.commit()
    db.execute("vacuum")
    db.close()
    return count


def vault_count(vault: Path) -> int:
    from amparo.registry import Registry

    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        return registry.incidents.count()


def plaintext_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("select count(*) from incidents").fetchone()[0])
    except sqlite3.Error:
        return -1


def _insert(
    db: sqlite3.Connection, batch: list[tuple[Any, ...]], acts: list[tuple[int, str]]
) -> None:
    db.executemany("insert into incidents (rowid, id, case_id, title, narrative, date_start, "
                   "date_precision, year, country, region, place, violation_status, act_types) "
                   "values (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)  # fmt: skip
    db.executemany("insert into acts values (?, ?)", acts)
    db.commit()
    batch.clear()
    acts.clear()


def start_datasette(db: Path, port: int, logfile: Path) -> subprocess.Popen[bytes]:
    metadata = {
        "databases": {
            DB: {
                "tables": {"incidents": {"fts_table": "incidents_fts", "fts_pk": "rowid"}},
                "queries": {"filtered": {"sql": FILTERED_SQL}},
            }
        }
    }
    meta = logfile.parent / "datasette-metadata.json"
    meta.write_text(json.dumps(metadata), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        "-i",
        str(db),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metadata",
        str(meta),
        "--setting",
        "suggest_facets",
        "off",
        "--setting",
        "default_page_size",
        "50",
    ]
    with logfile.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"Datasette exited: see {logfile}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"Datasette did not start within 60 s: see {logfile}")


def run_locust(target: str, scenario: str, port: int, params_file: Path, token: str,
               users: int, seconds: int, outdir: Path) -> dict[str, float]:  # fmt: skip
    prefix = outdir / f"{target}-{scenario}"
    env = {**os.environ, "AMPARO_SIDE_PARAMS": str(params_file), "AMPARO_SIDE_TARGET": target,
           "AMPARO_SIDE_SCENARIO": scenario, "AMPARO_SIDE_TOKEN": token}  # fmt: skip
    command = [
        sys.executable, "-m", "locust", "-f", str(HERE / "datasette_locustfile.py"),
        "--headless", "--users", str(users), "--spawn-rate", str(max(1, users // 2)),
        "--run-time", f"{seconds}s", "--stop-timeout", "10", "--reset-stats",
        "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, cwd=ROOT,
                          timeout=seconds + 120, check=False)  # fmt: skip
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"locust failed ({done.returncode}) on {target} {scenario}")
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                return {
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": float(row["50%"]),
                    "p95": float(row["95%"]),
                }
    raise SystemExit(f"no statistics from locust for {target} {scenario}")


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    vault, params = prepare(backend, args.incidents, args.cache, args.database_url)
    outdir = Path(tempfile.mkdtemp(prefix=f"amparo-side-{backend}-"))
    plain = args.cache / f"plaintext-{backend}-{args.incidents}" / f"{DB}.db"  # Datasette: /plain
    plain.parent.mkdir(mode=0o700, exist_ok=True)
    in_vault = vault_count(vault)
    export_s = None
    if plain.exists() and plaintext_count(plain) == in_vault and not args.fresh_plaintext:
        log(f"[{backend}] reusing the plaintext copy {plain} ({in_vault:,} incidents)")
        exported = in_vault
    else:
        log(f"[{backend}] exporting the vault decrypted into {plain}")
        started = time.perf_counter()
        exported = export_plaintext(vault, plain)
        export_s = time.perf_counter() - started
        log(f"  {exported:,} incidents in {export_s:.0f} s")
    params_file = outdir / "params.json"
    params_file.write_text(json.dumps(params), encoding="utf-8")
    token = issue_tokens(vault, params)["coordinator"]
    amparo_port, datasette_port = free_port(), free_port()
    load_before = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    amparo = start_server(vault, amparo_port, outdir / "amparo.log", args.workers)
    datasette = None
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        datasette = start_datasette(plain, datasette_port, outdir / "datasette.log")
        for target, port in (("amparo", amparo_port), ("datasette", datasette_port)):
            run_locust(target, "newest", port, params_file, token, args.users, 3, outdir)  # warm
        for scenario in QUERIES:
            results[scenario] = {}
            for target, port in (("amparo", amparo_port), ("datasette", datasette_port)):
                row = run_locust(target, scenario, port, params_file, token, args.users,
                                 args.seconds, outdir)  # fmt: skip
                results[scenario][target] = row
                log(f"[{backend}] {scenario} on {target}: {row['rps']:.0f} req/s, "
                    f"p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms, "
                    f"{row['failures']} failures")  # fmt: skip
    finally:
        stop_server(amparo)
        if datasette is not None:
            datasette.terminate()
            datasette.wait(timeout=15)
        if args.drop_plaintext:
            plain.unlink(missing_ok=True)
    import datasette as datasette_module

    return {"backend": backend, "incidents": exported, "export_s": export_s,
            "results": results, "load_before": load_before,
            "load_after": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
            "datasette_version": datasette_module.__version__}  # fmt: skip


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b > 0 else "—"


def render(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        SECTION,
        "",
        "```sh",
        f"python -m bench.datasette_bench --incidents {args.incidents} --backend "
        f"{args.backend} --users {args.users} --seconds {args.seconds} --workers "
        f"{args.workers} --write docs/benchmarks.md",
        "```",
        "",
        "What people would otherwise use is an unencrypted publication: a spreadsheet, or the",
        "same rows in one SQLite file served by [Datasette](https://datasette.io). This run",
        "exports the benchmark vault decrypted into such a file (`incidents` with the list",
        "columns, narrative and year; `acts`; indexes for the date order, country + year and",
        "act type; an FTS5 table over title and narrative), serves it with `datasette serve -i`",
        "(immutable, one process, facet suggestions off, no total counts: `_nocount=1`) and",
        f"sends the same four queries to both, with the same {args.users} locust clients back to",
        f"back, {args.seconds} s per query and target, alternating. Amparo runs as in the API",
        f"benchmark: `amparo serve --workers {args.workers}`, a coordinator's read token with",
        "grants on every case. The records Datasette answers with are the same (the list",
        "columns, newest first, 50 a page; the record: Datasette one row, Amparo the whole",
        "record with its acts, perpetrators and sources).",
        "",
        f"### Results ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine_info()}; Datasette {runs[0]['datasette_version']}.",
        "",
        "| Amparo backend | query | Amparo requests/s | Amparo p50 / p95 (ms) | Datasette "
        "requests/s | Datasette p50 / p95 (ms) | latency ratio p50 / p95 (Amparo ÷ Datasette) |"
        " requests/s ratio (Amparo ÷ Datasette) | failures (A / D) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for scenario, label in QUERIES.items():
            a, d = run["results"][scenario]["amparo"], run["results"][scenario]["datasette"]
            lines.append(
                f"| {run['backend']} | {label} | {a['rps']:.0f} | {a['p50']:.0f} / "
                f"{a['p95']:.0f} | {d['rps']:.0f} | {d['p50']:.0f} / {d['p95']:.0f} | "
                f"{_ratio(a['p50'], d['p50'])} / {_ratio(a['p95'], d['p95'])} | "
                f"{a['rps'] / d['rps']:.2f} | {a['failures']} / {d['failures']} |"
            )
    lines += [""]
    for run in runs:
        exported = (
            "the plaintext copy of an earlier run reused (same count)"
            if run["export_s"] is None
            else f"exported decrypted in {run['export_s']:.0f} s"
        )
        lines.append(
            f"- {run['backend']}: {run['incidents']:,} incidents, {exported}; load average "
            f"(1 / 5 / 15 min) {run['load_before']} before, {run['load_after']} after."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="amparo serve --workers")
    parser.add_argument(
        "--database-url", default=os.environ.get("AMPARO_BENCH_DATABASE_URL") or PG_DEFAULT
    )
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "amparo-bench-api")  # fmt: skip
    parser.add_argument("--drop-plaintext", action="store_true",
                        help="Delete the decrypted copy at the end (kept for the next run "
                        "otherwise: the benchmark data is synthetic)")  # fmt: skip
    parser.add_argument("--fresh-plaintext", action="store_true",
                        help="Export the copy again even if its count matches")  # fmt: skip
    parser.add_argument("--write", type=Path, help="Replace the section in this file.")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs = [run_backend(b, args) for b in backends]
    text = render(runs, args)
    print(text)
    if args.write:
        write_section(args.write, SECTION, text)


if __name__ == "__main__":
    main()
