"""Campaign detection on synthetic campaigns injected into organic-looking posts."""

from __future__ import annotations

import random
import tracemalloc
from datetime import UTC, datetime, timedelta

import numpy as np

from amparo.triage.campaigns import Post, Settings, _links, detect, pair_counts, signatures

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
    assert seen[:2] == ["normalised", "signatures"] and seen.count("bands") == Settings().bands
    assert seen[-1] == "clusters"


def words(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(n)]


def test_a_chain_of_neighbours_is_not_one_campaign() -> None:
    rng = random.Random(3)
    a, c = words(rng, 12), words(rng, 12)
    # B is A and C together: B resembles A and C (about 0.48 each), A and C share nothing.
    texts = [" ".join(a), " ".join(a + c), " ".join(c)]
    posts = [Post(f"p{k}", f"acct{k}", START + timedelta(minutes=5 * k), text)
             for k, text in enumerate(texts)]  # fmt: skip
    sigs = signatures(texts)
    assert (sigs[0] == sigs[1]).mean() >= 0.4 and (sigs[1] == sigs[2]).mean() >= 0.4
    assert (sigs[0] == sigs[2]).mean() < 0.1
    assert detect(posts) == []
    # A longer chain: each post shares three quarters of its words with the next, half with
    # the one after, nothing with those four further on. Single linkage made one campaign of
    # eight; what is left are groups whose members all resemble each other.
    stream = words(rng, 60)
    chain = [Post(f"q{k}", f"acct{k}", START + timedelta(minutes=5 * k),
                  " ".join(stream[4 * k : 4 * k + 16])) for k in range(8)]  # fmt: skip
    found = detect(chain)
    assert all(len(campaign.members) <= 3 for campaign in found)
    for campaign in found:
        member_sigs = signatures([p.text for p in chain if p.id in campaign.members])
        agree = (member_sigs[:, None, :] == member_sigs[None, :, :]).mean(axis=2)
        assert agree.min() >= 0.2


def test_organic_posts_bridging_into_a_campaign_stay_out() -> None:
    rng = random.Random(11)
    posts = organic(rng, 500)
    copies = campaign(rng, "c", 12, START + timedelta(days=2))
    # Organic posts that each take half of the one before, the first half of a campaign copy,
    # within the campaign's hour: they resemble it too little to join it.
    bridge, previous = [], copies[0].text.split()
    for k in range(4):
        words_k = previous[len(previous) // 2 :] + words(rng, len(previous) // 2 + 1)
        bridge.append(Post(f"o-bridge{k}", f"person{k}", copies[0].created_at
                           + timedelta(minutes=10 * (k + 1)), " ".join(words_k)))  # fmt: skip
        previous = words_k
    found = detect(posts + copies + bridge)
    assert [sorted(c.members) for c in found] == [sorted(p.id for p in copies)]
    assert found[0].representative_id in {p.id for p in copies}
    assert found[0].representative == next(p.text for p in copies
                                           if p.id == found[0].representative_id)  # fmt: skip


def test_texts_without_words_are_never_near_copies() -> None:
    posts = [Post(f"e{k}", f"acct{k}", START + timedelta(minutes=k), text)
             for k, text in enumerate(["!!!", "[URL]", "...", "?!", "[USER] [URL]"])]  # fmt: skip
    assert detect(posts) == []
    assert (signatures(["!!!", ""]) == np.uint32(0xFFFFFFFF)).all()


def test_a_popular_hashtag_ties_only_a_burst_above_its_own_rate() -> None:
    rng = random.Random(5)
    # #river every ten minutes for three days, by different accounts: seven in any hour.
    steady = [Post(f"s{k}", f"acct{k}", START + timedelta(minutes=10 * k),
                   " ".join(words(rng, 10)) + " #river") for k in range(432)]  # fmt: skip
    assert detect(steady) == []
    burst = [Post(f"b{k}", f"bot{k}", START + timedelta(hours=30, minutes=k),
                  " ".join(words(rng, 10)) + " #river") for k in range(25)]  # fmt: skip
    (found,) = detect(steady + burst)
    assert "shared hashtag #river" in found.reasons
    assert {f"b{k}" for k in range(25)} <= set(found.members) and len(found.members) < 40


def test_a_campaigns_own_hashtag_does_not_pull_in_organic_posts() -> None:
    rng = random.Random(8)
    at = START + timedelta(days=1)
    copies = [Post(p.id, p.author, at + timedelta(minutes=4 * k), p.text + " #justice")
              for k, p in enumerate(campaign(rng, "c", 12, at))]  # fmt: skip
    # Three people use the hashtag that hour, each in a post of their own.
    people = [Post(f"o{k}", f"person{k}", at + timedelta(minutes=7 * k),
                   " ".join(words(rng, 12)) + " #justice") for k in range(3)]  # fmt: skip
    (found,) = detect(organic(rng, 300) + copies + people)
    assert sorted(found.members) == sorted(p.id for p in copies)


def test_signatures_are_four_bytes_a_value_and_links_one_per_message_and_band() -> None:
    rng = random.Random(2)
    texts = [" ".join(words(rng, 15)) for _ in range(200)]
    sigs = signatures(texts)
    assert sigs.dtype == np.uint32 and sigs.shape == (200, 128)
    # Edited copies agree with their template about as often as with 64-bit values.
    same = signatures([texts[0], texts[0] + " extra words", texts[1]])
    assert (same[0] == same[1]).mean() > 0.7 and (same[0] == same[2]).mean() < 0.05
    copies = [" ".join(texts[0].split()[:14]) + f" w{k}" for k in range(300)]
    edges = _links(signatures(copies), np.zeros(300), Settings())
    assert 300 - 1 <= len(edges) <= Settings().bands * 300


def peak_bytes(posts: list[Post]) -> int:
    tracemalloc.start()
    try:
        detect(posts)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_linearly_even_for_one_huge_campaign() -> None:
    rng = random.Random(9)
    small, large = peak_bytes(organic(rng, 500)), peak_bytes(organic(rng, 2000))
    assert large < 4 * small
    # Thousands of copies by as many accounts: one campaign, and no matrix of all pairs
    # (2,000 x 2,000 agreements would be 16 MB as float32 alone).
    template = words(rng, 20)
    huge = [Post(f"h{k}", f"bot{k}", START + timedelta(seconds=k),
                 " ".join([*template[:19], f"w{k}"])) for k in range(2000)]  # fmt: skip
    half, whole = peak_bytes(huge[:1000]), peak_bytes(huge)
    assert whole < 2.5 * half and whole < 14 * 2**20
    (found,) = detect(huge)
    assert len(found.members) == 2000
