"""IncidentService: storing, filtering, searching and versioning incidents."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from amparo.domain.models import parse_incident
from amparo.errors import Conflict, NotFound, ValidationError, ValidationErrors
from amparo.registry import Registry
from amparo.services.incidents import IncidentFilter
from amparo.store import schema
from tests.factories import defender, incident


def fields_of(exc: ValidationError) -> list[str]:
    return [e.field for e in exc.errors] if isinstance(exc, ValidationErrors) else [exc.field]


def row_counts(registry: Registry) -> dict[str, int]:
    """Rows in every table of the vault database."""
    with registry.store.read() as conn:
        present = set(sa.inspect(conn).get_table_names())
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in schema.metadata.tables.items()
            if name in present
        }


def without_ids(value: Any) -> Any:
    """A record's JSON shape less the bookkeeping the service assigns."""
    if isinstance(value, dict):
        return {
            k: without_ids(v) for k, v in value.items() if k not in ("id", "case_id", "version")
        }
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def ids(rows: list[Any]) -> set[str]:
    return {r.id for r in rows}


# -- round trip -----------------------------------------------------------------------------


def test_add_get_round_trips_every_field(registry: Registry) -> None:
    victim = registry.defenders.add(defender())
    earlier = registry.incidents.add(incident(title="Earlier threat"))
    data = incident(
        title="Raid on the radio",
        narrative="Long testimony. Ñandú, “quotes”, emoji 🌱 and\nnew lines.",
        date_start="2024-05",
        date_precision="estimate",
        date_end="2024-06-30",
        country="hn",
        region="Intibucá",
        place="La Esperanza",
        location_precision="exact",
        violation_status="likely",
        counting_unit="family",
        confidential=True,
        notes={"date_start": "The month is an estimate", "place": "Near the market"},
        perpetrators=[
            {"perpetrator_type": "private_security", "name": "Guard Unit 7", "description": "Blue"},
            {"perpetrator_type": "company_transnational", "name": None, "description": "Owner"},
        ],
        acts=[
            {
                "act_type": "A09",
                "victim_defender_id": victim.id,
                "victim_person_id": victim.close_people[0].id,
                "victim_description": "Her daughter",
                "act_date": "2024-05-20",
                "gender_specific": "yes",
                "gender_features": ["rape_threat", "children_or_partner_targeted"],
                "target_relation": "child",
                "modality": "both",
                "collective": True,
                "people_affected": 4,
                "previously_threatened": "yes",
                "business_company": "Hidro Norte S.A.",
                "business_sector": "energy",
                "involvements": [
                    {"perpetrator": 0, "degree": "carried_out"},
                    {"perpetrator": 1, "degree": "ordered"},
                ],
            },
            {"act_type": "A18", "gender_specific": "no", "modality": "in_person"},
        ],
        sources=[
            {
                "source_type": "witness_testimony",
                "reliability": "likely_reliable",
                "identity": "Neighbour",
                "description": "Saw the car",
                "obtained_on": "2024-06-02",
            }
        ],
        interventions=[
            {
                "status": "continuing",
                "priority": "urgent",
                "intervention_date": "2024-06-03",
                "intervener": "Legal team",
                "response": "Complaint filed",
            }
        ],
        links=[{"related_id": earlier.id, "relation": "follows"}],
    )
    added = registry.incidents.add(copy.deepcopy(data))
    assert added.id and len(added.id) == 32
    assert added.version == 1
    got = registry.incidents.get(added.id)
    assert got.id == added.id
    assert got.case_id == victim.case_id
    assert got.version == 1
    expected = parse_incident(data, registry.vocab, registry.clock.today()).to_dict()
    assert without_ids(got.to_dict()) == without_ids(expected)
    # spot checks of what the comparison covers
    assert got.narrative == data["narrative"]
    assert got.date_start.value == date(2024, 5, 1)
    assert got.date_start.precision == "estimate"
    assert got.acts[0].victim_person_id == victim.close_people[0].id
    assert got.acts[0].involvements[1].degree == "ordered"
    assert got.links[0].related_id == earlier.id
    assert got.notes["place"] == "Near the market"


def test_get_unknown_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFound):
        registry.incidents.get("0" * 32)


def test_resolve_prefix(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    assert registry.incidents.resolve(inc.id[-8:]) == inc.id
    assert registry.incidents.resolve(inc.id.upper()) == inc.id
    with pytest.raises(ValidationError):
        registry.incidents.resolve(inc.id[:3])
    with pytest.raises(ValidationError):
        registry.incidents.resolve("not-hex!")


# -- filters --------------------------------------------------------------------------------


@dataclass
class Fixture:
    incidents: dict[str, str]  # key -> id
    defenders: dict[str, Any]
    explicit_case: str

    def keys(self, rows: list[Any]) -> set[str]:
        by_id = {v: k for k, v in self.incidents.items()}
        return {by_id[r.id] for r in rows}


def _act(act_type: str, victim: str | None = None, **extra: Any) -> dict[str, Any]:
    act: dict[str, Any] = {"act_type": act_type, **extra}
    if victim:
        act["victim_defender_id"] = victim
    act.setdefault("involvements", [{"perpetrator": 0, "degree": "carried_out"}])
    return act


def build_eight(registry: Registry) -> Fixture:
    add_d = registry.defenders.add
    d = {
        "woman": add_d(defender(display_name="Rosa Tzul", gender_identity="woman",
                                sectors=["land", "environment"], country="HN")),
        "man": add_d(defender(display_name="Pedro Canul", gender_identity="man", sex="male",
                              sectors=["journalism_free_expression"], country="MX")),
        "trans": add_d(defender(display_name="Luna Ríos", gender_identity="trans_woman",
                                sectors=["lgbtiq_rights"], country="CO")),
        "org": add_d(defender(kind="organisation", display_name="Asociación Tierra Viva",
                              gender_identity=None, sex=None, sectors=["land"], country="CO")),
    }  # fmt: skip
    explicit_case = registry.cases.create()

    def rec(
        title: str, country: str, region: str, start: str, perp: str, acts: list[Any], **kw: Any
    ) -> dict[str, Any]:
        return incident(
            title=title, country=country, region=region, date_start=start,
            narrative=kw.pop("narrative", "Statement recorded."), place=kw.pop("place", None),
            perpetrators=[{"perpetrator_type": perp, **kw.pop("perp_extra", {})}],
            acts=acts, **kw,
        )  # fmt: skip

    w, m, t, o = (d[k].id for k in ("woman", "man", "trans", "org"))
    records = {
        "k1": rec("Threat at assembly", "HN", "Intibucá", "2024-05-14", "private_security",
                  [_act("A09", w, gender_features=["rape_threat"], modality="in_person")],
                  narrative="Two men on a motorbike waited outside the radio station."),
        "k2": rec("Smear posts", "HN", "Cortés", "2023-03", "media_outlets",
                  [_act("A19", w, gender_features=["reputation_morality_honour"],
                        modality="online")]),
        "k3": rec("Killing of a reporter", "MX", "Oaxaca", "2022", "organised_crime",
                  [_act("A01", m, gender_specific="no")], place="Mercado Zapotal"),
        "k4": rec("Arrest at protest", "MX", "Guerrero", "2024-01-20", "police",
                  [_act("A13", m)], place="Plaza CACERES"),
        "k5": rec("Account hacked", "CO", "Cauca", "2024-08-02", "anonymous_online_accounts",
                  [_act("A20", t, gender_features=["outing"], modality="online")],
                  perp_extra={"name": "Escuadrón Fénix"}),
        "k6": rec("Leaflet threats", "CO", "Cauca", "2021-06-30", "paramilitaries_vigilantes",
                  [_act("A10", o, gender_specific="no", modality="both",
                        target_relation="organisation")]),
        "k7": rec("Criminal charges", "GT", "Petén", "2020-11-11", "judiciary_prosecutors",
                  [_act("A15", w)], case_id=explicit_case),
        "k8": rec("Beating and burning", "GT", "Petén", "2024-02-29", "armed_forces",
                  [_act("A06", t), _act("A23", None, victim_description="Her house")]),
    }  # fmt: skip
    created = {k: registry.incidents.add(v).id for k, v in records.items()}
    return Fixture(created, d, explicit_case)


@pytest.fixture(scope="module")
def shared(module_registry: Registry) -> tuple[Registry, Fixture]:
    """One vault holding the eight incidents, for the read-only filter and search tests."""
    return module_registry, build_eight(module_registry)


FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"}),
    ({"country": "HN"}, {"k1", "k2"}),
    ({"country": "co"}, {"k5", "k6"}),
    ({"region": "Cauca"}, {"k5", "k6"}),
    ({"region": "Oaxaca"}, {"k3"}),
    ({"act_type": "A23"}, {"k8"}),
    ({"act_type": "A09"}, {"k1"}),
    ({"year": 2024}, {"k1", "k4", "k5", "k8"}),
    ({"year": 2022}, {"k3"}),
    ({"date_from": date(2023, 1, 1), "date_to": date(2024, 2, 29)}, {"k2", "k4", "k8"}),
    ({"date_from": date(2024, 3, 1)}, {"k1", "k5"}),
    ({"date_to": date(2021, 6, 30)}, {"k6", "k7"}),
    ({"gender_identity": "woman"}, {"k1", "k2", "k7"}),
    ({"gender_identity": "trans_woman"}, {"k5", "k8"}),
    ({"sector": "land"}, {"k1", "k2", "k6", "k7"}),
    ({"sector": "journalism_free_expression"}, {"k3", "k4"}),
    ({"perpetrator_type": "police"}, {"k4"}),
    ({"perpetrator_type": "media_outlets"}, {"k2"}),
    ({"modality": "online"}, {"k2", "k5"}),
    ({"modality": "both"}, {"k6"}),
    ({"gender_feature": "rape_threat"}, {"k1"}),
    ({"gender_feature": "outing"}, {"k5"}),
    ({"gender_specific": "yes"}, {"k1", "k2", "k5"}),
    ({"gender_specific": "no"}, {"k3", "k6"}),
    ({"gender_specific": "unknown"}, {"k4", "k7", "k8"}),
    # combined
    ({"country": "CO", "modality": "online"}, {"k5"}),
    ({"year": 2024, "gender_identity": "trans_woman"}, {"k5", "k8"}),
    ({"year": 2024, "gender_identity": "trans_woman", "act_type": "A06"}, {"k8"}),
    ({"sector": "land", "country": "CO"}, {"k6"}),
    ({"country": "MX", "perpetrator_type": "police", "year": 2024}, {"k4"}),
    ({"country": "HN", "year": 2022}, set()),
    ({"act_type": "A01", "modality": "online"}, set()),
]


@pytest.mark.parametrize(
    ("criteria", "expected"), FILTER_CASES, ids=[str(c) for c, _ in FILTER_CASES]
)
def test_list_filters(
    shared: tuple[Registry, Fixture], criteria: dict[str, Any], expected: set[str]
) -> None:
    registry, eight = shared
    rows = registry.incidents.list(IncidentFilter(**criteria))
    assert eight.keys(rows) == expected
    assert len(rows) == len(expected)


def test_filters_by_case_and_defender(shared: tuple[Registry, Fixture]) -> None:
    registry, eight = shared
    woman, man = eight.defenders["woman"], eight.defenders["man"]
    list_ = registry.incidents.list
    assert eight.keys(list_(IncidentFilter(case_id=woman.case_id))) == {"k1", "k2"}
    assert eight.keys(list_(IncidentFilter(case_id=eight.explicit_case))) == {"k7"}
    assert eight.keys(list_(IncidentFilter(defender_id=man.id))) == {"k3", "k4"}
    assert eight.keys(list_(IncidentFilter(defender_id=woman.id))) == {"k1", "k2", "k7"}
    trans = eight.defenders["trans"]
    # act-level conditions hold for one and the same act
    both = IncidentFilter(defender_id=trans.id, act_type="A23")
    assert list_(both) == []
    assert eight.keys(list_(IncidentFilter(defender_id=trans.id, act_type="A06"))) == {"k8"}


def test_list_summary_shape_and_order(shared: tuple[Registry, Fixture]) -> None:
    registry, eight = shared
    rows = registry.incidents.list()  # newest first
    order = ["k5", "k1", "k8", "k4", "k2", "k3", "k6", "k7"]
    assert [r.id for r in rows] == [eight.incidents[k] for k in order]
    k8 = next(r for r in rows if r.id == eight.incidents["k8"])
    assert k8.act_types == ["A06", "A23"]
    assert k8.title == "Beating and burning"
    assert k8.country == "GT"
    k2 = next(r for r in rows if r.id == eight.incidents["k2"])
    assert (k2.date_start, k2.date_precision) == ("2023-03", "unknown_day")
    assert set(k2.to_dict()) >= {"id", "case_id", "title", "date_start", "act_types"}


def test_limit_and_offset(shared: tuple[Registry, Fixture]) -> None:
    registry, eight = shared
    everything = [r.id for r in registry.incidents.list()]
    pages = [
        [r.id for r in registry.incidents.list(IncidentFilter(limit=3, offset=off))]
        for off in (0, 3, 6)
    ]
    assert [len(p) for p in pages] == [3, 3, 2]
    assert pages[0] + pages[1] + pages[2] == everything
    assert registry.incidents.list(IncidentFilter(limit=5, offset=8)) == []
    country = registry.incidents.list(IncidentFilter(country="GT", limit=1, offset=1))
    assert [r.id for r in country] == [eight.incidents["k7"]]


# -- search ---------------------------------------------------------------------------------

SEARCHES: list[tuple[str, set[str]]] = [
    ("motorbike", {"k1"}),  # only in a narrative
    ("zapotal", {"k3"}),  # only in a place
    ("FENIX", {"k5"}),  # only a perpetrator's name (accents and case ignored)
    ("cáceres", {"k4"}),  # the place says CACERES
    ("motorbike radio", {"k1"}),  # every word must occur
    ("motorbike zapotal", set()),
    ("cauca", {"k5", "k6"}),  # the region is searchable too
    ("hacked", {"k5"}),  # a title word
    ("nonexistentword", set()),
    ("the", set()),  # a stop word alone matches nothing
]


@pytest.mark.parametrize(("text", "expected"), SEARCHES)
def test_search(shared: tuple[Registry, Fixture], text: str, expected: set[str]) -> None:
    registry, eight = shared
    assert eight.keys(registry.incidents.search(text)) == expected


def test_search_with_filters_and_pages(shared: tuple[Registry, Fixture]) -> None:
    registry, eight = shared
    hits = registry.incidents.search("cauca", IncidentFilter(year=2024))
    assert eight.keys(hits) == {"k5"}
    paged = registry.incidents.list(IncidentFilter(text="statement recorded", limit=2))
    assert len(paged) == 2


def test_search_does_not_see_other_entities(shared: tuple[Registry, Fixture]) -> None:
    registry, eight = shared
    # "Rosa" is a defender's name, not in any incident text.
    assert registry.incidents.search("rosa") == []
    assert [d.id for d in registry.defenders.search("rosa")] == [eight.defenders["woman"].id]


# -- versions -------------------------------------------------------------------------------


def test_amend_history_diff(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    amended = registry.incidents.amend(
        inc.id, {"title": "Secret new title", "violation_status": "likely"}, expected_version=1
    )
    assert amended.version == 2
    got = registry.incidents.get(inc.id)
    assert got.version == 2
    assert got.title == "Secret new title"
    assert got.narrative == inc.narrative  # untouched fields survive
    assert got.acts[0].involvements == inc.acts[0].involvements
    history = registry.incidents.history(inc.id)
    assert [(v.version, v.action) for v in history] == [(1, "create"), (2, "amend")]
    assert history[1].changed_fields == ["title", "violation_status"]
    assert {"title", "acts", "country"} <= set(history[0].changed_fields)
    assert all(v.actor == "tester" for v in history)
    assert "Secret" not in repr([v.to_dict() for v in history])  # names, never values
    changes = {c.field: (c.before, c.after) for c in registry.incidents.diff(inc.id, 1, 2)}
    assert changes == {
        "title": (inc.title, "Secret new title"),
        "violation_status": ("confirmed", "likely"),
    }


def test_amend_keeps_search_index_current(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    registry.incidents.amend(inc.id, {"narrative": "Quetzal feathers were left at the door."})
    assert [r.id for r in registry.incidents.search("quetzal")] == [inc.id]
    assert registry.incidents.search("motorbike") == []


def test_amend_with_bad_field_changes_nothing(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    before = row_counts(registry)
    with pytest.raises(ValidationError) as info:
        registry.incidents.amend(inc.id, {"date_start": "2030-01-01"})
    assert info.value.field == "date_start"
    assert row_counts(registry) == before
    assert registry.incidents.get(inc.id).version == 1


def test_expected_version_mismatch_is_conflict(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    registry.incidents.amend(inc.id, {"title": "Second"})
    with pytest.raises(Conflict):
        registry.incidents.amend(inc.id, {"title": "Third"}, expected_version=1)
    assert registry.incidents.get(inc.id).title == "Second"
    assert len(registry.incidents.history(inc.id)) == 2


def test_restore_earlier_version(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    original = without_ids(registry.incidents.get(inc.id).to_dict())
    registry.incidents.amend(inc.id, {"title": "Changed", "acts": [{"act_type": "A11"}]})
    restored = registry.incidents.restore(inc.id, 1)
    assert restored.version == 3
    got = registry.incidents.get(inc.id)
    assert got.version == 3
    assert without_ids(got.to_dict()) == original
    assert [v.action for v in registry.incidents.history(inc.id)] == [
        "create",
        "amend",
        "restore",
    ]
    assert {c.field for c in registry.incidents.diff(inc.id, 1, 3)} == set()
    assert registry.incidents.list(IncidentFilter(act_type="A09"))[0].id == inc.id


def test_delete_then_restore(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    keep = registry.incidents.add(incident(title="Another"))
    original = without_ids(registry.incidents.get(inc.id).to_dict())
    registry.incidents.delete(inc.id)
    with pytest.raises(NotFound):
        registry.incidents.get(inc.id)
    assert registry.incidents.count() == 1
    assert ids(registry.incidents.search("motorbike")) == {keep.id}
    assert [v.action for v in registry.incidents.history(inc.id)] == ["create", "delete"]
    back = registry.incidents.restore(inc.id, 1)
    assert back.version == 3
    got = registry.incidents.get(inc.id)
    assert without_ids(got.to_dict()) == original
    assert got.case_id == inc.case_id
    assert registry.incidents.count() == 2
    assert ids(registry.incidents.search("motorbike")) == {inc.id, keep.id}
    assert [v.action for v in registry.incidents.history(inc.id)][-1] == "restore"


def test_restore_unknown_version(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    with pytest.raises(NotFound):
        registry.incidents.restore(inc.id, 9)
    with pytest.raises(NotFound):
        registry.incidents.history("f" * 32)


# -- bad input stores nothing ---------------------------------------------------------------


BAD_ADDS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown act type", incident(acts=[{"act_type": "A98"}], perpetrators=[]), "acts[0].act_type"),
    ("unknown country", incident(country="XX"), "country"),
    ("future date", incident(date_start="2030-02-01"), "date_start"),
    ("oversize narrative", incident(narrative="x" * 100_001), "narrative"),
    ("unknown victim", incident(acts=[{"act_type": "A09", "victim_defender_id": "d" * 32}],
                                perpetrators=[]), "acts[0].victim_defender_id"),
    ("unknown close person", incident(acts=[{"act_type": "A09", "victim_person_id": "e" * 32}],
                                      perpetrators=[]), "acts[0].victim_person_id"),
    ("unknown link", incident(links=[{"related_id": "f" * 32, "relation": "causes"}]),
     "links[0].related_id"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "field"), [pytest.param(d, f, id=n) for n, d, f in BAD_ADDS])
def test_bad_input_names_field_and_stores_nothing(
    registry: Registry, data: dict[str, Any], field: str
) -> None:
    registry.defenders.add(defender())
    before = row_counts(registry)
    with pytest.raises(ValidationError) as info:
        registry.incidents.add(copy.deepcopy(data))
    assert field in fields_of(info.value)
    assert row_counts(registry) == before
    assert registry.incidents.count() == 0


def test_several_reference_errors_reported_together(registry: Registry) -> None:
    data = incident(
        acts=[{"act_type": "A09", "victim_defender_id": "d" * 32}],
        perpetrators=[],
        links=[{"related_id": "f" * 32, "relation": "causes"}],
    )
    with pytest.raises(ValidationErrors) as info:
        registry.incidents.add(data)
    assert set(fields_of(info.value)) == {"acts[0].victim_defender_id", "links[0].related_id"}


def test_add_many_keeps_good_rows_and_reports_bad_ones(registry: Registry) -> None:
    rows = [
        incident(title="Good one"),
        incident(country="XX"),
        incident(title="Good two"),
        incident(acts=[{"act_type": "A09", "victim_defender_id": "d" * 32}], perpetrators=[]),
        incident(links=[{"related_id": "f" * 32, "relation": "causes"}]),
        "not an object",
    ]
    report = registry.incidents.add_many(rows)  # type: ignore[arg-type]
    assert len(report.added) == 2
    assert {registry.incidents.get(i).title for i in report.added} == {"Good one", "Good two"}
    by_row = {row: err for row, err in report.errors}
    assert sorted(by_row) == [2, 4, 5, 6]
    assert by_row[2].field == "country"  # type: ignore[attr-defined]
    assert by_row[4].field == "acts[0].victim_defender_id"  # type: ignore[attr-defined]
    assert by_row[5].field == "links[0].related_id"  # type: ignore[attr-defined]
    assert registry.incidents.count() == 2
    summary = report.to_dict()
    assert summary["added"] == 2
    assert summary["rejected"] == 4
    # (parse errors are reported at once, reference errors when the batch is written)
    assert sorted(e["row"] for e in summary["errors"]) == [2, 4, 5, 6]


def test_add_many_strict_raises_at_first_bad_row(registry: Registry) -> None:
    with pytest.raises(ValidationError) as info:
        registry.incidents.add_many([incident(), incident(country="XX")], strict=True)
    assert info.value.field == "country"
    assert registry.incidents.count() == 0


def test_add_many_reports_progress(registry: Registry) -> None:
    seen: list[tuple[int, int]] = []
    report = registry.incidents.add_many(
        [incident(), incident()], progress=lambda n, t: seen.append((n, t)), total=2
    )
    assert len(report.added) == 2
    assert seen[-1] == (2, 2)


def test_link_to_an_existing_incident(registry: Registry) -> None:
    first = registry.incidents.add(incident())
    second = registry.incidents.add(
        incident(links=[{"related_id": first.id, "relation": "follows"}])
    )
    assert registry.incidents.get(second.id).links[0].related_id == first.id
    with pytest.raises(ValidationError) as info:
        registry.incidents.amend(
            second.id, {"links": [{"related_id": second.id, "relation": "follows"}]}
        )
    assert info.value.field == "links[0].related_id"


# -- cases ----------------------------------------------------------------------------------


def test_filed_in_the_case_of_the_first_victim(registry: Registry) -> None:
    first = registry.defenders.add(defender(display_name="First"))
    second = registry.defenders.add(defender(display_name="Second"))
    assert first.case_id != second.case_id
    inc = registry.incidents.add(
        incident(
            acts=[
                {"act_type": "A23", "victim_description": "A house"},
                {"act_type": "A09", "victim_defender_id": first.id},
                {"act_type": "A09", "victim_defender_id": second.id},
            ],
            perpetrators=[],
        )
    )
    assert inc.case_id == first.case_id


def test_case_given_or_new(registry: Registry) -> None:
    victim = registry.defenders.add(defender())
    case = registry.cases.create("Other case")
    explicit = registry.incidents.add(
        incident(acts=[{"act_type": "A09", "victim_defender_id": victim.id}], perpetrators=[]),
        case_id=case,
    )
    assert explicit.case_id == case
    before = row_counts(registry)["cases"]
    lone = registry.incidents.add(incident())
    assert lone.case_id not in (case, victim.case_id)
    assert row_counts(registry)["cases"] == before + 1


def test_unknown_case_is_refused_and_stores_nothing(registry: Registry) -> None:
    before = row_counts(registry)
    with pytest.raises(NotFound):
        registry.incidents.add(incident(), case_id="9" * 32)
    assert row_counts(registry) == before
