"""Risk assessments: immutable versions, incident facts, review dates, risk-review flags."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from amparo.errors import NotFound, ValidationError
from amparo.registry import Registry
from amparo.store import schema
from tests import factories


def zeros(**scores: int) -> dict[str, int]:
    codes = [f"T{i}" for i in range(1, 9)] + [f"V{i}" for i in range(1, 13)]
    codes += [f"C{i}" for i in range(1, 11)]
    return {code: scores.get(code, 0) for code in codes}


@pytest.fixture
def defender_id(registry: Registry) -> str:
    return registry.defenders.add(factories.defender()).id


def test_assessments_are_versions_with_history(registry: Registry, defender_id: str) -> None:
    first = registry.risk.assess(defender_id, zeros(T1=2, V1=2), note="first visit")
    second = registry.risk.assess(defender_id, zeros(T1=4, T2=3, T3=2, V1=2, V2=2))
    assert (first.version, second.version) == (1, 2)
    assert first.band == "low" and second.band == "high"
    assert first.note == "first visit" and second.note is None
    history = registry.risk.history(defender_id)
    assert [a.version for a in history] == [1, 2]
    assert history[0].scores == first.scores  # the first is unchanged by the second
    assert registry.risk.show(defender_id).version == 2
    assert registry.risk.show(defender_id, 1).index == first.index
    with pytest.raises(NotFound):
        registry.risk.show(defender_id, 3)
    assert second.next_review == date(2027, 1, 30)  # 90 days after 2026-11-01
    case = registry.protection.get(second.case_id)
    assert case.review_due == date(2027, 1, 30)
    assert second.drivers[0].code == "T1"
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count("risk.assess") == 2 and "risk.history" in actions


def test_notes_are_ciphertext(registry: Registry, defender_id: str) -> None:
    registry.risk.assess(defender_id, zeros(), note="CANARY-NOTE-42")
    with registry.store.read() as conn:
        row = conn.execute(sa.select(schema.risk_assessments)).one()
    assert b"CANARY-NOTE-42" not in bytes(row.note_ct)


def test_a_recent_death_threat_in_the_case_means_at_least_high(
    registry: Registry, defender_id: str
) -> None:
    defender = registry.defenders.get(defender_id)
    registry.incidents.add(factories.incident(date_start="2026-10-20"), case_id=defender.case_id)
    result = registry.risk.assess(defender_id, zeros())
    assert result.computed_band == "low" and result.band == "high"
    assert result.facts == ["death_threat_90d"] and result.overrides == ["at_least_high_90d"]
    assert result.next_review == date(2027, 1, 30)


def test_disappeared_is_extreme_with_urgent_review_today(
    registry: Registry, defender_id: str
) -> None:
    result = registry.risk.assess(defender_id, zeros(), ["disappeared"])
    assert result.band == "extreme" and result.urgent_action
    assert result.next_review == date(2026, 11, 1)


def test_officer_may_choose_another_band_with_a_reason(
    registry: Registry, defender_id: str
) -> None:
    with pytest.raises(ValidationError, match="why"):
        registry.risk.assess(defender_id, zeros(), band="high")
    result = registry.risk.assess(
        defender_id, zeros(), band="high", band_reason="she was followed home yesterday"
    )
    assert result.computed_band == "low" and result.band == "high"
    assert result.officer_band_reason == "she was followed home yesterday"


def test_bad_scores_are_refused(registry: Registry, defender_id: str) -> None:
    with pytest.raises(ValidationError, match="outside"):
        registry.risk.assess(defender_id, zeros(T1=9))
    with pytest.raises(ValidationError, match="fact"):
        registry.risk.assess(defender_id, zeros(), ["gossip"])


def test_a_severe_incident_flags_for_review_and_an_assessment_clears_it(
    registry: Registry, defender_id: str
) -> None:
    defender = registry.defenders.get(defender_id)
    registry.incidents.add(factories.incident(date_start="2026-10-20"), case_id=defender.case_id)
    from amparo.worker import Worker

    assert Worker(registry).run_once().flagged == 1  # the scheduler's next round
    assert Worker(registry).run_once().flagged == 0  # one flag per incident
    flags = registry.risk_flags.for_defender(defender_id, open_only=True)
    assert [f.source_kind for f in flags] == ["severe_incident"]
    due = registry.risk.due()
    assert due and due[0][1] == defender_id and due[0][3] == 1
    registry.risk.assess(defender_id, zeros(T1=4))
    assert registry.risk_flags.for_defender(defender_id, open_only=True) == []
    cleared = registry.risk_flags.for_defender(defender_id)[0]
    assert cleared.clear_note == "reviewed in risk assessment version 1"


def test_the_sweep_flags_severe_incidents_imported_in_bulk_and_not_triage_ones(
    registry: Registry, defender_id: str
) -> None:
    from amparo.worker import Worker

    defender = registry.defenders.get(defender_id)
    registry.incidents.add_many(
        [factories.incident(date_start="2026-10-20")], case_id=defender.case_id
    )
    assert registry.risk_flags.for_defender(defender_id, open_only=True) == []
    assert Worker(registry).run_once().flagged == 1
    assert Worker(registry).run_once().flagged == 0


def test_the_sweep_works_in_short_batches_and_leaves_history_alone(
    registry: Registry, defender_id: str
) -> None:
    """A large import is flagged a batch per transaction, all of it; an attack documented
    today that happened two years ago is history, not a reason to review the risk now."""
    defender = registry.defenders.get(defender_id)
    registry.incidents.add_many(
        [factories.incident(date_start=f"2026-10-{day:02d}") for day in range(1, 8)]
        + [factories.incident(date_start="2024-10-20")],
        case_id=defender.case_id,
    )
    writes = []
    original = registry.store.write

    def counting_write():  # type: ignore[no-untyped-def]
        writes.append(1)
        return original()

    registry.store.write = counting_write  # type: ignore[method-assign]
    since = registry.clock.now().replace(year=2000)
    assert registry.risk.sweep_severe_incidents(since, batch=3) == 7
    assert len(writes) == 3  # 3 + 3 + 1 incidents
    registry.store.write = original  # type: ignore[method-assign]
    assert registry.risk.sweep_severe_incidents(since, batch=3) == 0


def test_shredding_the_case_removes_assessments(registry: Registry, defender_id: str) -> None:
    result = registry.risk.assess(defender_id, zeros(T1=1))
    registry.cases.shred(result.case_id)
    with registry.store.read() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(schema.risk_assessments)).scalar()
            == 0
        )
