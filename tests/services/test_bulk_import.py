"""Large imports prepared in a worker process store exactly what the in-process path does."""

from __future__ import annotations

from amparo.registry import Registry
from amparo.services.incidents import IncidentFilter
from tests.factories import defender, incident


def test_parallel_import_matches_the_serial_one(registry: Registry) -> None:
    victim = registry.defenders.add(defender())
    records = [
        incident(title=f"Parallel {n}", narrative=f"marker{n} shared word",
                 acts=[{"act_type": "A10", "victim_defender_id": victim.id}])
        for n in range(1200)
    ]  # fmt: skip
    records[7] = incident(country="ZZ")  # bad vocabulary code: reported by row
    records[9] = incident(acts=[{"act_type": "A09", "victim_defender_id": "f" * 32}])
    seen: list[int] = []
    report = registry.incidents.add_many(
        records, parallel=True, progress=lambda done, _total: seen.append(done)
    )
    assert len(report.added) == 1198
    assert [(row, type(err).__name__) for row, err in report.errors] == [
        (8, "ValidationError"), (10, "ValidationError"),
    ]  # fmt: skip
    assert "country" in str(report.errors[0][1])
    assert "acts[0].victim_defender_id" in str(report.errors[1][1])
    assert seen and seen[-1] == 1200
    assert registry.incidents.count() == 1198
    # Filed in the victim's case, searchable, versioned and audited like any other.
    found = registry.incidents.search("marker1199", IncidentFilter())
    assert len(found) == 1 and found[0].case_id == victim.case_id
    assert registry.incidents.history(found[0].id)[0].action == "create"
    assert len(registry.incidents.search("shared", IncidentFilter(limit=None))) == 1198
    assert registry.audit.verify().ok
    assert len(registry.audit.entries(action="incident.create")) == 1198
