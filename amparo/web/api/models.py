"""The API's JSON shapes, for the OpenAPI schema and request checking.

Request models check types and structure only; the library (amparo.domain.models) checks
vocabulary codes, dates and cross-field rules and names each bad field, so the rules live in
one place. Response fields are all optional in the schema because ``?fields=`` may select
some of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActIn",
    "ActOut",
    "CaseIn",
    "CaseOut",
    "CasePage",
    "DefenderIn",
    "DefenderOut",
    "DefenderPage",
    "DefenderPatch",
    "DefenderSummaryOut",
    "FieldChangeOut",
    "IncidentIn",
    "IncidentOut",
    "IncidentPage",
    "IncidentPatch",
    "IncidentSummaryOut",
    "MergeIn",
    "RestoreIn",
    "SearchOut",
    "TermOut",
    "VersionOut",
    "VocabularyOut",
    "VocabularySummaryOut",
]

CODE = Field(max_length=64)
SHORT = 2_000
LONG = 200_000
ID = Field(max_length=32)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- incidents -----------------------------------------------------------------------------
class InvolvementIn(_In):
    perpetrator: int = Field(ge=0, le=10_000, description="Position in `perpetrators`")
    degree: str = Field("unknown", max_length=64)


class ActIn(_In):
    act_type: str = Field(max_length=64, description="Code of vocabulary `act_types`")
    victim_defender_id: str | None = Field(None, max_length=32)
    victim_person_id: str | None = Field(None, max_length=32)
    victim_description: str | None = Field(None, max_length=SHORT)
    act_date: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    gender_specific: str | None = Field(None, max_length=64)
    gender_features: list[str] = Field(default_factory=list, max_length=50)
    target_relation: str | None = Field(None, max_length=64)
    modality: str | None = Field(None, max_length=64)
    collective: bool = False
    people_affected: int = Field(1, ge=1, le=1_000_000)
    previously_threatened: str | None = Field(None, max_length=64)
    business_company: str | None = Field(None, max_length=SHORT)
    business_sector: str | None = Field(None, max_length=120)
    involvements: list[InvolvementIn] = Field(default_factory=list, max_length=100)
    id: str | None = Field(None, max_length=32)


class PerpetratorIn(_In):
    perpetrator_type: str = Field(max_length=64)
    name: str | None = Field(None, max_length=SHORT)
    description: str | None = Field(None, max_length=SHORT)
    id: str | None = Field(None, max_length=32)


class SourceIn(_In):
    source_type: str = Field(max_length=64)
    reliability: str | None = Field(None, max_length=64)
    identity: str | None = Field(None, max_length=SHORT)
    description: str | None = Field(None, max_length=SHORT)
    obtained_on: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    id: str | None = Field(None, max_length=32)


class InterventionIn(_In):
    status: str | None = Field(None, max_length=64)
    priority: str | None = Field(None, max_length=64)
    intervention_date: str | None = Field(None, max_length=10)
    intervener: str | None = Field(None, max_length=SHORT)
    response: str | None = Field(None, max_length=SHORT)
    id: str | None = Field(None, max_length=32)


class LinkIn(_In):
    related_id: str = Field(max_length=32)
    relation: str = Field(max_length=64)


class IncidentPatch(_In):
    """Fields to change; omitted fields keep their value, lists replace the whole list."""

    title: str | None = Field(None, max_length=SHORT)
    narrative: str | None = Field(None, max_length=LONG)
    date_start: str | None = Field(
        None, max_length=11, description="YYYY, YYYY-MM or YYYY-MM-DD; a leading ~ = estimate"
    )
    date_precision: str | None = Field(None, max_length=64)
    date_end: str | None = Field(None, max_length=10)
    country: str | None = Field(None, max_length=2)
    region: str | None = Field(None, max_length=120)
    place: str | None = Field(None, max_length=SHORT)
    location_precision: str | None = Field(None, max_length=64)
    violation_status: str | None = Field(None, max_length=64)
    counting_unit: str | None = Field(None, max_length=64)
    confidential: bool | None = None
    notes: dict[str, str] | None = Field(None, max_length=40)
    acts: list[ActIn] | None = Field(None, max_length=500)
    perpetrators: list[PerpetratorIn] | None = Field(None, max_length=500)
    sources: list[SourceIn] | None = Field(None, max_length=500)
    interventions: list[InterventionIn] | None = Field(None, max_length=500)
    links: list[LinkIn] | None = Field(None, max_length=500)


class IncidentIn(IncidentPatch):
    title: str = Field(max_length=SHORT)
    date_start: str = Field(
        max_length=11, description="YYYY, YYYY-MM or YYYY-MM-DD; a leading ~ = estimate"
    )
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2")
    acts: list[ActIn] = Field(min_length=1, max_length=500)
    case_id: str | None = Field(
        None, max_length=32, description="File it in this case (default: the victim's case)"
    )


class ActOut(_Out):
    act_type: str | None = None
    victim_defender_id: str | None = None
    victim_person_id: str | None = None
    victim_description: str | None = None
    act_date: str | None = None
    gender_specific: str | None = None
    gender_features: list[str] | None = None
    target_relation: str | None = None
    modality: str | None = None
    collective: bool | None = None
    people_affected: int | None = None
    previously_threatened: str | None = None
    business_company: str | None = None
    business_sector: str | None = None
    involvements: list[dict[str, Any]] | None = None
    id: str | None = None


class IncidentOut(_Out):
    id: str | None = None
    case_id: str | None = None
    version: int | None = None
    title: str | None = None
    narrative: str | None = None
    date_start: str | None = None
    date_precision: str | None = None
    date_end: str | None = None
    country: str | None = None
    region: str | None = None
    place: str | None = None
    location_precision: str | None = None
    violation_status: str | None = None
    counting_unit: str | None = None
    confidential: bool | None = None
    notes: dict[str, str] | None = None
    acts: list[ActOut] | None = None
    perpetrators: list[dict[str, Any]] | None = None
    sources: list[dict[str, Any]] | None = None
    interventions: list[dict[str, Any]] | None = None
    links: list[dict[str, Any]] | None = None


class IncidentSummaryOut(_Out):
    id: str | None = None
    case_id: str | None = None
    title: str | None = None
    date_start: str | None = None
    date_precision: str | None = None
    country: str | None = None
    region: str | None = None
    violation_status: str | None = None
    act_types: list[str] | None = None


class IncidentPage(_Out):
    items: list[IncidentSummaryOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


# -- defenders -----------------------------------------------------------------------------
class CloseParty(_In):
    relation: str = Field(max_length=64)
    name: str = Field(max_length=SHORT)
    notes: str | None = Field(None, max_length=SHORT)
    id: str | None = Field(None, max_length=32)


class ConsentIn(_In):
    purpose: str = Field(max_length=64)
    granted: bool = False
    recorded_on: str = Field(max_length=10, description="YYYY-MM-DD")
    name_choice: str | None = Field(None, max_length=20)
    expires_on: str | None = Field(None, max_length=10)
    note: str | None = Field(None, max_length=SHORT)
    id: str | None = Field(None, max_length=32)


class DefenderPatch(_In):
    kind: str | None = Field(None, max_length=64)
    display_name: str | None = Field(None, max_length=SHORT)
    legal_name: str | None = Field(None, max_length=SHORT)
    aliases: list[str] | None = Field(None, max_length=50)
    sex: str | None = Field(None, max_length=64)
    gender_identity: str | None = Field(None, max_length=64)
    sexual_orientation: str | None = Field(None, max_length=64)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    age_band: str | None = Field(None, max_length=64)
    nationality: str | None = Field(None, max_length=2)
    country: str | None = Field(None, max_length=2)
    region: str | None = Field(None, max_length=120)
    sectors: list[str] | None = Field(None, max_length=50)
    organisations: list[str] | None = Field(None, max_length=50)
    contacts: str | None = Field(None, max_length=SHORT)
    notes: str | None = Field(None, max_length=LONG)
    confidential: bool | None = None
    close_people: list[CloseParty] | None = Field(None, max_length=100)
    consents: list[ConsentIn] | None = Field(None, max_length=100)


class DefenderIn(DefenderPatch):
    display_name: str = Field(max_length=SHORT)
    case_id: str | None = Field(
        None, max_length=32, description="File her in this case (default: a new case)"
    )


class DefenderOut(_Out):
    id: str | None = None
    case_id: str | None = None
    version: int | None = None
    kind: str | None = None
    display_name: str | None = None
    legal_name: str | None = None
    aliases: list[str] | None = None
    sex: str | None = None
    gender_identity: str | None = None
    sexual_orientation: str | None = None
    birth_year: int | None = None
    age_band: str | None = None
    nationality: str | None = None
    country: str | None = None
    region: str | None = None
    sectors: list[str] | None = None
    organisations: list[str] | None = None
    contacts: str | None = None
    notes: str | None = None
    confidential: bool | None = None
    close_people: list[dict[str, Any]] | None = None
    consents: list[dict[str, Any]] | None = None
    merged_into: str | None = None


class DefenderSummaryOut(_Out):
    id: str | None = None
    case_id: str | None = None
    kind: str | None = None
    display_name: str | None = None
    gender_identity: str | None = None
    country: str | None = None
    region: str | None = None
    sectors: list[str] | None = None
    merged_into: str | None = None


class DefenderPage(_Out):
    items: list[DefenderSummaryOut]
    next_cursor: str | None = None


class MergeIn(_In):
    duplicate_id: str = Field(max_length=32, description="The profile folded into this one")


# -- history -------------------------------------------------------------------------------
class VersionOut(_Out):
    version: int
    action: str
    actor: str
    at: str
    changed_fields: list[str]


class FieldChangeOut(_Out):
    field: str
    before: Any = None
    after: Any = None


class RestoreIn(_In):
    version: int = Field(ge=1, le=1_000_000)


# -- cases ---------------------------------------------------------------------------------
class CaseIn(_In):
    title: str | None = Field(None, max_length=300)


class CaseOut(_Out):
    id: str
    title: str | None = None
    status: str
    created_at: str
    incidents: int
    defenders: int
    access: str | None = Field(None, description="Your grant: read or write (null: none)")


class CasePage(_Out):
    items: list[CaseOut]
    next_cursor: str | None = None


# -- vocabularies and search ---------------------------------------------------------------
class TermOut(_Out):
    code: str
    label: str
    labels: dict[str, str] = Field(description="Every language's label")
    extra: dict[str, str] = Field(default_factory=dict, description="Other columns")


class VocabularyOut(_Out):
    name: str
    language: str
    terms: list[TermOut]


class VocabularySummaryOut(_Out):
    name: str
    terms: int


class SearchOut(_Out):
    incidents: list[IncidentSummaryOut]
    defenders: list[DefenderSummaryOut]
