"""Staff page benchmark: server-rendered incident list and record at 100,000 incidents.

    python -m bench.pages_bench [--incidents 100000] [--backend sqlite|postgresql|both]
                                [--requests 100] [--write docs/benchmarks.md]

Reuses the API benchmark's cached vault (bench.api_bench.prepare), serves it with
``amparo serve`` on loopback and requests each page one after another, as one officer at a
browser would, with a signed-in session (second factor complete). Target (issue 5): p95
<= 300 ms for the incident list and the incident record.
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.api_bench import PASSPHRASE, free_port, log, prepare, start_server, stop_server
from bench.registry_bench import machine_info, percentile

SECTION = "## Staff pages"
SEED = 11


def session_cookie(vault: Path, user_id: str) -> str:
    from amparo.registry import Registry
    from amparo.web.sessions import SessionStore

    with Registry.open(vault, PASSPHRASE, actor="bench") as registry:
        return SessionStore(registry).create(user_id, True)


def timed_get(port: int, path: str, cookie: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": f"amparo={cookie}"})
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    if response.status != 200 or b"<html" not in body[:200]:
        raise SystemExit(f"GET {path}: {response.status}")
    return elapsed * 1000


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    vault, params = prepare(backend, args.incidents, args.cache, args.database_url)
    cookie = session_cookie(vault, params["coordinator"])
    rng = random.Random(SEED)
    port = free_port()
    logfile = Path(tempfile.mkdtemp(prefix="amparo-pages-")) / "server.log"
    server = start_server(vault, port, logfile)
    try:
        scenarios = {
            "incident list, newest first": lambda: "/incidents",
            "incident list, country + act type + year": lambda: (
                "/incidents?"
                + urlencode(
                    dict(
                        zip(
                            ("country", "act_type", "year"),
                            rng.choice(params["combos"]),
                            strict=True,
                        )
                    )
                )
            ),
            "incident list, keyword": lambda: (
                "/incidents?"
                + urlencode({"q": rng.choice(params["common_words"] + params["rare_words"])})
            ),
            "incident record": lambda: f"/incidents/{rng.choice(params['incident_ids'])}",
        }
        results = {}
        for name, path in scenarios.items():
            for _ in range(5):  # warm caches the way a working day would
                timed_get(port, path(), cookie)
            times = [timed_get(port, path(), cookie) for _ in range(args.requests)]
            results[name] = {
                "p50": statistics.median(times), "p95": percentile(times, 95),
                "max": max(times), "n": len(times),
            }  # fmt: skip
            log(f"[{backend}] {name}: p50 {results[name]['p50']:.0f} ms, "
                f"p95 {results[name]['p95']:.0f} ms")  # fmt: skip
    finally:
        stop_server(server)
    return {"backend": backend, "incidents": params["incidents"], "cases": params["cases"],
            "results": results}  # fmt: skip


def render(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        SECTION, "",
        f"`python -m bench.pages_bench --incidents {args.incidents} --requests "
        f"{args.requests}`, {datetime.now(UTC):%Y-%m-%d}. {machine_info()}.", "",
        "One signed-in coordinator with read grants on every case requests each page in turn "
        "over loopback from `amparo serve` (full HTML: decryption, vocabulary labels in the "
        "page language, the audit entry of the read). Target: p95 <= 300 ms.", "",
        "| backend | page | p50 ms | p95 ms | max ms | requests |", "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for run in runs:
        for name, r in run["results"].items():
            lines.append(f"| {run['backend']} | {name} | {r['p50']:.0f} | {r['p95']:.0f} | "
                         f"{r['max']:.0f} | {r['n']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "amparo-bench-api")  # fmt: skip
    parser.add_argument("--write", type=Path, help="replace the section in this Markdown file")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs = [run_backend(backend, args) for backend in backends]
    text = render(runs, args)
    print(text)
    if args.write:
        page = args.write.read_text(encoding="utf-8") if args.write.exists() else "# Benchmarks\n"
        start = page.find(SECTION + "\n")
        if start < 0:
            page = page.rstrip("\n") + "\n\n" + text
        else:
            end = page.find("\n## ", start + len(SECTION))
            page = page[:start] + text + ("" if end < 0 else page[end:])
        args.write.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    main()
