"""Coordinated campaigns: the same message, lightly edited, posted by many accounts in bursts.

Three signals, each tying messages together within a time window:

- **near-duplicates**: MinHash signatures of word pairs (character 5-grams for very short
  messages) of the normalised text, banded for locality-sensitive hashing; messages that
  share a band and agree on enough of the signature are linked. Normalisation first, so
  copies disguised with leetspeak, stretched letters or other links still match.
- **shared links**: the same URL posted by several accounts in a burst (an hour);
- **shared hashtags**: the same hashtag from several accounts in a burst.

Linked near-duplicates form connected components, and a component is not yet a campaign:
single linkage lets a chain of neighbours (A like B, B like C) glue messages that do not
resemble each other. A campaign is one message copied with edits, so each component is cut
into clusters around a representative (the member most like the others): a member stays when
it agrees with the representative as much as a direct link needs (``min_similarity``) *and*
with the cluster's other members on average at ``min_cohesion``, about what two independent
copies of the representative share (two copies that each keep 57 % of its word pairs agree
with it at 0.4 and with each other at about 0.2). A message that resembles the
representative only through a part the others lack, as in a chain, fails the second test.
Members left out are examined again, as their own components. Clusters, then ties by links
and hashtags, make the groups; a group becomes a campaign when enough distinct accounts took
part; its score grows with the number of accounts, with how tight the burst is and with how
alike the messages are.

Everything large is vectorised with numpy and linear in the number of messages: signatures
are 4 bytes a value (128 values, 512 bytes a message), banding sorts band keys instead of
filling a dict, links are at most one per message and band, and components come from
pointer jumping, not a Python loop (docs/benchmarks.md has the sizes).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from amparo.triage.normalise import normalise

__all__ = ["Campaign", "Post", "Settings", "detect", "pair_counts", "signatures"]

EMPTY = np.uint32(0xFFFFFFFF)  # the signature value of a message without words
PLACEHOLDER = re.compile(r"\[(?:url|user)\]")
WORD = re.compile(r"\S*[^\W_]\S*")  # a whitespace-separated token with a letter or digit
CHUNK = 1 << 14  # rows compared at a time, to bound temporary arrays
BLOCK = 8192  # messages normalised and signed at a time
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
    # 42 bands of 3 rows: pairs at Jaccard 0.4 (min_similarity) share a band 94 % of the
    # time, 0.5 99.6 %, 0.2 29 %, 0.1 4 % (32 bands of 4 found only 56 % of pairs at 0.4).
    bands: int = 42
    min_similarity: float = 0.4  # share of signature rows two linked messages agree on
    min_authors: int = 3  # distinct accounts for a cluster to be a campaign
    # A link or hashtag ties messages only when this many accounts post it within a burst:
    # news links and popular hashtags spread organically, over days.
    link_min_authors: int = 5
    burst: timedelta = timedelta(hours=1)
    max_shared: int = 5000  # a link or hashtag used more often is too common to mean anything
    # ... and only when that many uses in a burst are this improbable at its own rate over
    # the rest of the batch (Poisson): about one chance burst in a million windows tested.
    burst_p: float = 1e-6
    seed: int = 20230310
    # A member's mean agreement with the cluster's other members (the representative aside):
    # two independent copies of a message, each at min_similarity with it, share about 0.2.
    min_cohesion: float = 0.2


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
    representative_id: str = ""  # the representative's message id


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

    def roots(self) -> np.ndarray:
        """Every element's root, by pointer jumping."""
        roots = self.parent.copy()
        while True:
            nxt = roots[roots]
            if np.array_equal(nxt, roots):
                return roots
            roots = nxt


def _shingles(text: str) -> list[bytes]:
    # Word pairs: an edited word breaks two shingles, not three as with word triples, which
    # matters for the short messages campaigns are made of. Punctuation is not a word; a
    # message without words has no shingles (and so no signature: it is never linked).
    words = WORD.findall(PLACEHOLDER.sub(" ", text))
    if not words:
        return []
    if len(words) >= 5:
        grams = [" ".join(words[i : i + 2]) for i in range(len(words) - 1)]
    else:
        joined = " ".join(words)
        grams = [joined[i : i + 5] for i in range(max(1, len(joined) - 4))]
    return [g.encode("utf-8") for g in grams]


def _family(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(settings.seed)
    top = np.iinfo(np.uint64).max
    a = rng.integers(0, top, size=settings.permutations, dtype=np.uint64, endpoint=True)
    b = rng.integers(0, top, size=settings.permutations, dtype=np.uint64, endpoint=True)
    return a | np.uint64(1), b


def _sign(texts: Sequence[str], family: tuple[np.ndarray, np.ndarray], out: np.ndarray) -> None:
    """Signatures of ``texts`` into ``out`` (one row each, already filled with EMPTY)."""
    a, b = family
    counts = np.zeros(len(texts), dtype=np.int64)
    hashes: list[int] = []
    for row, text in enumerate(texts):
        grams = [zlib.crc32(g) for g in _shingles(text)]
        hashes.extend(grams)
        counts[row] = len(grams)
    values = np.array(hashes, dtype=np.uint64)
    ends = np.cumsum(counts)
    rows = np.flatnonzero(counts)
    shift = np.uint64(32)
    first = 0
    while first < len(rows):
        # A chunk of texts with about CHUNK / 4 shingles between them (4 MiB of uint64).
        offset = ends[rows[first]] - counts[rows[first]]
        last = max(first + 1, int(np.searchsorted(ends[rows], offset + CHUNK // 4, side="right")))
        chunk = rows[first:last]
        stop = ends[chunk[-1]]
        permuted = values[offset:stop, None] * a[None, :]  # wraps, as it should
        permuted += b[None, :]
        permuted >>= shift
        starts = ends[chunk] - counts[chunk] - offset
        out[chunk] = np.minimum.reduceat(permuted, starts, axis=0).astype(np.uint32)
        first = last


def signatures(texts: Sequence[str], settings: Settings = Settings()) -> np.ndarray:
    """MinHash signatures: one row of ``permutations`` uint32 per text (``0xFFFFFFFF``
    throughout for a text without words).

    Each shingle is hashed to 32 bits (CRC-32), then by ``permutations`` multiply-add-shift
    functions (``(a * x + b) mod 2**64``, top 32 bits; a strongly universal family); a row
    keeps each function's minimum. 32-bit values make two different minima collide once in
    four billion, far below the sampling error of 128 rows, at half the memory of 64 bits.
    Texts go in blocks, so that nothing but the result grows with their number."""
    family = _family(settings)
    out = np.full((len(texts), settings.permutations), EMPTY, dtype=np.uint32)
    for start in range(0, len(texts), BLOCK):
        _sign(texts[start : start + BLOCK], family, out[start : start + BLOCK])
    return out


def _agreement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Share of signature rows on which each row of ``x`` agrees with each row of ``y``."""
    out = np.empty((len(x), len(y)), dtype=np.float32)
    step = max(1, CHUNK // max(1, len(y)))
    for i in range(0, len(x), step):
        same = x[i : i + step, None, :] == y[None, :, :]
        out[i : i + step] = np.count_nonzero(same, axis=2) / x.shape[1]
    return out


def _pair_agreement(sigs: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    out = np.empty(len(left), dtype=np.float32)
    for i in range(0, len(left), CHUNK):
        same = sigs[left[i : i + CHUNK]] == sigs[right[i : i + CHUNK]]
        out[i : i + CHUNK] = np.count_nonzero(same, axis=1) / sigs.shape[1]
    return out


def _components(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the graph with edges (u, v): (nodes, label of each), the label
    being the smallest node of its component. Roots hook onto the smallest root next to them
    and pointers jump until each points at a root, all in numpy (a few rounds, each linear)."""
    nodes, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    cu, cv = inverse[: len(u)], inverse[len(u) :]
    label = np.arange(len(nodes), dtype=np.int64)
    while True:
        lu, lv = label[cu], label[cv]
        differ = lu != lv
        if not differ.any():
            return nodes, nodes[label]
        low, high = np.minimum(lu[differ], lv[differ]), np.maximum(lu[differ], lv[differ])
        np.minimum.at(label, high, low)
        while True:
            nxt = label[label]
            if np.array_equal(nxt, label):
                break
            label = nxt


def _groups(nodes: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """The nodes of each label, each group in ascending order."""
    if not len(nodes):
        return []
    order = np.lexsort((nodes, labels))
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(nodes[order], cuts)


def _centre(sigs: np.ndarray) -> int:
    """The row most like the others (mean agreement with up to 64 of them)."""
    sample = sigs if len(sigs) <= 64 else sigs[:: math.ceil(len(sigs) / 64)]
    return int(np.argmax(_agreement(sigs, sample).mean(axis=1)))


def _cohesive(sigs: np.ndarray, centre: int, threshold: float) -> np.ndarray:
    """Which rows to keep: each non-centre row must agree on average at ``threshold`` with
    the other non-centre rows kept. The least cohesive row goes first, one at a time (above
    256 rows, against a sample of 256, all below at once, a few rounds)."""
    m = len(sigs)
    keep = np.ones(m, dtype=bool)
    if m <= 2:
        return keep
    others = np.flatnonzero(np.arange(m) != centre)
    if m <= 257:
        agree = _agreement(sigs[others], sigs[others]).astype(np.float64)
        np.fill_diagonal(agree, 0.0)
        alive = np.ones(len(others), dtype=bool)
        sums = agree.sum(axis=1)
        while alive.sum() >= 2:
            cohesion = np.where(alive, sums / (alive.sum() - 1), np.inf)
            worst = int(np.argmin(cohesion))
            if cohesion[worst] >= threshold:
                break
            alive[worst] = False
            sums -= agree[:, worst]
        keep[others[~alive]] = False
        return keep
    for _ in range(3):
        alive = others[keep[others]]
        if len(alive) < 2:
            break
        sample = alive[:: math.ceil(len(alive) / 256)]
        agree = _agreement(sigs[alive], sigs[sample])
        own = np.searchsorted(sample, alive)
        is_self = (own < len(sample)) & (sample[np.minimum(own, len(sample) - 1)] == alive)
        total = agree.sum(axis=1) - is_self  # a row agrees with itself everywhere
        cohesion = total / (len(sample) - is_self)
        low = alive[cohesion < threshold]
        if not len(low):
            break
        keep[low] = False
    return keep


def _parts(edges: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The connected components of the links ``edges`` (rows u, v): each component's
    messages (ascending) with its own links."""
    nodes, labels = _components(edges[:, 0], edges[:, 1])
    edge_label = labels[np.searchsorted(nodes, edges[:, 0])]
    order = np.argsort(edge_label, kind="stable")
    edges, edge_label = edges[order], edge_label[order]
    out = []
    for group in _groups(nodes, labels):
        a, b = np.searchsorted(edge_label, group[0]), np.searchsorted(edge_label, group[0], "right")
        out.append((group, edges[a:b]))
    return out


def _clusters(sigs: np.ndarray, edges: np.ndarray, settings: Settings) -> list[np.ndarray]:
    """Clusters of linked messages, each around a representative (see the module's
    description), from the links ``edges`` (rows u, v)."""
    out: list[np.ndarray] = []
    work = _parts(edges) if len(edges) else []
    while work:
        group, local = work.pop()
        if len(group) <= 2:  # one verified link
            out.append(group)
            continue
        group_sigs = sigs[group]
        centre = _centre(group_sigs)
        to_centre = _agreement(group_sigs, group_sigs[centre : centre + 1])[:, 0]
        star = np.flatnonzero(to_centre >= settings.min_similarity)
        kept = star[_cohesive(group_sigs[star], int(np.searchsorted(star, centre)),
                              settings.min_cohesion)]  # fmt: skip
        if len(kept) >= 2:
            out.append(group[kept])
        rest = np.ones(len(group), dtype=bool)
        rest[kept] = False
        if rest.sum() < 2:
            continue
        # The members left out, linked among themselves, are examined again.
        left = group[rest]
        sub = local[np.isin(local[:, 0], left) & np.isin(local[:, 1], left)]
        if len(sub):
            work.extend(_parts(sub))
    return out


def _links(
    sigs: np.ndarray, times: np.ndarray, settings: Settings, progress: Progress | None = None
) -> np.ndarray:
    """Pairs of messages (rows i < j) that share a band, are at most ``window`` apart and agree
    on at least ``min_similarity`` of their signatures. In each band, messages are sorted by
    band key, then time, and only neighbours in that order are compared: at most one pair per
    message and band."""
    n = len(sigs)
    window = settings.window.total_seconds()
    rows = settings.permutations // settings.bands
    empty = (sigs == EMPTY).all(axis=1)
    mix = np.random.default_rng(settings.seed + 1).integers(
        1, np.iinfo(np.int64).max, size=rows, dtype=np.uint64
    ) | np.uint64(1)
    found: list[np.ndarray] = []
    for band in range(settings.bands):
        # One 64-bit key per band (wrapping sum of odd multiples): equal rows, equal keys.
        band_rows = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
        keys = (band_rows * mix[None, :]).sum(axis=1)
        # Sorted by key, then time: equal keys sit together, neighbours close in time.
        ordering = np.lexsort((times, keys))
        sorted_keys = keys[ordering]
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        left, right = ordering[same], ordering[same + 1]
        keep = (np.abs(times[right] - times[left]) <= window) & ~(empty[left] | empty[right])
        left, right = left[keep], right[keep]
        if len(left):
            close = _pair_agreement(sigs, left, right) >= settings.min_similarity
            low = np.minimum(left[close], right[close]).astype(np.int64)
            found.append(low * n + np.maximum(left[close], right[close]))
        if progress:
            progress("bands", band + 1, settings.bands)
    codes = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    return np.stack([codes // n, codes % n], axis=1)


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
    # In blocks: only the signatures, and the links and hashtags, are kept for every message.
    family = _family(settings)
    sigs = np.full((n, settings.permutations), EMPTY, dtype=np.uint32)
    tags: list[tuple[int, tuple[str, ...], tuple[str, ...]]] = []
    for start in range(0, n, BLOCK):
        block = [normalise(p.text) for p in posts[start : start + BLOCK]]
        tags += [(start + k, m.urls, m.hashtags) for k, m in enumerate(block)
                 if m.urls or m.hashtags]  # fmt: skip
        _sign([m.text for m in block], family, sigs[start : start + BLOCK])
    if progress:
        progress("normalised", n, n)
        progress("signatures", n, n)
    edges = _links(sigs, times, settings, progress)
    clusters = _clusters(sigs, edges, settings)
    if progress:
        progress("clusters", len(clusters), len(clusters))
    links = _UnionFind(n)
    for cluster in clusters:
        links.parent[cluster] = cluster[0]
    shared = _link_shared(posts, tags, times, settings.burst.total_seconds(), settings,
                          links)  # fmt: skip
    reasons_by_root: dict[int, set[str]] = defaultdict(set)
    for member, reasons in shared.items():
        reasons_by_root[links.find(member)] |= reasons
    roots = links.roots()
    tied = np.flatnonzero(roots != np.arange(n))
    tied = np.unique(np.concatenate([tied, roots[tied]]))
    out = []
    for members_array in _groups(tied, roots[tied]):
        members = [int(i) for i in members_array]
        root = int(roots[members[0]])
        authors = sorted({posts[i].author for i in members})
        if len(members) < 2 or len(authors) < settings.min_authors:
            continue
        out.append(_campaign(members, authors, posts, sigs, times, reasons_by_root[root]))
    return sorted(out, key=lambda c: -c.score)


def _poisson_tail(count: int, rate: float) -> float:
    """P(X >= count) for X ~ Poisson(rate)."""
    if rate <= 0:
        return 0.0
    if count <= rate:
        return 1.0
    term = math.exp(-rate + count * math.log(rate) - math.lgamma(count + 1))
    total, k = term, count
    while term > total * 1e-12:
        k += 1
        term *= rate / k
        total += term
    return min(1.0, total)


def _link_shared(
    posts: Sequence[Post],
    tags: Sequence[tuple[int, tuple[str, ...], tuple[str, ...]]],
    times: np.ndarray,
    window: float,
    settings: Settings,
    links: _UnionFind,
) -> dict[int, set[str]]:
    """Ties messages that share a link or a hashtag, used by enough distinct accounts within
    the window, and far more often than the link's or hashtag's own rate over the rest of
    the batch would give (a popular hashtag is used by five accounts in many hours of a busy
    day without any coordination); returns the reasons by a member of each tied group."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, urls, hashtags in tags:  # in time order
        for url in urls:
            by_key["link " + url.rstrip("/").lower()].append(i)
        for tag in hashtags:
            by_key["hashtag #" + tag].append(i)
    rest_span = max(float(times[-1] - times[0]) - window, window) if len(times) else window
    # Copies of one message, already a cluster, are one use: a campaign's copies that carry a
    # hashtag make no burst of it, which would tie the organic posts using it that hour.
    cluster = links.roots()
    reasons: dict[int, set[str]] = defaultdict(set)
    for key, members in by_key.items():
        if len(members) < settings.link_min_authors or len(members) > settings.max_shared:
            continue
        start = 0
        for end in range(len(members)):  # members are in time order
            while times[members[end]] - times[members[start]] > window:
                start += 1
            count = end - start + 1
            if count < settings.link_min_authors:
                continue
            # Uses expected in a window at the rate outside it.
            background = (len(members) - count) * window / rest_span
            if _poisson_tail(count, background) > settings.burst_p:
                continue
            group = members[start : end + 1]
            uses = len({int(cluster[i]) for i in group})
            if uses < count and (
                uses < settings.link_min_authors
                or _poisson_tail(uses, background) > settings.burst_p
            ):
                continue
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
    agreement = _agreement(member_sigs, sample).astype(np.float64).mean(axis=1)
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
        representative_id=posts[members[centre]].id,
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
