"""Risk scoring: Risk = Threats x Vulnerabilities / Capacities (DOMAIN.md section 6). No I/O.

The form has 30 items (T1-T8, V1-V12, C1-C10), each scored 0..max. Each group is normalised
to 0-1 and ``index = T x (0.5 + V) / (0.5 + C)`` (0 to 3). The index falls in a band through
cut-points that are configuration (``Bands``); then the overrides raise the band for facts the
arithmetic must never average away:

- a death threat, abduction attempt or attempted killing in the last 90 days: at least High;
- a credible death threat and a peer killed nearby within 12 months: Extreme;
- disappeared or held incommunicado: Extreme, and urgent action.

A person reviews every result and may set another band with a written reason. The items, their
help texts and suggested actions (English and Spanish) are the data file
``amparo/vocab/forms/risk_items.csv``, read by :func:`load_items` when called, never at import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.resources import files

__all__ = [
    "BANDS",
    "FACTS",
    "GROUPS",
    "Assessment",
    "Bands",
    "Driver",
    "Item",
    "Override",
    "assess",
    "load_items",
    "next_review",
]

BANDS: tuple[str, ...] = ("low", "medium", "high", "extreme")
GROUPS: tuple[str, ...] = ("threat", "vulnerability", "capacity")
# Facts about the last 90 days or 12 months that the overrides read (not form items).
FACTS: Mapping[str, str] = {
    "death_threat_90d": "a death threat in the last 90 days",
    "abduction_attempt_90d": "an abduction or abduction attempt in the last 90 days",
    "attempted_killing_90d": "an attempted killing in the last 90 days",
    "credible_death_threat": "a death threat judged credible (five-step threat analysis)",
    "peer_killed_12m": "a peer killed nearby within the last 12 months",
    "disappeared": "disappeared or held incommunicado now",
}
ACTION_KINDS = {"threat": "reduce_threat", "vulnerability": "reduce_vulnerability",
                "capacity": "build_capacity"}  # fmt: skip
REVIEW_DAYS = {"low": 180, "medium": 180, "high": 90, "extreme": 90}


@dataclass(frozen=True)
class Item:
    code: str
    group: str
    max: int
    label: Mapping[str, str]
    help: Mapping[str, str]
    action: Mapping[str, str]

    def text(self, what: str, lang: str) -> str:
        table: Mapping[str, str] = getattr(self, what)
        return table.get(lang) or table["en"]


@dataclass(frozen=True)
class Bands:
    """Cut-points on the index: below ``medium`` is Low, below ``high`` Medium, and so on."""

    medium: float = 0.25
    high: float = 0.6
    extreme: float = 1.2

    def __post_init__(self) -> None:
        if not 0 < self.medium < self.high < self.extreme:
            raise ValueError("risk cut-points must rise: 0 < medium < high < extreme")

    def band(self, index: float) -> str:
        if index >= self.extreme:
            return "extreme"
        if index >= self.high:
            return "high"
        if index >= self.medium:
            return "medium"
        return "low"


@dataclass(frozen=True)
class Override:
    rule: str  # at_least_high_90d | death_threat_and_peer_killed | disappeared
    band: str
    facts: tuple[str, ...]


@dataclass(frozen=True)
class Driver:
    """A factor that drives the result: a threat or vulnerability present, a capacity missing."""

    code: str
    group: str
    weight: float  # its share of its group's normalised score (0-1)
    action_kind: str


@dataclass(frozen=True)
class Assessment:
    scores: Mapping[str, int]
    threat: float
    vulnerability: float
    capacity: float
    index: float
    computed_band: str  # from the index alone
    band: str  # after the overrides
    overrides: tuple[Override, ...]
    drivers: tuple[Driver, ...]
    urgent_action: bool
    facts: tuple[str, ...] = field(default=())


def load_items() -> tuple[Item, ...]:
    """The 30 form items from the data file, in form order (T1..T8, V1..V12, C1..C10)."""
    text = files("amparo.vocab").joinpath("forms", "risk_items.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        langs = [k.removeprefix("label_") for k in row if k.startswith("label_")]
        out.append(Item(
            code=row["code"], group=row["group"], max=int(row["max"]),
            label={lang: row[f"label_{lang}"] for lang in langs},
            help={lang: row[f"help_{lang}"] for lang in langs},
            action={lang: row[f"action_{lang}"] for lang in langs},
        ))  # fmt: skip
    return tuple(out)


def _rank(band: str) -> int:
    return BANDS.index(band)


def assess(
    items: Sequence[Item],
    scores: Mapping[str, int],
    facts: Sequence[str] = (),
    bands: Bands | None = None,
) -> Assessment:
    """Score a filled form. Every item must be scored within its range; unknown codes and
    facts are refused (ValueError), so a typo never silently scores zero."""
    bands = bands or Bands()
    by_code = {item.code: item for item in items}
    unknown = set(scores) - set(by_code)
    if unknown:
        raise ValueError(f"unknown risk item(s): {', '.join(sorted(unknown))}")
    missing = [code for code in by_code if code not in scores]
    if missing:
        raise ValueError(f"unscored risk item(s): {', '.join(missing)}")
    for code, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{code}: a score is a whole number")
        if not 0 <= value <= by_code[code].max:
            raise ValueError(f"{code}: {value} is outside 0-{by_code[code].max}")
    bad_facts = set(facts) - set(FACTS)
    if bad_facts:
        raise ValueError(f"unknown fact(s): {', '.join(sorted(bad_facts))}")

    totals: dict[str, tuple[int, int]] = {}
    for group in GROUPS:
        members = [item for item in items if item.group == group]
        totals[group] = (sum(scores[i.code] for i in members), sum(i.max for i in members))
    t, v, c = (totals[g][0] / totals[g][1] if totals[g][1] else 0.0 for g in GROUPS)
    index = t * (0.5 + v) / (0.5 + c)
    computed = bands.band(index)

    present = set(facts)
    overrides: list[Override] = []
    recent = sorted(present & {"death_threat_90d", "abduction_attempt_90d",
                               "attempted_killing_90d"})  # fmt: skip
    if recent:
        overrides.append(Override("at_least_high_90d", "high", tuple(recent)))
    if {"credible_death_threat", "peer_killed_12m"} <= present:
        overrides.append(Override("death_threat_and_peer_killed", "extreme",
                                  ("credible_death_threat", "peer_killed_12m")))  # fmt: skip
    if "disappeared" in present:
        overrides.append(Override("disappeared", "extreme", ("disappeared",)))
    band = computed
    for override in overrides:
        if _rank(override.band) > _rank(band):
            band = override.band

    drivers: list[Driver] = []
    for item in items:
        total = totals[item.group][1]
        if item.group == "capacity":
            weight = (item.max - scores[item.code]) / total  # a missing capacity drives risk
        else:
            weight = scores[item.code] / total
        if weight > 0 and (item.group != "capacity" or scores[item.code] < item.max):
            drivers.append(Driver(item.code, item.group, round(weight, 4),
                                  ACTION_KINDS[item.group]))  # fmt: skip
    # Strongest first: threats, then vulnerabilities, then missing capacities, by weight.
    drivers.sort(key=lambda d: (GROUPS.index(d.group), -d.weight, d.code))
    return Assessment(
        scores=dict(scores), threat=round(t, 4), vulnerability=round(v, 4),
        capacity=round(c, 4), index=round(index, 4), computed_band=computed, band=band,
        overrides=tuple(overrides), drivers=tuple(drivers), urgent_action="disappeared" in present,
        facts=tuple(sorted(present)),
    )  # fmt: skip


def next_review(band: str, assessed_on: date, *, urgent: bool = False) -> date:
    """90 days for High and Extreme, 180 otherwise; the same day when urgent action is due."""
    if urgent:
        return assessed_on
    return assessed_on + timedelta(days=REVIEW_DAYS[band])
