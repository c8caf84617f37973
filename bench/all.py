"""Every benchmark in turn (``make bench``), each writing its section of docs/benchmarks.md.

    python -m bench.all [--quick] [--only NAME,...] [--skip NAME,...] [--million]
                        [--write docs/benchmarks.md]

Steps, in order: the registry (import rate, filtered list and keyword-search latency at
100,000 incidents, SQLite and PostgreSQL), the JSON API under load, the staff pages, the
side-by-side run against Datasette over a plaintext copy, the load and soak run, triage
throughput, campaign detection at 10,000 to 1,000,000 posts, and analytics at 1,000,000 acts
(``bench/analytics_bench.py``, when present). ``--million`` adds the registry and the API at
1,000,000 incidents (imported once through the real import path by the registry step, whose SQLite
vault the API step takes over; PostgreSQL's API database is built by the API step).

Each step runs as its own process, with its progress on stderr (``--lock FILE`` holds an
exclusive ``flock`` on FILE during each step, for machines shared with other benchmarks); a
failed step is reported and the others still run (the exit status is then 1). A step that
ran to the end but missed a target it checks itself (the soak: exit status 3) is reported as
such and does not fail the run; its own section says which target. A summary
(commit, machine, each step's time, exit status and the load average before and after it)
becomes the section "``make bench``: the last run".

``--quick`` runs every step small (10,000 incidents, a few seconds per scenario, a
30-second soak, 10,000 posts) to check that the chain works end to end; its numbers say
nothing about performance, so it writes to ``bench-quick.md`` in the system temporary
directory unless ``--write`` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from bench.registry_bench import machine_info
from bench.report import CRITERIA_NOT_MET, write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "## `make bench`: the last run"


@dataclass(frozen=True)
class Step:
    name: str
    what: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    module: str = ""  # run only when bench/<module>.py exists (another issue's benchmark)


STEPS = (
    Step("registry", "import rate, filtered list, keyword search (100,000 incidents)",
         ("bench.registry_bench", "--incidents", "100000", "--backend", "both"),
         ("bench.registry_bench", "--incidents", "10000", "--backend", "both")),
    Step("api", "JSON API, 20 clients, saturation and paced (100,000 incidents)",
         ("bench.api_bench", "--incidents", "100000", "--backend", "both", "--workers", "2",
          "--seconds", "20", "--keep"),
         ("bench.api_bench", "--incidents", "10000", "--backend", "both", "--workers", "2",
          "--seconds", "3", "--keep")),
    Step("pages", "staff pages (100,000 incidents)",
         ("bench.pages_bench", "--incidents", "100000", "--backend", "both"),
         ("bench.pages_bench", "--incidents", "10000", "--backend", "both", "--requests", "10")),
    Step("datasette", "side by side with Datasette over a plaintext copy",
         ("bench.datasette_bench", "--incidents", "100000", "--backend", "both"),
         ("bench.datasette_bench", "--incidents", "10000", "--backend", "both",
          "--seconds", "3")),
    Step("soak", "load and soak: 20 users, reads and writes, 10 minutes per backend",
         ("bench.soak", "--minutes", "10", "--warmup", "1", "--backend", "both"),
         ("bench.soak", "--minutes", "0.5", "--warmup", "0.25", "--backend", "both",
          "--incidents", "10000")),
    Step("triage", "triage run throughput",
         ("bench.triage_bench", "throughput", "--messages", "4000"),
         ("bench.triage_bench", "throughput", "--messages", "300")),
    Step("campaigns", "campaign detection at 10,000, 100,000 and 1,000,000 posts",
         ("bench.triage_bench", "campaigns", "--sizes", "10000,100000,1000000"),
         ("bench.triage_bench", "campaigns", "--sizes", "10000")),
    Step("analytics", "analytics at 1,000,000 acts",
         ("bench.analytics_bench", "--acts", "1000000", "--backend", "both"),
         ("bench.analytics_bench", "--acts", "20000", "--backend", "both"),
         module="analytics_bench"),
)  # fmt: skip
# The registry step's SQLite vault of a million incidents, taken over by the API step.
KEPT_1M = Path(tempfile.gettempdir()) / "amparo-bench-1m-vault"
MILLION = (
    Step("registry-1m", "import rate, list, search at 1,000,000 incidents",
         ("bench.registry_bench", "--incidents", "1000000", "--backend", "both",
          "--keep", str(KEPT_1M)), ()),
    Step("api-1m", "JSON API at 1,000,000 incidents",
         ("bench.api_bench", "--incidents", "1000000", "--backend", "both", "--workers", "2",
          "--seconds", "20", "--adopt", str(KEPT_1M)), ()),
)  # fmt: skip


@contextmanager
def step_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` for one step, so that on a shared machine
    other benchmarks run between the steps, never during one."""
    if path is None:
        yield
        return
    import fcntl

    with path.open("a") as handle:
        if not _try_lock(handle):
            print(f"  waiting for {path}", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_lock(handle: IO[str]) -> bool:
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=ROOT, check=False)  # fmt: skip
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes: checks the chain.")
    parser.add_argument("--only", default="", help="Comma-separated step names to run.")
    parser.add_argument("--skip", default="", help="Comma-separated step names to leave out.")
    parser.add_argument("--million", action="store_true", help="Add the 1,000,000 steps.")
    parser.add_argument("--write", type=Path, help="The Markdown file every step writes.")
    parser.add_argument("--list", action="store_true", help="List the steps and exit.")
    parser.add_argument("--lock", type=Path,
                        help="Hold an exclusive flock on this file during each step")  # fmt: skip
    args = parser.parse_args()
    steps = [*STEPS, *(MILLION if args.million and not args.quick else ())]
    if args.list:
        for step in steps:
            print(f"{step.name:12} {step.what}")
        return
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    unknown = (only | skip) - {s.name for s in (*STEPS, *MILLION)}
    if unknown:
        parser.error(f"unknown step(s): {', '.join(sorted(unknown))} (see --list)")
    chosen = [s for s in steps if (not only or s.name in only) and s.name not in skip]
    target = args.write or (
        Path(tempfile.gettempdir()) / "bench-quick.md"
        if args.quick
        else ROOT / "docs" / "benchmarks.md"
    )
    if args.quick and not target.exists():
        target.write_text((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    rows, failed, begun = [], [], time.monotonic()
    for number, step in enumerate(chosen, 1):
        head = f"[{number}/{len(chosen)}] {step.name}: {step.what}"
        if step.module and not (HERE / f"{step.module}.py").exists():
            print(f"{head}: skipped (bench/{step.module}.py is not there)", file=sys.stderr)
            rows.append((step, "skipped: not present", 0.0, load_average(), ""))
            continue
        command = [sys.executable, "-m", *(step.quick if args.quick else step.full),
                   "--write", str(target)]  # fmt: skip
        print(f"{head}\n  $ {' '.join(command[1:])}", file=sys.stderr, flush=True)
        if step.name == "registry-1m":
            shutil.rmtree(KEPT_1M, ignore_errors=True)  # a leftover of a broken run
        with step_lock(args.lock):
            before, started = load_average(), time.monotonic()
            code = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  check=False).returncode  # fmt: skip
            seconds = time.monotonic() - started
        if code == 0:
            status = "ok"
        elif code == CRITERIA_NOT_MET:  # ran to the end; its section says which target it missed
            status = "ran; a target not met (see its section)"
        else:
            status = f"failed (exit {code})"
            failed.append(step.name)
        print(f"  {status} in {seconds / 60:.1f} min; total {(time.monotonic() - begun) / 60:.1f}"
              f" min", file=sys.stderr, flush=True)  # fmt: skip
        rows.append((step, status, seconds, before, load_average()))
        if step.name == "api-1m":
            shutil.rmtree(KEPT_1M, ignore_errors=True)  # taken over, or not needed
    lines = [
        SECTION,
        "",
        f"`python -m bench.all{' --quick' if args.quick else ''}"
        f"{' --million' if args.million else ''}`, finished {datetime.now(UTC):%Y-%m-%d %H:%M}"
        f" UTC at commit `{commit()}`, {(time.monotonic() - begun) / 60:.0f} min in all.",
        f"Machine: {machine_info()}.",
        "",
        "The machine is shared with other work; the load average (1 / 5 / 15 min, against "
        f"{os.cpu_count()} cores) before and after each step says how much.",
        "",
        "| step | what | status | minutes | load average before → after |",
        "|---|---|---|---|---|",
    ]
    for step, status, seconds, before, after in rows:
        load = f"{before} → {after}" if after else before
        lines.append(f"| {step.name} | {step.what} | {status} | {seconds / 60:.1f} | {load} |")
    write_section(target, SECTION, "\n".join(lines) + "\n")
    print(f"results in {target}", file=sys.stderr)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
