"""The synthetic demo registry: deterministic, valid, and shaped like DOMAIN.md §9."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from amparo.demo import (
    DEMO_SEED,
    MARKER_WORD,
    DemoSize,
    demo_defenders,
    demo_incidents,
    demo_links,
    populate,
)
from amparo.domain.models import parse_defender, parse_incident
from amparo.domain.vocabularies import load_vocabularies
from amparo.registry import Registry

TODAY = date(2026, 11, 1)  # the conftest clock's day
AMERICAS = frozenset(
    ("CO", "MX", "HN", "BR", "GT", "PE", "NI", "VE", "EC", "BO", "AR", "CL", "PY", "SV", "PA",
     "CR", "US", "CA", "HT", "DO", "CU")
)  # fmt: skip
FAMILY = ("child", "partner", "parent", "other_family")
JUDICIAL = ("A15", "A16")
DEFAULT_SIZE = DemoSize()


@dataclass
class Generated:
    defenders: list[dict[str, Any]]
    ids: list[str]
    incidents: list[dict[str, Any]]
    seconds: float


def generate(
    seed: int = DEMO_SEED, size: DemoSize = DEFAULT_SIZE, today: date = TODAY
) -> Generated:
    """What ``populate`` generates, with stand-in ids for defenders and close people."""
    rng = random.Random(seed)
    started = time.perf_counter()
    defenders = demo_defenders(rng, size, today)
    ids = [f"def{n:04d}" for n in range(len(defenders))]
    stored = []
    for n, record in enumerate(defenders):
        copy = dict(record)
        copy["close_people"] = [
            {**person, "id": f"cp{n:04d}-{k}"}
            for k, person in enumerate(record.get("close_people") or [])
        ]
        stored.append(copy)
    incidents = list(demo_incidents(rng, ids, stored, size, today))
    return Generated(defenders, ids, incidents, time.perf_counter() - started)


@pytest.fixture(scope="module")
def demo() -> Generated:
    return generate()


def acts_of(demo: Generated) -> list[dict[str, Any]]:
    return [act for incident in demo.incidents for act in incident["acts"]]


def year_of(incident: dict[str, Any]) -> int:
    return int(str(incident["date_start"]).lstrip("~")[:4])


# -- determinism and validity ------------------------------------------------------------
def test_same_seed_gives_the_same_records() -> None:
    size = DemoSize(defenders=80, incidents=400)
    first, second = generate(size=size), generate(size=size)
    assert first.defenders == second.defenders
    assert first.incidents == second.incidents
    other = generate(seed=DEMO_SEED + 1, size=size)
    assert other.incidents != first.incidents


def test_generation_is_fast(demo: Generated) -> None:
    # About 0.3 s alone, 4.6 s seen on a loaded machine; the bound only catches quadratic work.
    assert demo.seconds < 30


def test_every_record_is_valid_and_nothing_is_in_the_future(demo: Generated) -> None:
    vocab = load_vocabularies()
    for record in demo.defenders:
        parse_defender(record, vocab, TODAY)
    for record in demo.incidents:
        incident = parse_incident(record, vocab, TODAY)
        assert incident.date_start.value < TODAY
        assert all(a.act_date is None or a.act_date < TODAY for a in incident.acts)


def test_everything_is_marked_as_demo(demo: Generated) -> None:
    assert all(r["title"].endswith(" (DEMO)") for r in demo.incidents)
    assert all("Synthetic demo profile" in r["notes"] for r in demo.defenders)
    contacts = [r["contacts"] for r in demo.defenders if r.get("contacts")]
    assert contacts and all("(DEMO)" in c for c in contacts)


# -- incidents -----------------------------------------------------------------------------
def test_counts_years_and_countries(demo: Generated) -> None:
    assert len(demo.defenders) == 600
    assert len(demo.incidents) == 3200
    years = Counter(year_of(r) for r in demo.incidents)
    full_years = [y for y in years if y < TODAY.year]
    assert len(full_years) >= 5
    assert sorted(years) == list(range(min(years), TODAY.year + 1))
    assert all(years[y] >= 300 for y in full_years)

    countries = Counter(r["country"] for r in demo.incidents)
    assert len(countries) >= 30
    americas = sum(n for code, n in countries.items() if code in AMERICAS) / len(demo.incidents)
    assert 0.6 <= americas <= 0.72
    top = {code for code, _ in countries.most_common(8)}
    assert {"CO", "MX", "HN", "BR", "GT", "PH"} <= top
    assert countries.most_common(1)[0][0] == "CO"
    regions_elsewhere = {r["country"] for r in demo.incidents} - AMERICAS
    assert {"PH", "IN", "KE", "EG", "TR"} <= regions_elsewhere


def test_act_mix(demo: Generated) -> None:
    acts = acts_of(demo)
    share = {code: n / len(acts) for code, n in Counter(a["act_type"] for a in acts).items()}
    assert 0.02 <= share["A01"] <= 0.05  # killings: rare next to non-lethal acts
    assert 0.15 <= sum(share[c] for c in JUDICIAL) <= 0.20  # judicial harassment
    threats = share["A09"] + share["A10"] + share["A11"] + share["A19"]
    assert threats >= 0.3
    assert len(share) >= 25


def test_digital_attacks_rise_every_year(demo: Generated) -> None:
    per_year: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for incident in demo.incidents:
        for act in incident["acts"]:
            per_year[year_of(incident)][0] += 1
            per_year[year_of(incident)][1] += act["act_type"] == "A20"
    shares = [digital / total for year, (total, digital) in sorted(per_year.items())]
    assert all(later > earlier for earlier, later in itertools.pairwise(shares))
    assert shares[0] < 0.05 < 0.1 < shares[-1]
    assert all(a["modality"] == "online" for a in acts_of(demo) if a["act_type"] == "A20")


def test_collective_attacks_are_common_where_they_should_be(demo: Generated) -> None:
    by_id = dict(zip(demo.ids, demo.defenders, strict=True))
    for incident in demo.incidents:
        collective = [a for a in incident["acts"] if a.get("collective")]
        for act in collective:
            assert act["people_affected"] > 1
        if incident["counting_unit"] in ("group", "community"):
            assert collective or len({a["victim_defender_id"] for a in incident["acts"]}) > 1

    def collective_share(sector: str) -> float:
        mine = [
            r
            for r in demo.incidents
            if sector in by_id[r["acts"][0]["victim_defender_id"]]["sectors"]
        ]
        hits = [r for r in mine if r["counting_unit"] in ("group", "community")]
        return len(hits) / len(mine)

    for sector in ("land", "indigenous_peoples", "environment"):
        assert 0.4 <= collective_share(sector) <= 0.7, sector
    assert collective_share("journalism_free_expression") < 0.3


def test_family_members_are_targeted(demo: Generated) -> None:
    close = {
        person["id"]: (defender_id, person["relation"])
        for defender_id, record in zip(demo.ids, demo.defenders, strict=True)
        for person in (
            {**p, "id": f"cp{int(defender_id[3:]):04d}-{k}"}
            for k, p in enumerate(record.get("close_people") or [])
        )
    }
    acts = acts_of(demo)
    family = [a for a in acts if a["target_relation"] in FAMILY]
    assert 0.05 <= len(family) / len(acts) <= 0.10
    for act in family:
        owner, relation = close[act["victim_person_id"]]
        assert owner == act["victim_defender_id"]
        assert relation == act["target_relation"]


def test_gender_lens_on_attacks_against_women(demo: Generated) -> None:
    women = {
        i
        for i, r in zip(demo.ids, demo.defenders, strict=True)
        if r.get("gender_identity") == "woman"
    }
    acts = [a for a in acts_of(demo) if a["victim_defender_id"] in women]
    gendered = [a for a in acts if a.get("gender_specific") == "yes"]
    assert 0.25 <= len(gendered) / len(acts) <= 0.55
    features = Counter(f for a in gendered for f in a["gender_features"])
    for feature in ("sexualised_content", "rape_threat", "reputation_morality_honour",
                    "motherhood_family_role", "children_or_partner_targeted"):  # fmt: skip
        assert features[feature] >= 20, feature
    men = {
        i
        for i, r in zip(demo.ids, demo.defenders, strict=True)
        if r.get("gender_identity") == "man"
    }
    men_acts = [a for a in acts_of(demo) if a["victim_defender_id"] in men]
    men_gendered = [a for a in men_acts if a.get("gender_specific") == "yes"]
    assert len(men_gendered) / len(men_acts) < len(gendered) / len(acts) / 2


def test_perpetrators_sources_interventions(demo: Generated) -> None:
    perpetrators = Counter(p["perpetrator_type"] for r in demo.incidents for p in r["perpetrators"])
    assert len(perpetrators) >= 15
    degrees = Counter(inv["degree"] for a in acts_of(demo) for inv in a.get("involvements", []))
    assert {"carried_out", "ordered", "suspected", "failed_to_protect"} <= set(degrees)
    assert all(r["sources"] for r in demo.incidents)
    reliability = Counter(s["reliability"] for r in demo.incidents for s in r["sources"])
    assert len(reliability) >= 5
    with_interventions = [r for r in demo.incidents if r.get("interventions")]
    assert 0.15 <= len(with_interventions) / len(demo.incidents) <= 0.6
    assert any(a.get("business_company") for a in acts_of(demo))


def test_titles_and_narratives_read_like_documentation(demo: Generated) -> None:
    spanish = [r for r in demo.incidents if " contra " in r["title"] or " de " in r["title"]]
    assert 0.15 <= len(spanish) / len(demo.incidents) <= 0.6
    for record in demo.incidents:
        text = record["narrative"]
        sentences = [s for s in text.replace("?", ".").split(". ") if s]
        assert 2 <= len(sentences) <= 5, text
        assert "{" not in text and "}" not in text
    assert len({r["narrative"] for r in demo.incidents}) == len(demo.incidents)


def test_marker_word_is_only_in_a_few_narratives(demo: Generated) -> None:
    marked = [r for r in demo.incidents if MARKER_WORD in r["narrative"].lower()]
    assert 3 <= len(marked) <= 10
    everything_else = json.dumps(
        [{k: v for k, v in r.items() if k != "narrative"} for r in demo.incidents] + demo.defenders,
        ensure_ascii=False,
    ).lower()
    assert MARKER_WORD not in everything_else


def test_chained_events_point_backwards_to_the_same_victim(demo: Generated) -> None:
    links = demo_links(random.Random(1), demo.incidents)
    assert 20 <= len(links) <= 60
    for later, earlier, relation in links:
        assert earlier < later
        assert relation in ("follows", "part_of")
        victim = demo.incidents[later]["acts"][0]["victim_defender_id"]
        assert demo.incidents[earlier]["acts"][0]["victim_defender_id"] == victim


def test_years_follow_the_reference_date() -> None:
    small = generate(seed=3, size=DemoSize(defenders=60, incidents=300), today=date(2031, 3, 15))
    years = {year_of(r) for r in small.incidents}
    assert min(years) == 2025
    assert max(years) == 2031


# -- defenders -----------------------------------------------------------------------------
def test_defender_profiles(demo: Generated) -> None:
    records = demo.defenders
    kinds = Counter(r["kind"] for r in records)
    assert kinds["person"] > 0.7 * len(records)
    assert kinds["collective"] >= 30 and kinds["organisation"] >= 15
    assert len({r["display_name"] for r in records}) == len(records)

    people = [r for r in records if r["kind"] == "person"]
    genders = Counter(r.get("gender_identity") for r in people)
    assert genders["woman"] + genders["man"] > 0.8 * len(people)
    assert genders["woman"] > genders["man"]
    assert genders["trans_woman"] and genders["non_binary"] and genders["prefer_not_to_say"]

    sectors = Counter(s for r in records for s in r["sectors"])
    assert len(sectors) >= 18
    top = {s for s, _ in sectors.most_common(6)}
    assert {"land", "environment", "womens_rights"} <= top

    assert sum(1 for r in people if r.get("aliases")) >= 30
    assert sum(1 for r in people if r.get("close_people")) >= 0.4 * len(people)
    relations = Counter(p["relation"] for r in people for p in r.get("close_people") or [])
    assert {"child", "partner", "colleague"} <= set(relations)
    assert all(r.get("consents") for r in people)
    assert sum(1 for r in people if r.get("organisations")) >= 0.5 * len(people)

    # Names come from several languages and regions.
    names = " ".join(r["display_name"] for r in records)
    samples = {
        "Spanish": ("Rodríguez", "Resguardo Indígena", "Comunidad", "Fundación"),
        "Portuguese": ("Comunidade", "Coletivo", "Aldeia", "Instituto", "Nascimento"),
        "Filipino": ("Samahan", "Lumad", "Dalisay", "Magbanua", "Dimaculangan"),
        "Arabic": ("Al-", "Haddad", "Khalil", "Darwish", "Mansour"),
        "French": ("Association", "Collectif", "Mukendi", "Ndiaye", "Étienne"),
        "English": ("Collective", "Committee", "Union", "Network", "Centre"),
    }
    for language, tokens in samples.items():
        assert any(token in names for token in tokens), language
    countries = {r["country"] for r in people}
    assert {"CO", "BR", "PH", "EG", "KE", "RU"} <= countries


# -- a real registry -----------------------------------------------------------------------
def test_populate_a_small_registry(registry: Registry) -> None:
    calls: list[tuple[str, int, int]] = []
    size = DemoSize(defenders=60, incidents=300)
    counts = populate(registry, size=size, progress=lambda *call: calls.append(call))

    assert registry.is_demo
    assert counts["defenders"] == registry.defenders.count() == 60
    assert counts["incidents"] == registry.incidents.count() == 300
    assert counts["acts"] >= 300 and counts["links"] >= 3
    assert ("defenders", 60, 60) in calls and ("incidents", 300, 300) in calls

    found = registry.incidents.search(MARKER_WORD)
    assert 3 <= len(found) <= 10
    for summary in found:
        assert MARKER_WORD in (registry.incidents.get(summary.id).narrative or "").lower()
    assert {s.id for s in registry.incidents.search("Quetzalcoatl")} == {s.id for s in found}

    # Each incident sits in the case of its first victim; family acts name real close people.
    by_defender = {
        d.id: d for d in (registry.defenders.get(s.id) for s in registry.defenders.list())
    }
    summaries = registry.incidents.list()
    linked = 0
    for summary in summaries:
        incident = registry.incidents.get(summary.id)
        first = by_defender[incident.acts[0].victim_defender_id or ""]
        assert incident.case_id == first.case_id
        for act in incident.acts:
            if act.victim_person_id:
                owner = by_defender[act.victim_defender_id or ""]
                assert act.victim_person_id in {p.id for p in owner.close_people}
        linked += bool(incident.links)
    assert linked == counts["links"]


def test_populate_refuses_nothing_silently(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import amparo.demo as demo_module

    real = demo_module.demo_incidents

    def broken(*args: Any, **kwargs: Any) -> Any:
        for n, record in enumerate(real(*args, **kwargs)):
            yield {**record, "country": "XX"} if n == 3 else record

    monkeypatch.setattr(demo_module, "demo_incidents", broken)
    with pytest.raises(demo_module.DemoError, match="country"):
        populate(registry, size=DemoSize(defenders=20, incidents=40))
