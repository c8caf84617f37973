"""Risk scoring: the formula, the bands as configuration, every override, monotonicity."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amparo.domain.risk import BANDS, FACTS, Bands, assess, load_items, next_review

ITEMS = load_items()
CODES = [item.code for item in ITEMS]
MAX = {item.code: item.max for item in ITEMS}


def zeros(**scores: int) -> dict[str, int]:
    return {code: scores.get(code, 0) for code in CODES}


def test_the_form_has_thirty_items_with_spanish_help_and_actions() -> None:
    assert [c for c in CODES if c[0] == "T"] == [f"T{i}" for i in range(1, 9)]
    assert [c for c in CODES if c[0] == "V"] == [f"V{i}" for i in range(1, 13)]
    assert [c for c in CODES if c[0] == "C"] == [f"C{i}" for i in range(1, 11)]
    assert MAX["T1"] == 4 and MAX["T2"] == 3 and all(MAX[c] == 2 for c in CODES[2:])
    for item in ITEMS:
        for what in ("label", "help", "action"):
            assert item.text(what, "en") and item.text(what, "es")
            assert item.text(what, "es") != item.text(what, "en")
    assert ITEMS[0].text("label", "fr") == ITEMS[0].text("label", "en")  # falls back


def test_formula() -> None:
    result = assess(ITEMS, zeros(T1=4, T2=3, V1=2, V2=2, C1=2))
    t, v, c = 7 / 19, 4 / 24, 2 / 20
    assert result.index == pytest.approx(t * (0.5 + v) / (0.5 + c), abs=1e-4)
    assert (result.threat, result.vulnerability, result.capacity) == (
        pytest.approx(t, abs=1e-4),
        pytest.approx(v, abs=1e-4),
        pytest.approx(c, abs=1e-4),
    )
    assert result.computed_band == result.band == "medium"
    assert result.overrides == () and not result.urgent_action


def test_extremes() -> None:
    assert assess(ITEMS, zeros()).index == 0 and assess(ITEMS, zeros()).band == "low"
    worst = assess(ITEMS, {c: (MAX[c] if c[0] != "C" else 0) for c in CODES})
    assert worst.index == 3.0 and worst.band == "extreme"


def test_bands_are_configuration() -> None:
    scores = zeros(T1=4, T2=3, V1=2, V2=2, C1=2)  # index 0.409
    assert assess(ITEMS, scores).band == "medium"
    assert assess(ITEMS, scores, bands=Bands(0.1, 0.2, 0.4)).band == "extreme"
    assert assess(ITEMS, scores, bands=Bands(0.5, 0.8, 1.0)).band == "low"
    with pytest.raises(ValueError, match="rise"):
        Bands(0.5, 0.4, 1.0)


@pytest.mark.parametrize(
    "fact", ["death_threat_90d", "abduction_attempt_90d", "attempted_killing_90d"]
)
def test_recent_lethal_threat_means_at_least_high(fact: str) -> None:
    result = assess(ITEMS, zeros(), [fact])
    assert result.computed_band == "low" and result.band == "high"
    assert [o.rule for o in result.overrides] == ["at_least_high_90d"]
    assert result.overrides[0].facts == (fact,)
    # Never lowers a higher band.
    worst = {c: (MAX[c] if c[0] != "C" else 0) for c in CODES}
    assert assess(ITEMS, worst, [fact]).band == "extreme"


def test_credible_death_threat_and_peer_killed_means_extreme() -> None:
    result = assess(ITEMS, zeros(), ["credible_death_threat", "peer_killed_12m"])
    assert result.band == "extreme" and not result.urgent_action
    assert [o.rule for o in result.overrides] == ["death_threat_and_peer_killed"]
    # Either fact alone overrides nothing.
    assert assess(ITEMS, zeros(), ["credible_death_threat"]).band == "low"
    assert assess(ITEMS, zeros(), ["peer_killed_12m"]).band == "low"


def test_disappeared_means_extreme_and_urgent_action() -> None:
    result = assess(ITEMS, zeros(C1=2, C2=2), ["disappeared"])
    assert result.band == "extreme" and result.urgent_action
    assert [o.rule for o in result.overrides] == ["disappeared"]
    assert next_review("extreme", date(2026, 1, 1), urgent=True) == date(2026, 1, 1)


def test_several_overrides_take_the_highest() -> None:
    facts = ["death_threat_90d", "credible_death_threat", "peer_killed_12m"]
    result = assess(ITEMS, zeros(), facts)
    assert result.band == "extreme"
    assert {o.rule for o in result.overrides} == {
        "at_least_high_90d",
        "death_threat_and_peer_killed",
    }


def test_drivers_and_actions() -> None:
    result = assess(ITEMS, zeros(T1=4, T5=1, V6=2, C1=1, **{f"C{i}": 2 for i in range(2, 11)}))
    codes = [d.code for d in result.drivers]
    assert codes == ["T1", "T5", "V6", "C1"]
    assert [d.action_kind for d in result.drivers] == [
        "reduce_threat",
        "reduce_threat",
        "reduce_vulnerability",
        "build_capacity",
    ]


def test_review_dates() -> None:
    on = date(2026, 1, 1)
    assert next_review("high", on) == date(2026, 4, 1)
    assert next_review("extreme", on) == date(2026, 4, 1)
    assert next_review("medium", on) == date(2026, 6, 30)
    assert next_review("low", on) == date(2026, 6, 30)


@pytest.mark.parametrize("scores, message", [
    ({**zeros(), "T1": 5}, "outside"), ({**zeros(), "T9": 1}, "unknown"),
    ({c: 0 for c in CODES[1:]}, "unscored"), ({**zeros(), "T1": True}, "whole"),
])  # fmt: skip
def test_bad_forms_are_refused(scores: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assess(ITEMS, scores)


def test_unknown_facts_are_refused() -> None:
    with pytest.raises(ValueError, match="fact"):
        assess(ITEMS, zeros(), ["rumour"])


forms = st.fixed_dictionaries({c: st.integers(0, MAX[c]) for c in CODES})


@given(forms, st.sampled_from(CODES), st.lists(st.sampled_from(sorted(FACTS)), unique=True))
def test_index_is_monotone_in_every_item(
    scores: dict[str, int], code: str, facts: list[str]
) -> None:
    if scores[code] == MAX[code]:
        return
    before = assess(ITEMS, scores, facts)
    after = assess(ITEMS, {**scores, code: scores[code] + 1}, facts)
    if code[0] in "TV":
        assert after.index >= before.index
        assert BANDS.index(after.band) >= BANDS.index(before.band)
    else:
        assert after.index <= before.index
        assert BANDS.index(after.band) <= BANDS.index(before.band)


@given(forms, st.lists(st.sampled_from(sorted(FACTS)), unique=True))
def test_overrides_never_lower_the_band(scores: dict[str, int], facts: list[str]) -> None:
    result = assess(ITEMS, scores, facts)
    assert BANDS.index(result.band) >= BANDS.index(result.computed_band)
    assert 0 <= result.index <= 3
