"""The record model (HURIDOCS events standard, extended for defenders), as plain data.

An ``Incident`` (event) holds ``Act``s, each one victim x one act type with the gender-lens
facets; ``Perpetrator``s are linked to acts by an involvement degree; ``Source``s carry
reliability; ``Intervention``s record what was done; ``Link``s chain events. A ``Defender``
(person, collective or organisation) owns the people close to her and her consents.

``parse_*`` functions turn untrusted mappings (JSON, CSV rows, forms) into these objects,
reporting every bad field at once; ``to_dict`` gives the JSON shape that ``parse_*`` accepts,
so records round-trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from amparo.domain.dates import ApproxDate
from amparo.domain.validation import MAX_LONG_TEXT, MAX_NOTE, MAX_SHORT_TEXT, Checker
from amparo.domain.vocabularies import Vocabularies

__all__ = [
    "Act",
    "CloseParty",
    "Consent",
    "Defender",
    "Incident",
    "Intervention",
    "Involvement",
    "Link",
    "Perpetrator",
    "Source",
    "parse_defender",
    "parse_incident",
]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _fields(obj: Any) -> dict[str, Any]:
    """A shallow dict of a dataclass (dataclasses.asdict deep-copies: slow on bulk import)."""
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


@dataclass
class CloseParty:
    """Someone close to a defender (child, partner, colleague) who may be targeted too."""

    relation: str
    name: str
    notes: str | None = None
    id: str | None = None


@dataclass
class Consent:
    purpose: str
    granted: bool
    recorded_on: date
    name_choice: str = "initials"  # full_name | initials | anonymous
    expires_on: date | None = None
    note: str | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _fields(self)
        out["recorded_on"] = _iso(self.recorded_on)
        out["expires_on"] = _iso(self.expires_on)
        return out


@dataclass
class Defender:
    kind: str
    display_name: str
    legal_name: str | None = None
    aliases: list[str] = field(default_factory=list)
    sex: str | None = None
    gender_identity: str | None = None
    sexual_orientation: str | None = None
    birth_year: int | None = None
    age_band: str | None = None
    nationality: str | None = None
    country: str | None = None
    region: str | None = None
    sectors: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    contacts: str | None = None
    notes: str | None = None
    confidential: bool = False
    close_people: list[CloseParty] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    id: str | None = None
    case_id: str | None = None
    version: int = 0
    merged_into: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _fields(self)
        for key in ("aliases", "sectors", "organisations"):
            out[key] = list(out[key])
        out["close_people"] = [_fields(p) for p in self.close_people]
        out["consents"] = [c.to_dict() for c in self.consents]
        return out


NAME_CHOICES = ("full_name", "initials", "anonymous")
DEFENDER_FIELDS = (
    "kind", "display_name", "legal_name", "aliases", "sex", "gender_identity",
    "sexual_orientation", "birth_year", "age_band", "nationality", "country", "region",
    "sectors", "organisations", "contacts", "notes", "confidential", "close_people",
    "consents", "id", "case_id", "version", "merged_into",
)  # fmt: skip


def parse_defender(data: Mapping[str, Any], vocab: Vocabularies, today: date) -> Defender:
    c = Checker(data, vocab, today)
    c.unknown_keys(DEFENDER_FIELDS)
    defender = Defender(
        kind=c.required_code("kind", "defender_kinds", default="person"),
        display_name=c.required_text("display_name"),
        legal_name=c.text("legal_name"),
        aliases=c.texts("aliases"),
        sex=c.code("sex", "sexes"),
        gender_identity=c.code("gender_identity", "gender_identities"),
        sexual_orientation=c.code("sexual_orientation", "sexual_orientations"),
        birth_year=c.integer("birth_year", minimum=1900, maximum=today.year),
        age_band=c.code("age_band", "age_bands"),
        nationality=c.code("nationality", "countries"),
        country=c.code("country", "countries"),
        region=c.text("region", max_chars=120),
        sectors=c.codes("sectors", "sectors"),
        organisations=c.texts("organisations"),
        contacts=c.text("contacts", max_chars=MAX_SHORT_TEXT),
        notes=c.text("notes", max_chars=MAX_NOTE),
        confidential=c.boolean("confidential"),
    )
    for i, item in c.items("close_people"):
        sub = c.child("close_people", i, item)
        sub.unknown_keys(("relation", "name", "notes", "id"))
        defender.close_people.append(
            CloseParty(
                relation=sub.required_code("relation", "target_relations"),
                name=sub.required_text("name"),
                notes=sub.text("notes", max_chars=MAX_SHORT_TEXT),
                id=_opt_id(item),
            )
        )
        c.absorb(sub)
    for i, item in c.items("consents"):
        sub = c.child("consents", i, item)
        sub.unknown_keys(("purpose", "granted", "recorded_on", "name_choice", "expires_on",
                          "note", "id"))  # fmt: skip
        choice = sub.text("name_choice") or "initials"
        if choice not in NAME_CHOICES:
            sub.fail("name_choice", f"must be one of {', '.join(NAME_CHOICES)}")
        recorded = sub.date("recorded_on", required=True)
        expires_raw = item.get("expires_on")
        defender.consents.append(
            Consent(
                purpose=sub.required_code("purpose", "consent_purposes"),
                granted=sub.boolean("granted"),
                recorded_on=recorded or today,
                name_choice=choice,
                expires_on=_future_ok_date(sub, "expires_on", expires_raw),
                note=sub.text("note", max_chars=MAX_SHORT_TEXT),
                id=_opt_id(item),
            )
        )
        c.absorb(sub)
    c.raise_if_errors()
    return defender


def _future_ok_date(c: Checker, key: str, raw: object) -> date | None:
    """Expiry dates lie ahead by nature; only their form is checked."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        c.fail(key, f"'{raw}' is not a real date (YYYY-MM-DD)")
        return None


def _opt_id(item: Mapping[str, Any]) -> str | None:
    value = item.get("id")
    return value if isinstance(value, str) and value else None


@dataclass
class Involvement:
    perpetrator: int  # index into Incident.perpetrators
    degree: str

    def to_dict(self) -> dict[str, Any]:
        return {"perpetrator": self.perpetrator, "degree": self.degree}


@dataclass
class Act:
    act_type: str
    victim_defender_id: str | None = None
    victim_person_id: str | None = None
    victim_description: str | None = None
    act_date: date | None = None
    gender_specific: str = "unknown"
    gender_features: list[str] = field(default_factory=list)
    target_relation: str = "defender"
    modality: str = "in_person"
    collective: bool = False
    people_affected: int = 1
    previously_threatened: str = "unknown"
    business_company: str | None = None
    business_sector: str | None = None
    involvements: list[Involvement] = field(default_factory=list)
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _fields(self)
        out["act_date"] = _iso(self.act_date)
        out["gender_features"] = list(self.gender_features)
        out["involvements"] = [i.to_dict() for i in self.involvements]
        return out


@dataclass
class Perpetrator:
    perpetrator_type: str
    name: str | None = None
    description: str | None = None
    id: str | None = None


@dataclass
class Source:
    source_type: str
    reliability: str = "unknown"
    identity: str | None = None
    description: str | None = None
    obtained_on: date | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _fields(self)
        out["obtained_on"] = _iso(self.obtained_on)
        return out


@dataclass
class Intervention:
    status: str = "pending"
    priority: str = "normal"
    intervention_date: date | None = None
    intervener: str | None = None
    response: str | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _fields(self)
        out["intervention_date"] = _iso(self.intervention_date)
        return out


@dataclass
class Link:
    related_id: str
    relation: str


@dataclass
class Incident:
    title: str
    date_start: ApproxDate
    country: str
    acts: list[Act]
    narrative: str | None = None
    date_end: date | None = None
    region: str | None = None
    place: str | None = None
    location_precision: str = "country"
    violation_status: str = "unknown"
    counting_unit: str = "individual"
    confidential: bool = False
    notes: dict[str, str] = field(default_factory=dict)
    perpetrators: list[Perpetrator] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    id: str | None = None
    case_id: str | None = None
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "version": self.version,
            "title": self.title,
            "narrative": self.narrative,
            "date_start": str(self.date_start).lstrip("~"),
            "date_precision": self.date_start.precision,
            "date_end": _iso(self.date_end),
            "country": self.country,
            "region": self.region,
            "place": self.place,
            "location_precision": self.location_precision,
            "violation_status": self.violation_status,
            "counting_unit": self.counting_unit,
            "confidential": self.confidential,
            "notes": dict(self.notes),
            "acts": [a.to_dict() for a in self.acts],
            "perpetrators": [_fields(p) for p in self.perpetrators],
            "sources": [s.to_dict() for s in self.sources],
            "interventions": [i.to_dict() for i in self.interventions],
            "links": [_fields(link) for link in self.links],
        }


INCIDENT_FIELDS = (
    "id", "case_id", "version", "title", "narrative", "date_start", "date_precision",
    "date_end", "country", "region", "place", "location_precision", "violation_status",
    "counting_unit", "confidential", "notes", "acts", "perpetrators", "sources",
    "interventions", "links",
)  # fmt: skip
ACT_FIELDS = (
    "act_type", "victim_defender_id", "victim_person_id", "victim_description", "act_date",
    "gender_specific", "gender_features", "target_relation", "modality", "collective",
    "people_affected", "previously_threatened", "business_company", "business_sector",
    "involvements", "id",
)  # fmt: skip


def parse_incident(data: Mapping[str, Any], vocab: Vocabularies, today: date) -> Incident:
    c = Checker(data, vocab, today)
    c.unknown_keys(INCIDENT_FIELDS)
    precision = c.code("date_precision", "date_precision")
    start = c.approx_date("date_start", precision)
    end = c.date("date_end")
    if start and end and end < start.value:
        c.fail("date_end", "is before date_start")
    place = c.text("place", max_chars=MAX_SHORT_TEXT)
    region = c.text("region", max_chars=120)
    implied_precision = "locality" if place else "region" if region else "country"
    incident = Incident(
        title=c.required_text("title"),
        narrative=c.text("narrative", max_chars=MAX_LONG_TEXT),
        date_start=start or ApproxDate(today, "exact"),
        date_end=end,
        country=c.required_code("country", "countries"),
        region=region,
        place=place,
        location_precision=c.required_code(
            "location_precision", "location_precision", default=implied_precision
        ),
        violation_status=c.required_code("violation_status", "violation_status", "unknown"),
        counting_unit=c.required_code("counting_unit", "counting_units", "individual"),
        confidential=c.boolean("confidential"),
        acts=[],
    )
    notes = data.get("notes") or {}
    if not isinstance(notes, Mapping):
        c.fail("notes", "must map field names to clarification notes")
    else:
        for key, note in notes.items():
            if key not in INCIDENT_FIELDS:
                c.fail(f"notes.{key}", "names no field of an incident")
            elif not isinstance(note, str) or len(note) > MAX_NOTE:
                c.fail(f"notes.{key}", f"must be text of at most {MAX_NOTE} characters")
            else:
                incident.notes[key] = note

    for i, item in c.items("perpetrators"):
        sub = c.child("perpetrators", i, item)
        sub.unknown_keys(("perpetrator_type", "name", "description", "id"))
        incident.perpetrators.append(
            Perpetrator(
                perpetrator_type=sub.required_code("perpetrator_type", "perpetrator_types"),
                name=sub.text("name"),
                description=sub.text("description", max_chars=MAX_SHORT_TEXT),
                id=_opt_id(item),
            )
        )
        c.absorb(sub)

    act_items = c.items("acts")
    if not act_items and "acts" not in [e.field for e in c.errors]:
        c.fail("acts", "an incident needs at least one act (victim x act type)")
    for i, item in act_items:
        incident.acts.append(_parse_act(c, i, item, len(incident.perpetrators)))

    for i, item in c.items("sources"):
        sub = c.child("sources", i, item)
        sub.unknown_keys(("source_type", "reliability", "identity", "description",
                          "obtained_on", "id"))  # fmt: skip
        incident.sources.append(
            Source(
                source_type=sub.required_code("source_type", "source_types"),
                reliability=sub.required_code("reliability", "reliability", "unknown"),
                identity=sub.text("identity"),
                description=sub.text("description", max_chars=MAX_SHORT_TEXT),
                obtained_on=sub.date("obtained_on"),
                id=_opt_id(item),
            )
        )
        c.absorb(sub)

    for i, item in c.items("interventions"):
        sub = c.child("interventions", i, item)
        sub.unknown_keys(("status", "priority", "intervention_date", "intervener", "response",
                          "id"))  # fmt: skip
        incident.interventions.append(
            Intervention(
                status=sub.required_code("status", "intervention_status", "pending"),
                priority=sub.required_code("priority", "priorities", "normal"),
                intervention_date=sub.date("intervention_date"),
                intervener=sub.text("intervener"),
                response=sub.text("response", max_chars=MAX_SHORT_TEXT),
                id=_opt_id(item),
            )
        )
        c.absorb(sub)

    for i, item in c.items("links"):
        sub = c.child("links", i, item)
        sub.unknown_keys(("related_id", "relation"))
        incident.links.append(
            Link(
                related_id=sub.required_text("related_id", max_chars=32),
                relation=sub.required_code("relation", "chain_relations"),
            )
        )
        c.absorb(sub)
    c.raise_if_errors()
    return incident


def _parse_act(c: Checker, i: int, item: Mapping[str, Any], n_perpetrators: int) -> Act:
    sub = c.child("acts", i, item)
    sub.unknown_keys(ACT_FIELDS)
    act = Act(
        act_type=sub.required_code("act_type", "act_types"),
        victim_defender_id=sub.text("victim_defender_id", max_chars=32),
        victim_person_id=sub.text("victim_person_id", max_chars=32),
        victim_description=sub.text("victim_description", max_chars=MAX_SHORT_TEXT),
        act_date=sub.date("act_date"),
        gender_specific=sub.required_code("gender_specific", "yes_no_unknown", "unknown"),
        gender_features=sub.codes("gender_features", "gender_features"),
        target_relation=sub.required_code("target_relation", "target_relations", "defender"),
        modality=sub.required_code("modality", "modalities", "in_person"),
        collective=sub.boolean("collective"),
        people_affected=sub.integer("people_affected", minimum=1, maximum=1_000_000, default=1)
        or 1,
        previously_threatened=sub.required_code(
            "previously_threatened", "yes_no_unknown", "unknown"
        ),
        business_company=sub.text("business_company"),
        business_sector=sub.text("business_sector", max_chars=120),
        id=_opt_id(item),
    )
    if act.gender_features and act.gender_specific == "no":
        sub.fail("gender_features", "given, but gender_specific is 'no'")
    if act.gender_features and act.gender_specific == "unknown":
        act.gender_specific = "yes"
    for j, inv in sub.items("involvements"):
        inv_check = sub.child("involvements", j, inv)
        index = inv_check.integer("perpetrator", minimum=0, maximum=max(n_perpetrators - 1, 0))
        if index is None or n_perpetrators == 0:
            inv_check.fail("perpetrator", "must be the position of a listed perpetrator")
        act.involvements.append(
            Involvement(
                perpetrator=index or 0,
                degree=inv_check.required_code("degree", "involvement_degrees", "unknown"),
            )
        )
        sub.absorb(inv_check)
    c.absorb(sub)
    return act
