"""Coordinated campaigns: the same message, lightly edited, posted by many accounts in bursts.

Three signals, each tying messages together within a time window:

- **near-duplicates**: MinHash signatures of word pairs (character 5-grams for very short
  messages) of the normalised text, banded for locality-sensitive hashing; messages that
  share a band and agree on enough of the signature are linked. Normalisation first, so
  copies disguised with leetspeak, stretched letters or other links still match.
- **shared links**: the same URL posted by several accounts in a burst (an hour);
- **shared hashtags**: the same hashtag from several accounts in a burst.

Linked messages form clusters (single linkage, union-find). A cluster becomes a campaign when
enough distinct accounts took part; its score grows with the number of accounts, with how
tight the burst is and with how alike the messages are.

Everything is vectorised with numpy: banding sorts band keys instead of filling a dict, so
memory grows linearly with the number of messages (docs/benchmarks.md has the sizes).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from amparo.triage.normalise import Normalised, normalise

__all__ = ["Campaign", "Post", "Settings", "detect", "pair_counts", "signatures"]

PRIME = np.uint64((1 << 61) - 1)
PLACEHOLDER = re.compile(r"\[(?:url|user)\]")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Post:
    id: str
    author: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class Settings:
    window: timedelta = timedelta(hours=72)  # linked messages are at most this far apart
    permutations: int = 128
    bands: int = 32  # 32 bands of 4 rows: pairs with Jaccard 0.5 share a band 87 % of the time
    min_similarity: float = 0.4  # share of signature rows two linked messages agree on
    min_authors: int = 3  # distinct accounts for a cluster to be a campaign
    # A link or hashtag ties messages only when this many accounts post it within a burst:
    # news links and popular hashtags spread organically, over days.
    link_min_authors: int = 5
    burst: timedelta = timedelta(hours=1)
    max_shared: int = 5000  # a link or hashtag used more often is too common to mean anything
    seed: int = 20230310


@dataclass
class Campaign:
    members: list[str]  # message ids, in time order
    authors: list[str]
    start: datetime
    end: datetime
    representative: str  # the member most like the others (original text)
    score: float  # 0..1
    reasons: list[str] = field(default_factory=list)
    similarity: float = 0.0  # mean signature agreement with the representative


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = int(parent[root])
        while parent[i] != root:
            parent[i], i = root, int(parent[i])
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _shingles(text: str) -> list[bytes]:
    # Word pairs: an edited word breaks two shingles, not three as with word triples, which
    # matters for the short messages campaigns are made of. Punctuation is not a word.
    words = [w for w in PLACEHOLDER.sub(" ", text).split() if any(c.isalnum() for c in w)]
    if len(words) >= 5:
        grams = [" ".join(words[i : i + 2]) for i in range(len(words) - 1)]
    else:
        joined = " ".join(words)
        grams = [joined[i : i + 5] for i in range(max(1, len(joined) - 4))]
    return [g.encode("utf-8") for g in grams]


def signatures(texts: Sequence[str], settings: Settings = Settings()) -> np.ndarray:
    """MinHash signatures (one row of ``permutations`` uint64 per text)."""
    rng = np.random.default_rng(settings.seed)
    a = rng.integers(1, int(PRIME), size=settings.permutations, dtype=np.uint64)
    b = rng.integers(0, int(PRIME), size=settings.permutations, dtype=np.uint64)
    out = np.full((len(texts), settings.permutations), np.iinfo(np.uint64).max, dtype=np.uint64)
    for row, text in enumerate(texts):
        grams = _shingles(text)
        if not grams:
            continue
        hashes = np.fromiter(
            (int.from_bytes(hashlib.blake2b(g, digest_size=4).digest(), "little") for g in grams),
            dtype=np.uint64,
            count=len(grams),
        )
        # Universal hashing mod a Mersenne prime; uint64 wraps, which keeps the family mixing.
        permuted = (hashes[:, None] * a[None, :] + b[None, :]) % PRIME
        out[row] = permuted.min(axis=0)
    return out


def detect(
    posts: Sequence[Post], settings: Settings = Settings(), progress: Progress | None = None
) -> list[Campaign]:
    """Campaigns among ``posts``, strongest first."""
    n = len(posts)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: posts[i].created_at)
    posts = [posts[i] for i in order]
    times = np.array([p.created_at.timestamp() for p in posts], dtype=np.float64)
    window = settings.window.total_seconds()
    normalised = [normalise(p.text) for p in posts]
    if progress:
        progress("normalised", n, n)
    sigs = signatures([m.text for m in normalised], settings)
    if progress:
        progress("signatures", n, n)
    links = _UnionFind(n)
    rows = settings.permutations // settings.bands
    empty = (sigs == np.iinfo(np.uint64).max).all(axis=1)
    mix = np.random.default_rng(settings.seed + 1).integers(
        1, np.iinfo(np.int64).max, size=rows, dtype=np.uint64
    ) | np.uint64(1)
    for band in range(settings.bands):
        # One 64-bit key per band (wrapping sum of odd multiples): equal rows, equal keys.
        keys = (sigs[:, band * rows : (band + 1) * rows] * mix[None, :]).sum(axis=1)
        # Sorted by key, then time: equal keys sit together, neighbours close in time.
        ordering = np.lexsort((times, keys))
        sorted_keys = keys[ordering]
        same = sorted_keys[1:] == sorted_keys[:-1]
        left, right = ordering[:-1][same], ordering[1:][same]
        close = np.abs(times[right] - times[left]) <= window
        left, right = left[close], right[close]
        keep = ~(empty[left] | empty[right])
        left, right = left[keep], right[keep]
        if len(left):
            agreement = (sigs[left] == sigs[right]).mean(axis=1)
            for i, j in zip(left[agreement >= settings.min_similarity],
                            right[agreement >= settings.min_similarity], strict=True):  # fmt: skip
                links.union(int(i), int(j))
        if progress:
            progress("bands", band + 1, settings.bands)
    shared = _link_shared(posts, normalised, times, settings.burst.total_seconds(), settings,
                          links)  # fmt: skip
    reasons_by_root: dict[int, set[str]] = defaultdict(set)
    for member, reasons in shared.items():
        reasons_by_root[links.find(member)] |= reasons
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        clusters[links.find(i)].append(i)
    out = []
    for root, members in clusters.items():
        authors = sorted({posts[i].author for i in members})
        if len(members) < 2 or len(authors) < settings.min_authors:
            continue
        out.append(_campaign(members, authors, posts, sigs, times, reasons_by_root[root]))
    return sorted(out, key=lambda c: -c.score)


def _link_shared(
    posts: Sequence[Post],
    normalised: Sequence[Normalised],
    times: np.ndarray,
    window: float,
    settings: Settings,
    links: _UnionFind,
) -> dict[int, set[str]]:
    """Ties messages that share a link or a hashtag, used by enough distinct accounts within
    the window; returns the reasons by a member of each tied group."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, message in enumerate(normalised):
        for url in message.urls:
            by_key["link " + url.rstrip("/").lower()].append(i)
        for tag in message.hashtags:
            by_key["hashtag #" + tag].append(i)
    reasons: dict[int, set[str]] = defaultdict(set)
    for key, members in by_key.items():
        if len(members) > settings.max_shared:
            continue
        start = 0
        for end in range(len(members)):  # members are in time order
            while times[members[end]] - times[members[start]] > window:
                start += 1
            group = members[start : end + 1]
            if len({posts[i].author for i in group}) >= settings.link_min_authors:
                for i in group[1:]:
                    links.union(group[0], i)
                reasons[group[0]].add(f"shared {key}")
    return reasons


def _campaign(
    members: list[int],
    authors: list[str],
    posts: Sequence[Post],
    sigs: np.ndarray,
    times: np.ndarray,
    reasons: set[str],
) -> Campaign:
    member_sigs = sigs[members]
    sample = member_sigs if len(members) <= 200 else member_sigs[:: math.ceil(len(members) / 200)]
    agreement = (member_sigs[:, None, :] == sample[None, :, :]).mean(axis=2).mean(axis=1)
    centre = int(np.argmax(agreement))
    similarity = float(agreement[centre])
    busiest = _busiest_hour(times[members])
    burst = busiest / len(members)  # share of the cluster in its busiest hour
    account_term = 1 - math.exp(-(len(authors) - 2) / 5)  # 3 accounts 0.18, 10 0.8, 20 0.97
    score = round(0.5 * account_term + 0.25 * burst + 0.25 * min(1.0, similarity), 3)
    why = sorted(reasons)
    if similarity >= 0.4:
        why.insert(0, f"near-identical text from {len(authors)} accounts")
    if busiest >= 3:
        why.append(f"{busiest} messages within one hour")
    return Campaign(
        members=[posts[i].id for i in members],
        authors=authors,
        start=posts[members[0]].created_at,
        end=posts[members[-1]].created_at,
        representative=posts[members[centre]].text,
        score=score,
        reasons=why,
        similarity=round(similarity, 3),
    )


def _busiest_hour(times: np.ndarray) -> int:
    ordered = np.sort(times)
    ends = np.searchsorted(ordered, ordered + 3600, side="right")
    return int((ends - np.arange(len(ordered))).max())


def pair_counts(found: Sequence[Campaign], truth: dict[str, str]) -> tuple[int, int, int]:
    """(true pairs found, pairs found, true pairs): pairs of messages put in one campaign,
    against ``truth`` (message id -> campaign label; organic messages absent)."""
    found_pairs = sum(len(c.members) * (len(c.members) - 1) // 2 for c in found)
    correct = 0
    for c in found:
        labels = Counter(truth[m] for m in c.members if m in truth)
        correct += sum(k * (k - 1) // 2 for k in labels.values())
    sizes = Counter(truth.values())
    return correct, found_pairs, sum(k * (k - 1) // 2 for k in sizes.values())
