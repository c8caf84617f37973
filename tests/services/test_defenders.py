"""DefenderService: profiles, their versions, search, filters and merging duplicates."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest

from amparo.domain.models import parse_defender
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.registry import Registry
from amparo.services.defenders import DefenderFilter
from amparo.services.incidents import IncidentFilter
from tests.factories import defender, incident

PG = bool(os.environ.get("AMPARO_TEST_DATABASE_URL"))


# Package bugs these tests expose (strict: they start failing once the bug is fixed).
def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: without_ids(v)
            for k, v in value.items()
            if k not in ("id", "case_id", "version", "merged_into")
        }
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def ids(rows: list[Any]) -> set[str]:
    return {r.id for r in rows}


def test_add_get_round_trip(registry: Registry) -> None:
    data = defender(
        sexual_orientation="lesbian",
        birth_year=1972,
        age_band="45_59",
        nationality="HN",
        notes="Coordinator of the community radio",
        confidential=True,
        close_people=[
            {"relation": "child", "name": "Laura Flores", "notes": "Studies in Tegucigalpa"},
            {"relation": "partner", "name": "Salvador Zúniga"},
        ],
        consents=[
            {"purpose": "documentation", "granted": True, "recorded_on": "2024-03-01"},
            {
                "purpose": "publication",
                "granted": False,
                "recorded_on": "2024-03-01",
                "name_choice": "anonymous",
                "expires_on": "2029-03-01",
                "note": "Ask again",
            },
        ],
    )
    added = registry.defenders.add(copy.deepcopy(data))
    assert added.id and added.case_id and added.version == 1
    got = registry.defenders.get(added.id)
    expected = parse_defender(data, registry.vocab, registry.clock.today()).to_dict()
    assert without_ids(got.to_dict()) == without_ids(expected)
    assert got.case_id == added.case_id
    assert got.close_people[1].name == "Salvador Zúniga"
    assert all(p.id for p in got.close_people)
    assert registry.defenders.count() == 1


def test_bad_profile_is_refused(registry: Registry) -> None:
    with pytest.raises(ValidationError) as info:
        registry.defenders.add(defender(country="ZZ"))
    assert info.value.field == "country"
    assert registry.defenders.count() == 0
    with pytest.raises(NotFound):
        registry.defenders.add(defender(), case_id="9" * 32)
    assert registry.defenders.count() == 0


def test_amend_history_diff_restore(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    original = without_ids(registry.defenders.get(d.id).to_dict())
    amended = registry.defenders.amend(
        d.id, {"region": "Lempira", "aliases": ["La Maestra", "Doña B"]}, expected_version=1
    )
    assert amended.version == 2
    got = registry.defenders.get(d.id)
    assert got.region == "Lempira"
    assert got.aliases == ["La Maestra", "Doña B"]
    assert got.close_people[0].id == d.close_people[0].id  # close people keep their ids
    history = registry.defenders.history(d.id)
    assert [(v.version, v.action) for v in history] == [(1, "create"), (2, "amend")]
    assert history[1].changed_fields == ["aliases", "region"]
    assert "Lempira" not in repr([v.to_dict() for v in history])
    changes = {c.field: (c.before, c.after) for c in registry.defenders.diff(d.id, 1, 2)}
    assert changes == {"region": ("Intibucá", "Lempira"), "aliases[1]": (None, "Doña B")}
    with pytest.raises(Conflict):
        registry.defenders.amend(d.id, {"region": "Copán"}, expected_version=1)
    restored = registry.defenders.restore(d.id, 1)
    assert restored.version == 3
    assert without_ids(registry.defenders.get(d.id).to_dict()) == original
    assert registry.defenders.history(d.id)[-1].action == "restore"
    assert registry.defenders.search("doña") == []
    assert ids(registry.defenders.search("maestra")) == {d.id}


def test_amend_bad_field_names_it(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    with pytest.raises(ValidationError) as info:
        registry.defenders.amend(d.id, {"consents": [{"purpose": "x", "recorded_on": "2024-1"}]})
    assert info.value.field.startswith("consents[0].")
    assert registry.defenders.get(d.id).version == 1


def test_delete(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    registry.defenders.delete(d.id)
    with pytest.raises(NotFound):
        registry.defenders.get(d.id)
    assert registry.defenders.list() == []
    assert registry.defenders.count() == 0
    assert registry.defenders.search("berta") == []
    assert [v.action for v in registry.defenders.history(d.id)] == ["create", "delete"]


def test_delete_and_restore(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    registry.defenders.delete(d.id)
    back = registry.defenders.restore(d.id, 1)
    assert back.version == 3
    assert registry.defenders.get(d.id).display_name == "Berta Flores"
    assert ids(registry.defenders.search("berta")) == {d.id}


def test_deleting_a_victim_is_a_conflict(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    registry.incidents.add(
        incident(acts=[{"act_type": "A09", "victim_defender_id": d.id}], perpetrators=[])
    )
    with pytest.raises(Conflict):
        registry.defenders.delete(d.id)
    assert registry.defenders.get(d.id).version == 1


# -- list and search ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(module_registry: Registry) -> tuple[Registry, dict[str, str]]:
    """Four profiles in one vault, for the read-only filter and search tests."""
    return module_registry, build_four(module_registry)


def build_four(registry: Registry) -> dict[str, str]:
    add = registry.defenders.add
    return {
        "berta": add(defender()).id,
        "pedro": add(
            defender(
                display_name="Pedro Canul",
                legal_name=None,
                aliases=["El Cronista"],
                gender_identity="man",
                sex="male",
                country="MX",
                sectors=["journalism_free_expression"],
                organisations=["Radio Comunitaria Xpujil"],
                close_people=[{"relation": "partner", "name": "Imelda Chan"}],
            )
        ).id,
        "luna": add(
            defender(
                display_name="Luna Ríos",
                legal_name=None,
                aliases=[],
                gender_identity="trans_woman",
                country="CO",
                sectors=["lgbtiq_rights", "land"],
                organisations=["Colectiva Arcoíris"],
                close_people=[],
            )
        ).id,
        "org": add(
            defender(
                kind="organisation",
                display_name="Asociación Tierra Viva",
                legal_name=None,
                aliases=[],
                gender_identity=None,
                sex=None,
                country="CO",
                sectors=["environment"],
                organisations=[],
                close_people=[],
            )
        ).id,
    }


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, {"berta", "pedro", "luna", "org"}),
        ({"country": "CO"}, {"luna", "org"}),
        ({"country": "mx"}, {"pedro"}),
        ({"gender_identity": "woman"}, {"berta"}),
        ({"gender_identity": "trans_woman"}, {"luna"}),
        ({"sector": "land"}, {"berta", "luna"}),
        ({"sector": "environment"}, {"org"}),
        ({"kind": "organisation"}, {"org"}),
        ({"kind": "person", "country": "CO"}, {"luna"}),
        ({"region": "Intibucá"}, {"berta", "pedro", "luna", "org"}),
        ({"sector": "peace"}, set()),
    ],
)
def test_list_filters(
    shared: tuple[Registry, dict[str, str]], criteria: dict[str, Any], expected: set[str]
) -> None:
    registry, four = shared
    rows = registry.defenders.list(DefenderFilter(**criteria))
    assert ids(rows) == {four[k] for k in expected}


def test_list_shape_and_pages(shared: tuple[Registry, dict[str, str]]) -> None:
    registry, four = shared
    rows = registry.defenders.list()
    luna = next(r for r in rows if r.id == four["luna"])
    assert luna.display_name == "Luna Ríos"
    assert luna.sectors == ["lgbtiq_rights", "land"]
    assert luna.to_dict()["kind"] == "person"
    first = registry.defenders.list(DefenderFilter(limit=3))
    rest = registry.defenders.list(DefenderFilter(limit=3, offset=3))
    assert [r.id for r in first + rest] == [r.id for r in rows]
    assert registry.defenders.list(DefenderFilter(case_id=rows[0].case_id))[0].id == rows[0].id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cronista", {"pedro"}),  # an alias
        ("xpujil", {"pedro"}),  # an organisation
        ("imelda", {"pedro"}),  # a close person's name
        ("laura", {"berta"}),  # the factory's close person
        ("caceres", {"berta"}),  # legal name, accent-insensitive
        ("ARCOIRIS", {"luna"}),
        ("tierra viva", {"org"}),
        ("tierra pedro", set()),
        ("nobody", set()),
    ],
)
def test_search(shared: tuple[Registry, dict[str, str]], text: str, expected: set[str]) -> None:
    registry, four = shared
    assert ids(registry.defenders.search(text)) == {four[k] for k in expected}


def test_search_combined_with_filters(shared: tuple[Registry, dict[str, str]]) -> None:
    registry, four = shared
    rows = registry.defenders.list(DefenderFilter(text="colectiva", country="MX"))
    assert rows == []
    rows = registry.defenders.list(DefenderFilter(text="colectiva", country="CO"))
    assert ids(rows) == {four["luna"]}


# -- merge ----------------------------------------------------------------------------------


def test_merge(registry: Registry) -> None:
    keep = registry.defenders.add(defender())
    dup = registry.defenders.add(
        defender(
            display_name="B. Flores",
            legal_name="Berta I. Flores",
            aliases=["Bertita"],
            sectors=["environment", "land"],
            organisations=["COPINH"],
            close_people=[{"relation": "partner", "name": "Salvador Zúniga"}],
            nationality="HN",
            notes="Second intake",
        )
    )
    inc = registry.incidents.add(
        incident(
            acts=[
                {
                    "act_type": "A09",
                    "victim_defender_id": dup.id,
                    "victim_person_id": dup.close_people[0].id,
                }
            ],
            perpetrators=[],
        )
    )
    merged = registry.defenders.merge(keep.id, dup.id)
    assert merged.id == keep.id
    assert merged.version == 2

    got = registry.defenders.get(keep.id)
    assert got.display_name == "Berta Flores"
    assert set(got.aliases) == {"La Maestra", "B. Flores", "Bertita", "Berta I. Flores"}
    assert got.sectors == ["land", "indigenous_peoples", "environment"]
    assert got.organisations == ["Consejo Cívico de Organizaciones", "COPINH"]
    assert got.nationality == "HN"  # filled from the duplicate
    assert {p.name for p in got.close_people} == {"Laura Flores", "Salvador Zúniga"}
    assert len(got.consents) == 2

    # Acts of the duplicate now point at the kept profile (and its copy of the close person).
    act = registry.incidents.get(inc.id).acts[0]
    assert act.victim_defender_id == keep.id
    salvador = next(p for p in got.close_people if p.name == "Salvador Zúniga")
    assert act.victim_person_id == salvador.id
    assert ids(registry.incidents.list(IncidentFilter(defender_id=keep.id))) == {inc.id}
    assert registry.incidents.list(IncidentFilter(defender_id=dup.id)) == []

    # The duplicate is hidden from lists and search.
    assert ids(registry.defenders.list()) == {keep.id}
    assert registry.defenders.count() == 1
    assert ids(registry.defenders.search("bertita")) == {keep.id}

    keep_history = registry.defenders.history(keep.id)
    dup_history = registry.defenders.history(dup.id)
    assert dup.id in keep_history[-1].action and "merge" in keep_history[-1].action
    assert keep.id in dup_history[-1].action and "merge" in dup_history[-1].action
    assert "merged_into" in dup_history[-1].changed_fields
    assert "aliases" in keep_history[-1].changed_fields
    assert dup_history[-1].version == 2

    # New incidents naming the duplicate follow it to the kept profile.
    later = registry.incidents.add(
        incident(acts=[{"act_type": "A10", "victim_defender_id": dup.id}], perpetrators=[])
    )
    assert later.acts[0].victim_defender_id == keep.id
    assert later.case_id == keep.case_id


def test_merged_duplicate_stays_visible_with_include_merged(registry: Registry) -> None:
    keep = registry.defenders.add(defender())
    dup = registry.defenders.add(defender(display_name="B. Flores"))
    registry.defenders.merge(keep.id, dup.id)
    everyone = registry.defenders.list(DefenderFilter(include_merged=True))
    assert ids(everyone) == {keep.id, dup.id}
    shown = next(r for r in everyone if r.id == dup.id)
    assert shown.merged_into == keep.id
    assert shown.display_name == "B. Flores"
    assert registry.defenders.get(dup.id).merged_into == keep.id


def test_merge_into_itself_is_refused(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    with pytest.raises(ValidationError):
        registry.defenders.merge(d.id, d.id)
    assert registry.defenders.get(d.id).version == 1


def test_merge_already_merged_is_a_conflict(registry: Registry) -> None:
    a = registry.defenders.add(defender(display_name="A one"))
    b = registry.defenders.add(defender(display_name="B two"))
    c = registry.defenders.add(defender(display_name="C three"))
    registry.defenders.merge(a.id, b.id)
    with pytest.raises(Conflict):
        registry.defenders.merge(a.id, b.id)
    with pytest.raises(Conflict):
        registry.defenders.merge(c.id, b.id)
    with pytest.raises(Conflict):
        registry.defenders.merge(b.id, c.id)
    assert registry.defenders.get(c.id).version == 1
    assert registry.defenders.get(c.id).merged_into is None


def test_merge_unknown_is_not_found(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    with pytest.raises(NotFound):
        registry.defenders.merge(d.id, "0" * 32)


def test_resolve_prefix(registry: Registry) -> None:
    d = registry.defenders.add(defender())
    assert registry.defenders.resolve(d.id[-8:]) == d.id
    with pytest.raises(NotFound):
        registry.defenders.resolve("abcdef12" if not d.id.startswith("abcdef12") else "12345678")
