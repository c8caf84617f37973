"""Someone who sees hundreds of cases lists by date (a different plan), with the same rows."""

from __future__ import annotations

from amparo.registry import Registry
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
