"""A protection case with everything a dossier or a UN communication draws on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from amparo.registry import Registry
from amparo.security.permissions import Actor
from tests import factories


@dataclass(frozen=True)
class Case:
    case_id: str
    defender_id: str
    incident_id: str
    secret_incident_id: str
    evidence_sha256: str


def scores(**given: int) -> dict[str, int]:
    codes = [f"T{i}" for i in range(1, 9)] + [f"V{i}" for i in range(1, 13)]
    codes += [f"C{i}" for i in range(1, 11)]
    return {code: given.get(code, 0) for code in codes}


def make_case(registry: Registry, *, un_consent: bool = True) -> Case:
    consents = [{"purpose": "documentation", "granted": True, "recorded_on": "2024-03-01"}]
    if un_consent:
        consents.append({"purpose": "un_submission", "granted": True,
                         "recorded_on": "2024-06-01", "name_choice": "full_name"})  # fmt: skip
    defender = registry.defenders.add(factories.defender(
        contacts="+504 9999 CANARY-CONTACT", legal_name="Berta CANARY-LEGAL Cáceres",
        close_people=[{"relation": "child", "name": "Laura CANARY-CHILD"}],
        consents=consents, nationality="HN", birth_year=1972,
    ))  # fmt: skip
    assert defender.id and defender.case_id
    case_id = defender.case_id
    victim = {"victim_defender_id": defender.id, "act_date": "2024-05-14"}
    incident = factories.incident()
    incident["acts"][0].update(victim)
    incident["sources"][0]["identity"] = "Interview CANARY-SOURCE"
    incident["interventions"] = [
        {"status": "pending", "priority": "urgent", "intervener": "Complaint to the prosecutor",
         "response": "No answer", "intervention_date": "2024-05-20"}
    ]  # fmt: skip
    first = registry.incidents.add(incident, case_id=case_id)
    secret = factories.incident(title="CANARY-SECRET-TITLE", narrative="CANARY-SECRET-TEXT",
                                confidential=True, date_start="2024-07-02")  # fmt: skip
    secret["acts"][0].update({**victim, "act_type": "A13", "act_date": "2024-07-02"})
    second = registry.incidents.add(secret, case_id=case_id)
    assert first.id and second.id
    item = registry.evidence.add(case_id, "threat-note.txt", b"we know where you live\n",
                                 incident_id=first.id)  # fmt: skip
    registry.risk.assess(defender.id, scores(T1=4, T2=3, V1=2, C1=1))
    registry.protection.update(case_id, subject_defender_id=defender.id, priority="urgent",
                               protection_status="active")  # fmt: skip
    registry.protection.add_measure(case_id, kind="preventive", description="Safe house rota",
                                    owner="Field team", due_on=date(2026, 12, 1))  # fmt: skip
    return Case(case_id, defender.id, first.id, second.id, item.sha256)


@pytest.fixture
def case(registry: Registry) -> Case:
    return make_case(registry)


def as_role(registry: Registry, role: str, grants: dict[str, str] | None = None,
            reauth: bool = False) -> Registry:  # fmt: skip
    now = registry.clock.now()
    actor = Actor(user_id=f"u-{role}", role=role, grants=grants or {}, mfa_complete=True,
                  reauthenticated_at=now - timedelta(minutes=1) if reauth else None)  # fmt: skip
    return registry.acting_as(actor, f"user:{role}")
