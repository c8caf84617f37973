"""Someone who sees hundreds of cases lists by date (a different plan on SQLite), with the
same rows; on PostgreSQL the case ids travel as one array (amparo.services.visibility)."""

from __future__ import annotations

from amparo.registry import Registry
from amparo.services.defenders import DefenderFilter
from amparo.services.incidents import MANY_CASES, IncidentFilter
from amparo.services.principals import actor_for_user
from tests import factories


def test_listing_across_many_granted_cases_keeps_need_to_know(registry: Registry) -> None:
    user = registry.accounts.add_user("olga", "a perfectly good passphrase", "coordinator")
    made = []
    for n in range(MANY_CASES + 5):
        day = f"20{10 + n % 15}-0{1 + n % 9}-1{n % 10}"
        made.append(registry.incidents.add(factories.incident(title=f"Incident {n}",
                                                              date_start=day)))  # fmt: skip
    hidden = made.pop()  # its case is not granted
    for incident in made:
        assert incident.case_id
        registry.grants.grant(incident.case_id, "user", user.id, "read")
    with registry.store.read() as conn:
        actor = actor_for_user(conn, user.id, mfa_complete=True)
    view = registry.acting_as(actor, "user:olga")
    page = view.incidents.list(IncidentFilter(limit=50))
    expected = sorted(made, key=lambda i: (i.date_start.value, i.id), reverse=True)[:50]
    assert [s.id for s in page] == [i.id for i in expected]
    everything = view.incidents.list(IncidentFilter())
    assert len(everything) == len(made) and hidden.id not in {s.id for s in everything}


def test_other_listings_across_many_granted_cases_keep_need_to_know(registry: Registry) -> None:
    user = registry.accounts.add_user("olga", "a perfectly good passphrase", "coordinator")
    made = [registry.defenders.add(factories.defender(display_name=f"Berta {n}"))
            for n in range(MANY_CASES + 5)]  # fmt: skip
    hidden = made.pop()
    kept = registry.evidence.add(made[0].case_id, "note.txt", b"threat by phone")
    registry.evidence.add(hidden.case_id, "other.txt", b"not for olga")
    for defender in made:
        assert defender.case_id
        registry.grants.grant(defender.case_id, "user", user.id, "read")
    with registry.store.read() as conn:
        actor = actor_for_user(conn, user.id, mfa_complete=True)
    view = registry.acting_as(actor, "user:olga")
    assert {s.id for s in view.defenders.list(DefenderFilter())} == {d.id for d in made}
    found = view.defenders.list(DefenderFilter(text="Berta"))
    assert len(found) == len(made) and hidden.id not in {s.id for s in found}
    cases = [summary.id for summary, *_ in view.cases.list(limit=1000)]
    assert sorted(cases) == sorted(d.case_id for d in made if d.case_id)
    assert [item.id for item in view.evidence.list()] == [kept.id]
