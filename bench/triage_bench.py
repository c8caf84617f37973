"""Triage benchmarks: campaign detection at 10k, 100k and 1M posts; `triage run` throughput.

    python -m bench.triage_bench campaigns [--sizes 10000,100000,1000000]
                                           [--write docs/benchmarks.md]
    python -m bench.triage_bench throughput [--messages 4000] [--write docs/benchmarks.md]

**campaigns**: organic posts are the real EDOS posts (each once; those used as campaign
templates left out) and, past the 20,000 that EDOS has, posts written by a first-order
Markov chain over EDOS's words: an EDOS post's opening word and length, then each next word
one that follows the current word somewhere in EDOS, as often as it does there. Word pairs,
the detector's features, are then as common as in real text, but no organic post is a copy,
an edited copy or a splice of another (see docs/benchmarks.md, "reading the numbers"). Posts
are by accounts drawn from a pool a fifth the size, spread over 30 days. Into them go
synthetic campaigns, one per 1,000 posts: a sexist EDOS post as the template (each template
once), 5 to 30 copies by distinct accounts within a burst of 1 to 6 hours, each copy edited
as campaigns do (words replaced or inserted, leetspeak, capitals, another link). Reported:
pair precision and recall (pairs of messages put in one campaign, against the injected
truth), B-cubed precision, recall and F1 over the injected posts, clusters made only of
organic posts (false alarms), time and peak memory. Each size runs in its own process so
that peak memory is its own.

**throughput**: `amparo triage run`'s work (normalise, language, rules, doxxing, the shipped
models) on EDOS test posts, messages per second on this machine, and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.registry_bench import machine_info

EDOS = Path(__file__).resolve().parents[2] / "shared/data/edos/edos_labelled_aggregated.csv"
SECTION = "## Triage"
SEED = 2023
MIN_WORDS = 5  # the shortest post the Markov chain writes (shorter ones copy or say nothing)
MIN_PLACES = 5  # a word followed in fewer places than this does not choose the next word


def _edos() -> list[dict[str, str]]:
    with EDOS.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _resident_mib() -> float:
    """Memory in use now (Linux), to tell the input posts from what detection adds."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


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


def _markov(rows: list[list[str]], count: int, rng: np.random.Generator) -> list[str]:
    """``count`` posts from a first-order Markov chain over the words of ``rows``.

    Each post takes the opening word of one real post and the length of another (of at
    least ``MIN_WORDS`` words); each next word is the word after the current one at a random
    place where the current word occurs, so as often as it follows it in the corpus. A word
    with fewer than ``MIN_PLACES`` such places would make the chain copy the post it came
    from (a rare word has one continuation, then another rare word one): the next word is
    then the word at a random place of the corpus instead."""
    vocabulary: dict[str, int] = {}
    tokens = np.array([vocabulary.setdefault(w, len(vocabulary)) for r in rows for w in r],
                      dtype=np.int64)  # fmt: skip
    words = np.array(list(vocabulary), dtype=object)
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    long_enough = lengths[lengths >= MIN_WORDS]
    followed = np.ones(len(tokens), dtype=bool)
    followed[starts + lengths - 1] = False
    places = np.flatnonzero(followed)
    places = places[np.argsort(tokens[places], kind="stable")]  # places with a next word, by word
    ids = np.arange(len(vocabulary))
    first = np.searchsorted(tokens[places], ids)
    seen = np.searchsorted(tokens[places], ids, side="right") - first
    out: list[str] = []
    for done in range(0, count, 50_000):  # in chunks, to keep the generator's memory small
        n = min(50_000, count - done)
        size = long_enough[rng.integers(0, len(long_enough), size=n)]
        current = tokens[starts[rng.integers(0, len(rows), size=n)]]
        chain = np.full((n, int(size.max())), -1, dtype=np.int64)
        chain[:, 0] = current
        for step in range(1, chain.shape[1]):
            at = first[current] + (rng.random(n) * seen[current]).astype(np.int64)
            anywhere = rng.integers(0, len(tokens), size=n)
            continues = places[np.minimum(at, len(places) - 1)] + 1
            current = tokens[np.where(seen[current] >= MIN_PLACES, continues, anywhere)]
            chain[:, step] = np.where(step < size, current, -1)
        out += [" ".join(words[row[row >= 0]]) for row in chain]
    return out


def make_posts(size: int, seed: int = SEED) -> tuple[list[Any], dict[str, str]]:
    from amparo.triage.campaigns import Post

    rng = random.Random(seed)
    rows = _edos()
    words = [r["text"].split() for r in rows]
    sexist = [i for i, r in enumerate(rows) if r["label_sexist"] == "sexist"
              and len(words[i]) >= 8]  # fmt: skip
    vocabulary = [w for t in words[:5000] for w in t]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    campaigns = max(1, size // 1000)
    # Each template once: two campaigns of one message in the same days are one campaign.
    templates = rng.sample(sexist, campaigns)
    injected_total = 0
    truth: dict[str, str] = {}
    posts = []
    for number, template in enumerate(templates):
        at = start + timedelta(seconds=rng.randrange(28 * 86400))
        burst = rng.randint(1, 6) * 3600
        for copy in range(rng.randint(5, 30)):
            post_id = f"c{number}-{copy}"
            posts.append(Post(post_id, f"c{number}-bot{copy}",
                              at + timedelta(seconds=rng.randrange(burst)),
                              _edit(rng, words[template], vocabulary)))  # fmt: skip
            truth[post_id] = f"c{number}"
            injected_total += 1
    accounts = max(10, size // 5)
    used = set(templates)
    real = [rows[i]["text"] for i in range(len(rows)) if i not in used and words[i]]
    rng.shuffle(real)
    organic = size - injected_total
    texts = real[:organic]
    if organic > len(texts):
        chain = np.random.default_rng(seed)
        texts += _markov([w for w in words if w], organic - len(texts), chain)
    for i, text in enumerate(texts):
        posts.append(Post(f"o{i}", f"user{rng.randrange(accounts)}",
                          start + timedelta(seconds=rng.randrange(30 * 86400)), text))  # fmt: skip
    rng.shuffle(posts)
    return posts, truth


def b_cubed(found: list[Any], truth: dict[str, str]) -> tuple[float, float]:
    """B-cubed precision and recall over the injected posts: for each, the share of its found
    cluster that is of its campaign, and the share of its campaign found in its cluster (a
    post in no cluster counts as a cluster of its own)."""
    cluster_of = {m: k for k, c in enumerate(found) for m in c.members}
    members: dict[int, list[str]] = {k: c.members for k, c in enumerate(found)}
    sizes = Counter(truth.values())
    precision = recall = 0.0
    for post, label in truth.items():
        k = cluster_of.get(post)
        if k is None:
            precision += 1.0
            recall += 1 / sizes[label]
            continue
        same = sum(1 for m in members[k] if truth.get(m) == label)
        precision += same / len(members[k])
        recall += same / sizes[label]
    return precision / len(truth), recall / len(truth)


def campaigns_one(size: int) -> dict[str, Any]:
    from amparo.triage.campaigns import detect, pair_counts

    posts, truth = make_posts(size)
    posts_mib = _resident_mib()
    started = time.perf_counter()
    found = detect(posts)
    seconds = time.perf_counter() - started
    correct, found_pairs, true_pairs = pair_counts(found, truth)
    organic_only = [c for c in found if not any(m in truth for m in c.members)]
    b_precision, b_recall = b_cubed(found, truth)
    return {
        "size": size, "campaigns": len(set(truth.values())), "injected": len(truth),
        "found": len(found), "pair_precision": correct / found_pairs if found_pairs else 1.0,
        "pair_recall": correct / true_pairs if true_pairs else 1.0,
        "b3_precision": b_precision, "b3_recall": b_recall,
        "b3_f1": 2 * b_precision * b_recall / (b_precision + b_recall),
        "false_alarms": len(organic_only),
        "false_alarm_posts": sum(len(c.members) for c in organic_only),
        "organic_in_campaigns": sum(1 for c in found for m in c.members if m not in truth
                                    and any(x in truth for x in c.members)),
        "seconds": seconds, "posts_per_s": size / seconds, "peak_mib": _peak_mib(),
        "posts_mib": posts_mib,
    }  # fmt: skip


def throughput(messages: int, screen: bool = True) -> dict[str, Any]:
    from amparo.triage.analyse import Triage

    rows = [r for r in _edos() if r["split"] == "test"]
    texts = [rows[i % len(rows)]["text"] for i in range(messages)]
    engine = Triage.load()
    if not screen:
        engine.screen = None  # as `amparo triage run --no-screen`
    engine.analyse(["w"] * 50, texts[:50])  # warm up
    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    results = engine.analyse([str(i) for i in range(len(texts))], texts)
    seconds = time.perf_counter() - started
    # CPU time of all the process's threads: less at the mercy of other work on the machine
    # than the wall clock, which the load average at the start puts in context.
    cpu_ms = 1000 * (time.process_time() - cpu) / len(results)
    return {"messages": len(results), "seconds": seconds, "per_s": len(results) / seconds,
            "peak_mib": _peak_mib(), "model": engine.model_id, "cpu_ms": cpu_ms, "load": load,
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
    t.add_argument(
        "--no-screen",
        action="store_true",
        help="let task A's transformer read every post (triage run --no-screen)",
    )
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
            "pair recall | B-cubed F1 | organic-only clusters (posts) | organic posts in "
            "campaigns | time (s) | posts/s | peak memory (MiB) | before detection (MiB) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            *[f"| {r['size']:,} | {r['campaigns']:,} ({r['injected']:,}) | {r['found']:,} | "
              f"{r['pair_precision']:.3f} | {r['pair_recall']:.3f} | {r['b3_f1']:.3f} | "
              f"{r['false_alarms']:,} ({r['false_alarm_posts']:,}) | "
              f"{r['organic_in_campaigns']:,} | {r['seconds']:.1f} | {r['posts_per_s']:,.0f} | "
              f"{r['peak_mib']:,.0f} | {r['posts_mib']:,.0f} |" for r in results],
            "",
        ]  # fmt: skip
        name = "Campaign detection"
    else:
        r = throughput(args.messages, screen=not args.no_screen)
        lines = [
            "### Throughput of triage run", "",
            f"`python -m bench.triage_bench throughput --messages {args.messages}"
            f"{' --no-screen' if args.no_screen else ''}`, {today}. "
            f"{machine_info()}.", "",
            "| messages | unique texts | model | messages/s | CPU ms per message "
            "| load average at start | peak memory (MiB) |",
            "|---|---|---|---|---|---|---|",
            f"| {r['messages']:,} | {r['unique_texts']:,} | `{r['model']}` | {r['per_s']:,.0f} | "
            f"{r['cpu_ms']:.2f} | {r['load']:.1f} | {r['peak_mib']:,.0f} |", "",
        ]  # fmt: skip
        name = "Throughput of triage run"
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section(args.write, name, body)


if __name__ == "__main__":
    main()
