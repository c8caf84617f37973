"""Triage benchmarks: campaign detection at 10k, 100k and 1M posts; `triage run` throughput.

    python -m bench.triage_bench campaigns [--sizes 10000,100000,1000000]
                                           [--write docs/benchmarks.md]
    python -m bench.triage_bench throughput [--messages 4000] [--write docs/benchmarks.md]

**campaigns**: organic posts are real EDOS text (each post the first third of one EDOS post,
the middle of a second and the end of a third, so that a million posts are not a million
copies of 20,000), by
accounts drawn from a pool a fifth the size, spread over 30 days. Into them go synthetic
campaigns, one per 1,000 posts: a sexist EDOS post as the template, 5 to 30 copies by
distinct accounts within a burst of 1 to 6 hours, each copy edited as campaigns do (words
replaced or inserted, leetspeak, capitals, another link). Reported: pair precision and
recall (pairs of messages put in one campaign, against the injected truth), clusters made
only of organic posts (false alarms), time and peak memory. Each size runs in its own
process so that peak memory is its own.

**throughput**: `amparo triage run`'s work (normalise, language, rules, doxxing, the shipped
models) on EDOS test posts, messages per second on this machine, and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.registry_bench import machine_info

EDOS = Path(__file__).resolve().parents[2] / "shared/data/edos/edos_labelled_aggregated.csv"
SECTION = "## Triage"
SEED = 2023


def _edos() -> list[dict[str, str]]:
    with EDOS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _edit(rng: random.Random, words: list[str], vocabulary: list[str]) -> str:
    words = list(words)
    for _ in range(rng.randint(0, 2)):
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words) + 1), rng.choice(vocabulary))
    text = " ".join(words)
    if rng.random() < 0.3:
        text = text.replace("e", "3", 1).replace("a", "4", 1)
    if rng.random() < 0.2:
        text = text.upper()
    if rng.random() < 0.3:
        text += f" https://t.example/{rng.randrange(10**6)}"
    return text


def make_posts(size: int, seed: int = SEED) -> tuple[list[Any], dict[str, str]]:
    from amparo.triage.campaigns import Post

    rng = random.Random(seed)
    rows = _edos()
    texts = [r["text"].split() for r in rows if len(r["text"].split()) >= 4]
    sexist = [r["text"].split() for r in rows if r["label_sexist"] == "sexist"
              and len(r["text"].split()) >= 8]  # fmt: skip
    vocabulary = [w for t in texts[:5000] for w in t]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    campaigns = max(1, size // 1000)
    injected_total = 0
    truth: dict[str, str] = {}
    posts = []
    for number in range(campaigns):
        template = rng.choice(sexist)
        at = start + timedelta(seconds=rng.randrange(28 * 86400))
        burst = rng.randint(1, 6) * 3600
        for copy in range(rng.randint(5, 30)):
            post_id = f"c{number}-{copy}"
            posts.append(Post(post_id, f"c{number}-bot{copy}",
                              at + timedelta(seconds=rng.randrange(burst)),
                              _edit(rng, template, vocabulary)))  # fmt: skip
            truth[post_id] = f"c{number}"
            injected_total += 1
    accounts = max(10, size // 5)
    for i in range(size - injected_total):
        a, b, c = rng.choice(texts), rng.choice(texts), rng.choice(texts)
        text = " ".join(a[: len(a) // 3 + 1] + b[len(b) // 3 : 2 * len(b) // 3 + 1]
                        + c[2 * len(c) // 3 :])  # fmt: skip
        posts.append(Post(f"o{i}", f"user{rng.randrange(accounts)}",
                          start + timedelta(seconds=rng.randrange(30 * 86400)), text))  # fmt: skip
    rng.shuffle(posts)
    return posts, truth


def campaigns_one(size: int) -> dict[str, Any]:
    from amparo.triage.campaigns import detect, pair_counts

    posts, truth = make_posts(size)
    started = time.perf_counter()
    found = detect(posts)
    seconds = time.perf_counter() - started
    correct, found_pairs, true_pairs = pair_counts(found, truth)
    organic_only = [c for c in found if not any(m in truth for m in c.members)]
    return {
        "size": size, "campaigns": len(set(truth.values())), "injected": len(truth),
        "found": len(found), "pair_precision": correct / found_pairs if found_pairs else 1.0,
        "pair_recall": correct / true_pairs if true_pairs else 1.0,
        "false_alarms": len(organic_only),
        "false_alarm_posts": sum(len(c.members) for c in organic_only),
        "seconds": seconds, "posts_per_s": size / seconds, "peak_mib": _peak_mib(),
    }  # fmt: skip


def throughput(messages: int) -> dict[str, Any]:
    from amparo.triage.analyse import Triage

    rows = [r for r in _edos() if r["split"] == "test"]
    texts = [rows[i % len(rows)]["text"] for i in range(messages)]
    engine = Triage.load()
    engine.analyse(["w"] * 50, texts[:50])  # warm up
    started = time.perf_counter()
    results = engine.analyse([str(i) for i in range(len(texts))], texts)
    seconds = time.perf_counter() - started
    return {"messages": len(results), "seconds": seconds, "per_s": len(results) / seconds,
            "peak_mib": _peak_mib(), "model": engine.model_id,
            "unique_texts": len(set(texts))}  # fmt: skip


def write_section(path: Path, name: str, body: str) -> None:
    """Replace (or add) the ``### name`` part of the Triage section."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n"
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:] if end < 0 else text[start : end + 1]
    marker = f"### {name}"
    if marker in section:
        a = section.index(marker)
        b = section.find("\n### ", a + len(marker))
        section = section[:a] + body + ("" if b < 0 else section[b + 1 :])
    else:
        section = section.rstrip("\n") + "\n\n" + body
    rest = "" if end < 0 else text[end + 1 :]
    path.write_text(text[:start] + section.rstrip("\n") + "\n" + ("\n" + rest if rest else ""),
                    encoding="utf-8")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("campaigns", help="campaign detection at several sizes")
    c.add_argument("--sizes", default="10000,100000,1000000")
    c.add_argument("--write", type=Path)
    c.add_argument("--one", type=int, help=argparse.SUPPRESS)
    t = sub.add_parser("throughput", help="triage run's messages per second")
    t.add_argument("--messages", type=int, default=4000)
    t.add_argument("--write", type=Path)
    args = parser.parse_args()
    if args.what == "campaigns" and args.one:
        print(json.dumps(campaigns_one(args.one)))
        return
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    if args.what == "campaigns":
        results = []
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"campaigns at {size:,} posts ...", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, "-m", "bench.triage_bench", "campaigns",
                                   "--one", str(size)], check=True, capture_output=True,
                                  text=True)  # fmt: skip
            results.append(json.loads(done.stdout))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        lines = [
            "### Campaign detection", "",
            f"`python -m bench.triage_bench campaigns --sizes {args.sizes}`, {today}. "
            f"{machine_info()}.", "",
            "| posts | injected campaigns (posts) | campaigns found | pair precision | "
            "pair recall | organic-only clusters (posts) | time (s) | posts/s "
            "| peak memory (MiB) |",
            "|---|---|---|---|---|---|---|---|---|",
            *[f"| {r['size']:,} | {r['campaigns']:,} ({r['injected']:,}) | {r['found']:,} | "
              f"{r['pair_precision']:.3f} | {r['pair_recall']:.3f} | {r['false_alarms']:,} "
              f"({r['false_alarm_posts']:,}) | {r['seconds']:.1f} | {r['posts_per_s']:,.0f} | "
              f"{r['peak_mib']:,.0f} |" for r in results],
            "",
        ]  # fmt: skip
        name = "Campaign detection"
    else:
        r = throughput(args.messages)
        lines = [
            "### Throughput of triage run", "",
            f"`python -m bench.triage_bench throughput --messages {args.messages}`, {today}. "
            f"{machine_info()}.", "",
            "| messages | unique texts | model | messages/s | peak memory (MiB) |",
            "|---|---|---|---|---|",
            f"| {r['messages']:,} | {r['unique_texts']:,} | `{r['model']}` | {r['per_s']:,.0f} | "
            f"{r['peak_mib']:,.0f} |", "",
        ]  # fmt: skip
        name = "Throughput of triage run"
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section(args.write, name, body)


if __name__ == "__main__":
    main()
