"""parse_incident / parse_defender: every bad input names its exact field; records round-trip."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amparo.domain.dates import ApproxDate
from amparo.domain.models import Defender, Incident, parse_defender, parse_incident
from amparo.domain.validation import MAX_LONG_TEXT, MAX_NAME
from amparo.domain.vocabularies import load_vocabularies
from amparo.errors import ValidationError, ValidationErrors
from tests.conftest import NOW
from tests.factories import defender, incident

VOCAB = load_vocabularies()
TODAY = NOW.date()


def fields_of(exc: ValidationError) -> list[str]:
    return [e.field for e in exc.errors] if isinstance(exc, ValidationErrors) else [exc.field]


def incident_error(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_incident(data, VOCAB, TODAY)
    return info.value


def defender_error(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_defender(data, VOCAB, TODAY)
    return info.value


def with_act(**changes: Any) -> dict[str, Any]:
    data = incident()
    data["acts"] = [{**data["acts"][0], **changes}]
    return data


# -- valid input ----------------------------------------------------------------------------


def test_factory_incident_parses() -> None:
    inc = parse_incident(incident(), VOCAB, TODAY)
    assert isinstance(inc, Incident)
    assert inc.date_start == ApproxDate(date(2024, 5, 14), "exact")
    assert inc.country == "HN"
    assert inc.location_precision == "locality"  # implied by the place
    assert [a.act_type for a in inc.acts] == ["A09"]
    assert inc.acts[0].involvements[0].perpetrator == 0
    assert inc.acts[0].involvements[0].degree == "carried_out"
    assert inc.perpetrators[0].name == "Guard Unit 7"


def test_normalisation() -> None:
    data = incident(country=" hn ", title="  Padded title  ", narrative="   ", region=None)
    data["acts"][0]["gender_specific"] = None  # features imply "yes"
    data["acts"][0]["gender_features"] = "rape_threat; sexualised_content"
    inc = parse_incident(data, VOCAB, TODAY)
    assert inc.country == "HN"
    assert inc.title == "Padded title"
    assert inc.narrative is None
    assert inc.region is None
    assert inc.acts[0].gender_specific == "yes"
    assert inc.acts[0].gender_features == ["rape_threat", "sexualised_content"]


def test_text_at_the_limit_is_accepted() -> None:
    inc = parse_incident(
        incident(narrative="n" * MAX_LONG_TEXT, title="t" * MAX_NAME), VOCAB, TODAY
    )
    assert len(inc.narrative or "") == MAX_LONG_TEXT
    assert len(inc.title) == MAX_NAME


def test_factory_defender_parses() -> None:
    d = parse_defender(defender(), VOCAB, TODAY)
    assert isinstance(d, Defender)
    assert d.sectors == ["land", "indigenous_peoples"]
    assert d.close_people[0].relation == "child"
    assert d.consents[0].recorded_on == date(2024, 3, 1)
    assert d.consents[0].name_choice == "initials"


def test_consent_expiry_may_lie_ahead() -> None:
    data = defender(
        consents=[
            {
                "purpose": "publication",
                "granted": "yes",
                "recorded_on": "2026-10-01",
                "expires_on": "2030-01-01",
                "name_choice": "full_name",
            }
        ]
    )
    consent = parse_defender(data, VOCAB, TODAY).consents[0]
    assert consent.expires_on == date(2030, 1, 1)
    assert consent.granted is True


# -- one bad field, named exactly -----------------------------------------------------------

BAD_INCIDENTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown act type", with_act(act_type="A98"), "acts[0].act_type"),
    ("act type as label", with_act(act_type="Killing"), "acts[0].act_type"),
    ("unknown modality", with_act(modality="telepathy"), "acts[0].modality"),
    (
        "unknown gender feature",
        with_act(gender_features=["witchcraft"]),
        "acts[0].gender_features[0]",
    ),
    ("unknown country", incident(country="XX"), "country"),
    ("country name", incident(country="Honduras"), "country"),
    ("missing country", incident(country=None), "country"),
    ("unknown violation status", incident(violation_status="sure"), "violation_status"),
    ("unknown precision", incident(date_precision="roughly"), "date_precision"),
    ("impossible date", incident(date_start="2024-02-30"), "date_start"),
    ("impossible end date", incident(date_end="2024-06-31"), "date_end"),
    ("future date", incident(date_start="2027-01-01"), "date_start"),
    ("future end date", incident(date_end="2026-11-02"), "date_end"),
    ("before 1900", incident(date_start="1899-12-31"), "date_start"),
    ("exact without a day", incident(date_start="2024-05", date_precision="exact"), "date_start"),
    ("missing date", incident(date_start=None), "date_start"),
    ("future act date", with_act(act_date="2030-01-01"), "acts[0].act_date"),
    ("end before start", incident(date_end="2024-05-13"), "date_end"),
    ("oversize narrative", incident(narrative="x" * (MAX_LONG_TEXT + 1)), "narrative"),
    ("oversize title", incident(title="t" * (MAX_NAME + 1)), "title"),
    ("oversize place", incident(place="p" * 2001), "place"),
    ("NUL in title", incident(title="a\x00b"), "title"),
    ("missing title", incident(title="   "), "title"),
    ("title not text", incident(title=42), "title"),
    ("narrative not text", incident(narrative=["a", "b"]), "narrative"),
    ("confidential not boolean", incident(confidential="perhaps"), "confidential"),
    ("acts not a list", incident(acts="A09"), "acts"),
    ("act not an object", incident(acts=["A09"]), "acts[0]"),
    ("people not a number", with_act(people_affected="many"), "acts[0].people_affected"),
    ("people zero", with_act(people_affected=0), "acts[0].people_affected"),
    ("people fractional", with_act(people_affected=2.5), "acts[0].people_affected"),
    ("people boolean", with_act(people_affected=True), "acts[0].people_affected"),
    ("collective not boolean", with_act(collective="many"), "acts[0].collective"),
    ("features not a list", with_act(gender_features=7), "acts[0].gender_features"),
    ("feature not text", with_act(gender_features=[7]), "acts[0].gender_features[0]"),
    ("features but not gender specific", with_act(gender_specific="no"), "acts[0].gender_features"),
    ("notes not a mapping", incident(notes="see file"), "notes"),
    ("note on no field", incident(notes={"colour": "red"}), "notes.colour"),
    ("note too long", incident(notes={"title": "n" * 10_001}), "notes.title"),
    ("unknown key", incident(colour="red"), "colour"),
    ("unknown act key", with_act(weapon="knife"), "acts[0].weapon"),
    ("no acts", incident(acts=[]), "acts"),
    ("acts missing", {k: v for k, v in incident().items() if k != "acts"}, "acts"),
    (
        "involvement of a missing perpetrator",
        with_act(involvements=[{"perpetrator": 3, "degree": "ordered"}]),
        "acts[0].involvements[0].perpetrator",
    ),
    (
        "involvement with no perpetrators listed",
        incident(perpetrators=[]),
        "acts[0].involvements[0].perpetrator",
    ),
    (
        "unknown involvement degree",
        with_act(involvements=[{"perpetrator": 0, "degree": "cheered"}]),
        "acts[0].involvements[0].degree",
    ),
    (
        "unknown perpetrator type",
        incident(perpetrators=[{"perpetrator_type": "aliens"}]),
        "perpetrators[0].perpetrator_type",
    ),
    (
        "unknown perpetrator key",
        incident(perpetrators=[{"perpetrator_type": "police", "rank": "sergeant"}]),
        "perpetrators[0].rank",
    ),
    (
        "unknown reliability",
        incident(sources=[{"source_type": "media_report", "reliability": "gospel"}]),
        "sources[0].reliability",
    ),
    (
        "future source date",
        incident(sources=[{"source_type": "media_report", "obtained_on": "2031-01-01"}]),
        "sources[0].obtained_on",
    ),
    (
        "unknown intervention status",
        incident(interventions=[{"status": "done"}]),
        "interventions[0].status",
    ),
    (
        "unknown chain relation",
        incident(links=[{"related_id": "ab" * 16, "relation": "cousin"}]),
        "links[0].relation",
    ),
    ("link without target", incident(links=[{"relation": "causes"}]), "links[0].related_id"),
]


@pytest.mark.parametrize(
    ("data", "field"), [pytest.param(d, f, id=name) for name, d, f in BAD_INCIDENTS]
)
def test_bad_incident_names_the_field(data: dict[str, Any], field: str) -> None:
    exc = incident_error(data)
    assert field in fields_of(exc), str(exc)
    assert field in str(exc)


def test_not_an_object() -> None:
    assert incident_error(["title"]).field == "record"
    assert defender_error("Berta").field == "record"


def test_unknown_code_suggests_the_right_one() -> None:
    exc = incident_error(incident(country="Colombia"))
    assert exc.field == "country"
    assert "'CO'" in exc.message


BAD_DEFENDERS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown kind", defender(kind="alien"), "kind"),
    ("missing name", defender(display_name=""), "display_name"),
    ("name too long", defender(display_name="b" * 301), "display_name"),
    ("unknown country", defender(country="ZZ"), "country"),
    ("unknown nationality", defender(nationality="Honduran"), "nationality"),
    ("unknown gender identity", defender(gender_identity="female"), "gender_identity"),
    ("unknown sector", defender(sectors=["land", "knitting"]), "sectors[1]"),
    ("alias not text", defender(aliases=["ok", 5]), "aliases[1]"),
    ("aliases not a list", defender(aliases={"a": 1}), "aliases"),
    ("birth year too early", defender(birth_year=1850), "birth_year"),
    ("birth year in the future", defender(birth_year=2030), "birth_year"),
    ("birth year not a number", defender(birth_year="nineteen"), "birth_year"),
    ("unknown key", defender(email="x@example.org"), "email"),
    (
        "unknown close relation",
        defender(close_people=[{"relation": "neighbour", "name": "Ana"}]),
        "close_people[0].relation",
    ),
    (
        "close person without name",
        defender(close_people=[{"relation": "child"}]),
        "close_people[0].name",
    ),
    (
        "impossible consent date",
        defender(consents=[{"purpose": "documentation", "recorded_on": "2024-02-30"}]),
        "consents[0].recorded_on",
    ),
    (
        "future consent date",
        defender(consents=[{"purpose": "documentation", "recorded_on": "2027-03-01"}]),
        "consents[0].recorded_on",
    ),
    (
        "missing consent date",
        defender(consents=[{"purpose": "documentation", "granted": True}]),
        "consents[0].recorded_on",
    ),
    (
        "unknown consent purpose",
        defender(consents=[{"purpose": "marketing", "recorded_on": "2024-01-01"}]),
        "consents[0].purpose",
    ),
    (
        "unknown name choice",
        defender(
            consents=[
                {"purpose": "publication", "recorded_on": "2024-01-01", "name_choice": "nickname"}
            ]
        ),
        "consents[0].name_choice",
    ),
    (
        "impossible expiry",
        defender(
            consents=[
                {"purpose": "publication", "recorded_on": "2024-01-01", "expires_on": "2030-02-30"}
            ]
        ),
        "consents[0].expires_on",
    ),
    (
        "unknown consent key",
        defender(consents=[{"purpose": "publication", "recorded_on": "2024-01-01", "by": "me"}]),
        "consents[0].by",
    ),
]


@pytest.mark.parametrize(
    ("data", "field"), [pytest.param(d, f, id=name) for name, d, f in BAD_DEFENDERS]
)
def test_bad_defender_names_the_field(data: dict[str, Any], field: str) -> None:
    exc = defender_error(data)
    assert field in fields_of(exc), str(exc)


# -- several errors at once -----------------------------------------------------------------


def test_all_errors_reported_together() -> None:
    data = incident(
        country="XX",
        date_start="2024-02-30",
        title="t" * 301,
        colour="red",
        perpetrators=[{"perpetrator_type": "aliens"}],
    )
    data["acts"] = [
        {"act_type": "A98"},
        {"act_type": "A09", "modality": "telepathy", "act_date": "2099-01-01"},
    ]
    exc = incident_error(data)
    assert isinstance(exc, ValidationErrors)
    assert set(fields_of(exc)) == {
        "colour",
        "country",
        "date_start",
        "title",
        "perpetrators[0].perpetrator_type",
        "acts[0].act_type",
        "acts[1].modality",
        "acts[1].act_date",
    }
    # The message carries every problem, the first one is the headline.
    for field in fields_of(exc):
        assert field in str(exc)
    assert exc.field == exc.errors[0].field


def test_defender_errors_reported_together() -> None:
    exc = defender_error(
        defender(
            kind="alien",
            country="ZZ",
            consents=[{"purpose": "documentation", "recorded_on": "2099-01-01"}],
        )
    )
    assert isinstance(exc, ValidationErrors)
    assert set(fields_of(exc)) == {"kind", "country", "consents[0].recorded_on"}


# -- round trips ----------------------------------------------------------------------------


def full_incident() -> dict[str, Any]:
    return incident(
        date_start="2024-05",
        date_precision="estimate",
        date_end="2024-07-01",
        location_precision="exact",
        counting_unit="group",
        confidential=True,
        notes={"date_start": "She remembers only the month."},
        acts=[
            {
                "act_type": "A09",
                "victim_defender_id": "a" * 32,
                "victim_person_id": "b" * 32,
                "victim_description": "The daughter",
                "act_date": "2024-05-20",
                "gender_specific": "yes",
                "gender_features": ["rape_threat", "children_or_partner_targeted"],
                "target_relation": "child",
                "modality": "both",
                "collective": True,
                "people_affected": 3,
                "previously_threatened": "yes",
                "business_company": "Mina Norte S.A.",
                "business_sector": "mining",
                "involvements": [
                    {"perpetrator": 0, "degree": "carried_out"},
                    {"perpetrator": 1, "degree": "ordered"},
                ],
            },
            {"act_type": "A12", "modality": "online"},
        ],
        perpetrators=[
            {"perpetrator_type": "private_security", "name": "Guard Unit 7"},
            {"perpetrator_type": "company_transnational", "description": "Mine owner"},
        ],
        sources=[
            {
                "source_type": "victim_testimony",
                "reliability": "highly_reliable",
                "identity": "Field officer Ana",
                "description": "Interview",
                "obtained_on": "2024-06-01",
            }
        ],
        interventions=[
            {
                "status": "continuing",
                "priority": "urgent",
                "intervention_date": "2024-06-02",
                "intervener": "Legal team",
                "response": "Precautionary measures requested",
            }
        ],
        links=[{"related_id": "c" * 32, "relation": "follows"}],
    )


def test_incident_round_trip() -> None:
    first = parse_incident(full_incident(), VOCAB, TODAY)
    shape = first.to_dict()
    again = parse_incident(copy.deepcopy(shape), VOCAB, TODAY)
    assert again == first
    assert again.to_dict() == shape
    assert shape["date_start"] == "2024-05-01"
    assert shape["date_precision"] == "estimate"
    assert shape["acts"][0]["involvements"] == [
        {"perpetrator": 0, "degree": "carried_out"},
        {"perpetrator": 1, "degree": "ordered"},
    ]


@pytest.mark.parametrize("raw", ["2023", "2023-04", "2023-04-09", "~2023-04-09"])
def test_incident_round_trip_keeps_date_precision(raw: str) -> None:
    first = parse_incident(incident(date_start=raw), VOCAB, TODAY)
    again = parse_incident(first.to_dict(), VOCAB, TODAY)
    assert again.date_start == first.date_start


def test_defender_round_trip() -> None:
    data = defender(
        sexual_orientation="lesbian",
        birth_year=1972,
        age_band="45_59",
        nationality="HN",
        notes="Met at the 2019 assembly",
        confidential=True,
        consents=[
            {
                "purpose": "publication",
                "granted": False,
                "recorded_on": "2024-03-01",
                "name_choice": "anonymous",
                "expires_on": "2029-01-01",
                "note": "Ask again next year",
            }
        ],
    )
    first = parse_defender(data, VOCAB, TODAY)
    shape = first.to_dict()
    again = parse_defender(copy.deepcopy(shape), VOCAB, TODAY)
    assert again == first
    assert again.to_dict() == shape


SAFE_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=80
).filter(lambda s: s.strip())


@settings(max_examples=60, database=None, deadline=None)
@given(
    title=SAFE_TEXT,
    narrative=st.none() | SAFE_TEXT,
    act_types=st.lists(st.sampled_from(VOCAB["act_types"].codes), min_size=1, max_size=4),
    country=st.sampled_from(VOCAB["countries"].codes),
    start=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
)
def test_incident_round_trip_property(
    title: str, narrative: str | None, act_types: list[str], country: str, start: date
) -> None:
    data = incident(
        title=title,
        narrative=narrative,
        country=country.lower(),
        date_start=start.isoformat(),
        acts=[{"act_type": code} for code in act_types],
        perpetrators=[],
    )
    first = parse_incident(data, VOCAB, TODAY)
    assert first.title == title.strip()
    assert first.country == country
    assert [a.act_type for a in first.acts] == act_types
    assert parse_incident(first.to_dict(), VOCAB, TODAY) == first
