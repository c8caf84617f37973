"""Campaign detection on synthetic campaigns injected into organic-looking posts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from amparo.triage.campaigns import Post, Settings, detect, pair_counts

START = datetime(2026, 3, 1, tzinfo=UTC)
WORDS = [f"w{n}" for n in range(3000)] + [
    "she",
    "the",
    "defender",
    "lies",
    "and",
    "is",
    "paid",
    "by",
    "who",
]


def organic(rng: random.Random, n: int) -> list[Post]:
    return [
        Post(f"o{i}", f"user{rng.randrange(5000)}",
             START + timedelta(seconds=rng.randrange(30 * 86400)),
             " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))))
        for i in range(n)
    ]  # fmt: skip


def edited(rng: random.Random, template: list[str]) -> str:
    words = list(template)
    for _ in range(rng.randint(0, 2)):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), "!!")
    text = " ".join(words)
    return (
        text.replace("e", "3", 1)
        if rng.random() < 0.3
        else text.upper()
        if rng.random() < 0.2
        else text
    )


def campaign(rng: random.Random, label: str, copies: int, at: datetime) -> list[Post]:
    template = [rng.choice(WORDS) for _ in range(rng.randint(12, 25))]
    return [
        Post(f"{label}-{k}", f"{label}-bot{k}", at + timedelta(minutes=rng.randrange(180)),
             edited(rng, template))
        for k in range(copies)
    ]  # fmt: skip


def test_injected_campaigns_are_found_and_organic_posts_left_alone() -> None:
    rng = random.Random(7)
    posts = organic(rng, 3000)
    truth: dict[str, str] = {}
    for number in range(4):
        injected = campaign(
            rng, f"c{number}", rng.randint(6, 15), START + timedelta(days=3 * number)
        )
        posts += injected
        truth.update({p.id: f"c{number}" for p in injected})
    rng.shuffle(posts)
    found = detect(posts)
    correct, found_pairs, true_pairs = pair_counts(found, truth)
    assert correct / found_pairs >= 0.95 and correct / true_pairs >= 0.95
    assert not any(m.startswith("o") for c in found for m in c.members)
    strongest = found[0]
    assert strongest.reasons[0].startswith("near-identical text from")
    assert strongest.members[0] in {p.id for p in posts}
    assert strongest.start <= strongest.end <= strongest.start + timedelta(hours=3)


def test_a_shared_link_from_several_accounts_in_a_burst_ties_different_texts() -> None:
    texts = ["look at this liar https://smear.example/doc", "who pays her? https://smear.example/doc/",
             "read it all https://SMEAR.example/doc", "the truth: https://smear.example/doc",
             "share! https://smear.example/doc", "unrelated thought about the weather"]  # fmt: skip
    posts = [Post(f"l{k}", f"acct{k}", START + timedelta(minutes=10 * k), text)
             for k, text in enumerate(texts)]  # fmt: skip
    (found,) = detect(posts)
    assert sorted(found.members) == ["l0", "l1", "l2", "l3", "l4"]
    assert "shared link https://smear.example/doc" in found.reasons
    # The same link spread over days, as news spreads, ties nothing.
    slow = [Post(p.id, p.author, START + timedelta(hours=6 * k), p.text)
            for k, p in enumerate(posts)]  # fmt: skip
    assert detect(slow) == []


def test_one_account_or_copies_far_apart_are_not_a_campaign() -> None:
    text = "she is paid by foreigners and lies about the river every single day"
    spam = [Post(f"s{k}", "same-account", START + timedelta(minutes=k), text) for k in range(5)]
    slow = [Post(f"f{k}", f"acct{k}", START + timedelta(days=5 * k), text) for k in range(5)]
    assert detect(spam) == []
    assert detect(slow, Settings(window=timedelta(hours=72))) == []
    assert detect([]) == []


def test_progress_is_reported() -> None:
    seen: list[str] = []
    detect(organic(random.Random(1), 50), progress=lambda stage, done, total: seen.append(stage))
    assert seen[:2] == ["normalised", "signatures"] and seen.count("bands") == 32
