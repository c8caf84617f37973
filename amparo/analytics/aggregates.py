"""Counts of acts by coded dimensions, trends per period, and escalation patterns.

Public API (what charts, reports and the CLI call)::

    aggregate(registry, by=["country", "act_type"], filters=IncidentFilter(year=2024),
              crosswalk="amparo") -> Table
    trend(registry, period="year", by=["act_type"], filters=..., crosswalk=...) -> Trend
    escalations(registry, filters=...) -> Escalations

**What is counted.** Acts (one victim x one act type, DOMAIN.md §1). A cell is the number of
acts whose facets take those values. Dimensions (:data:`DIMENSIONS`):

- ``act_type`` in the chosen ``crosswalk``: ``amparo`` (the A01-A99 codes) or one of
  :data:`amparo.domain.vocabularies.CROSSWALK_SCHEMES` (``front_line_defenders``, ``bhrrc``,
  ``im_defensoras``, ``sdg_16_10_1``, ``huridocs``); an act type without a category in that
  scheme counts under ``None`` ("not mapped");
- ``country``, ``region`` (the incident's; ``region`` is free text, so never published);
- ``year``, ``quarter`` (``2024-Q3``), ``month`` (``2024-07``) of the incident's start date,
  the date the incident list filters by (an approximate date counts at its stored start);
- ``gender_identity`` and ``defender_kind`` of the victim defender (``None`` when the victim
  is not a defender profile, or for collectives with no gender identity);
- ``sector`` of the victim defender, ``perpetrator_type`` of the perpetrators involved in the
  act, ``gender_feature`` of the act: *multi-valued*, so one act counts once under each of
  its values (and under ``None`` when it has none); cells then add up to more than the acts;
- ``modality``, ``gender_specific``, ``target_relation`` of the act.

**Filters** are the incident list's :class:`~amparo.services.incidents.IncidentFilter`, so the
analytics page shares its form with the list. Incident filters (country, region, year, dates,
case) select acts by their incident, as the list does; act filters (``act_type``,
``modality``, ``gender_specific``, ``gender_feature``, ``defender_id``), victim filters
(``gender_identity``, ``sector``) and ``perpetrator_type`` apply to each act itself: with
``act_type='A09'`` the count is of death threats, not of every act in incidents that include
one. Keyword search (``text``) is refused: counts by keyword would probe the encrypted
narratives. Paging and sorting fields are ignored.

**Who sees what** (need-to-know, DOMAIN.md §8). ``scope="cases"`` (the default for anyone who
may ``read`` registry records) counts only acts of incidents in cases the principal may read,
exactly the incidents the list shows them (the operator: all). ``scope="registry"`` (the
default for analysts, who hold only ``read_aggregates``) counts the whole registry, and the
table always comes back through :func:`amparo.analytics.disclosure.protect` with ``k`` at
least :data:`~amparo.analytics.disclosure.DEFAULT_K`: the permission is "see counts with small
numbers suppressed". Confidential incidents are counted (confidentiality masks their text on
screen; counts carry no text) unless ``include_confidential=False``.

**How.** Every aggregate is one ``GROUP BY`` over ``act_facts``, a narrow plaintext table of
coded facets kept in step by database triggers (amparo/store/facts_ddl.py); nothing is
decrypted. Crosswalks, quarters and multi-valued dimensions are folded in Python over the
grouped rows, which are few. On SQLite a count over a large part of a large registry is cut
into rowid ranges counted side by side on the machine's cores (:func:`_grouped`).
"""

from __future__ import annotations

import os
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from amparo.domain.vocabularies import CROSSWALK_SCHEMES
from amparo.errors import Forbidden, ValidationError
from amparo.security.permissions import Resource
from amparo.services.incidents import IncidentFilter
from amparo.services.visibility import in_cases
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = [
    "CROSSWALKS",
    "DIMENSIONS",
    "MULTI_VALUED",
    "OFFLINE_MODALITIES",
    "PERIODS",
    "PHYSICAL_ACTS",
    "THREAT_ACTS",
    "Escalation",
    "Escalations",
    "Table",
    "Trend",
    "TrendRow",
    "aggregate",
    "escalations",
    "trend",
]

F = schema.act_facts
Value = str | None
Scope = Literal["cases", "registry"]

CROSSWALKS: tuple[str, ...] = ("amparo", *CROSSWALK_SCHEMES)
PERIODS: tuple[str, ...] = ("year", "quarter", "month")
#: dimension -> the vocabulary its values come from (None: not a vocabulary)
DIMENSIONS: Mapping[str, str | None] = {
    "act_type": "act_types",
    "country": "countries",
    "region": None,
    "year": None,
    "quarter": None,
    "month": None,
    "gender_identity": "gender_identities",
    "defender_kind": "defender_kinds",
    "sector": "sectors",
    "perpetrator_type": "perpetrator_types",
    "modality": "modalities",
    "gender_specific": "yes_no_unknown",
    "gender_feature": "gender_features",
    "target_relation": "target_relations",
}
MULTI_VALUED = frozenset({"sector", "perpetrator_type", "gender_feature"})
_COLUMNS: Mapping[str, sa.ColumnElement[Any]] = {
    "act_type": F.c.act_type,
    "country": F.c.country,
    "region": F.c.region,
    "gender_identity": F.c.gender_identity,
    "defender_kind": F.c.defender_kind,
    "sector": F.c.sectors,
    "perpetrator_type": F.c.perpetrator_types,
    "modality": F.c.modality,
    "gender_specific": F.c.gender_specific,
    "gender_feature": F.c.gender_features,
    "target_relation": F.c.target_relation,
}
#: Escalation patterns (DOMAIN.md §2): threats are death threats and threats/intimidation;
#: physical attacks are killings, attempts, disappearance, abduction, torture, assault,
#: sexual violence and excessive force. Offline: in person, or in person and online.
THREAT_ACTS: tuple[str, ...] = ("A09", "A10")
PHYSICAL_ACTS: tuple[str, ...] = ("A01", "A02", "A03", "A04", "A05", "A06", "A07", "A25")
OFFLINE_MODALITIES: tuple[str, ...] = ("in_person", "both")
INTERVAL_BUCKETS: tuple[tuple[str, int], ...] = (
    ("0-30 days", 30), ("31-90 days", 90), ("91-365 days", 365), ("over a year", 10**9),
)  # fmt: skip
MANY_CASES = 200  # visible cases beyond which a scan beats the case index (as in the list)
PARTITIONS = 4  # at most this many rowid ranges counted side by side on SQLite (_grouped)
PARTITION_MIN_ROWS = 200_000  # below this many acts one range is quick enough


@dataclass(frozen=True)
class Table:
    """A count of acts per combination of dimension values.

    ``rows`` are ``(value, ..., count)`` in the order of ``dimensions``, sorted by count
    (largest first) then values; combinations with no act are absent. ``count`` is None for a
    cell a disclosure-protected table suppressed. ``total`` is the number of distinct acts
    counted (with a multi-valued dimension the cells add up to more). ``margins`` holds the
    published totals of a protected table (see amparo.analytics.disclosure); empty otherwise.
    """

    dimensions: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    total: int | None
    crosswalk: str = "amparo"
    scope: str = "cases"
    filters: Mapping[str, Any] = field(default_factory=dict)
    protected: bool = False
    k: int | None = None
    epsilon: float | None = None
    margins: Mapping[str, Mapping[Value, int | None]] = field(default_factory=dict)

    @property
    def multi_valued(self) -> tuple[str, ...]:
        return tuple(d for d in self.dimensions if d in MULTI_VALUED)

    def cells(self) -> dict[tuple[Value, ...], int | None]:
        return {tuple(r[:-1]): r[-1] for r in self.rows}

    def margin(self, dimension: str) -> dict[Value, int]:
        """Sum of the cells per value of ``dimension`` (over published cells only)."""
        i = self.dimensions.index(dimension)
        out: dict[Value, int] = defaultdict(int)
        for r in self.rows:
            out[r[i]] += r[-1] or 0
        return dict(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimensions": list(self.dimensions),
            "crosswalk": self.crosswalk,
            "scope": self.scope,
            "filters": dict(self.filters),
            "rows": [
                {**dict(zip(self.dimensions, r[:-1], strict=True)), "count": r[-1]}
                for r in self.rows
            ],
            "total": self.total,
            "multi_valued": list(self.multi_valued),
            "protected": self.protected,
            "k": self.k,
            "epsilon": self.epsilon,
            "margins": {d: {str(v): n for v, n in m.items()} for d, m in self.margins.items()},
        }


@dataclass(frozen=True)
class TrendRow:
    values: tuple[Value, ...]  # the other dimensions' values (empty for a plain trend)
    period: str
    count: int | None  # None: suppressed (registry scope)
    change: int | None  # against the previous period of the same series (None for the first)
    change_pct: float | None  # None for the first period or after a zero


@dataclass(frozen=True)
class Trend:
    """Counts per period for each series (a combination of the ``by`` values), gaps as 0."""

    period: str
    dimensions: tuple[str, ...]
    rows: tuple[TrendRow, ...]
    crosswalk: str = "amparo"

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "dimensions": list(self.dimensions),
            "crosswalk": self.crosswalk,
            "rows": [
                {
                    **dict(zip(self.dimensions, r.values, strict=True)),
                    "period": r.period, "count": r.count, "change": r.change,
                    "change_pct": r.change_pct,
                }
                for r in self.rows
            ],
        }  # fmt: skip


@dataclass(frozen=True)
class Escalation:
    """Defenders for whom an act of the first kind came before one of the second kind."""

    pattern: str
    defenders_with_first: int | None  # defenders with at least one act of the first kind
    escalated: int | None  # ... of whom a later act of the second kind was recorded
    median_days: float | None  # from the first act of the first kind to the next of the second
    mean_days: float | None
    intervals: Mapping[str, int | None]  # INTERVAL_BUCKETS label -> defenders

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "defenders_with_first": self.defenders_with_first,
            "escalated": self.escalated,
            "median_days": self.median_days,
            "mean_days": self.mean_days,
            "intervals": dict(self.intervals),
        }


@dataclass(frozen=True)
class Escalations:
    patterns: tuple[Escalation, ...]
    scope: str = "cases"

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "patterns": [p.to_dict() for p in self.patterns]}


# -- public functions ---------------------------------------------------------------------


def aggregate(
    registry: Registry,
    by: Sequence[str],
    filters: IncidentFilter | None = None,
    crosswalk: str = "amparo",
    *,
    scope: Scope | None = None,
    include_confidential: bool = True,
    k: int | None = None,
) -> Table:
    """Count acts by the dimensions in ``by`` (none: one row with the total).

    ``scope="registry"`` returns a protected table (suppression with ``k``, at least 5).
    Raises ``ValidationError`` for an unknown dimension, crosswalk or a keyword filter, and
    ``Forbidden`` when the principal may see no counts at all.
    """
    dims = _check_dimensions(by)
    _check_crosswalk(crosswalk)
    q = filters or IncidentFilter()
    chosen, cases = _scope(registry, scope)
    keys: list[sa.ColumnElement[Any]] = []
    for d in dims:
        keys.append(_period_key(registry.store.dialect) if d in PERIODS else _COLUMNS[d])
    unique_keys = list(dict.fromkeys(keys))
    where = _conditions(registry, q, cases, include_confidential)
    stmt = sa.select(*unique_keys, sa.func.count().label("n")).where(*where)
    if unique_keys:
        stmt = stmt.group_by(*unique_keys)
    counts: dict[tuple[Value, ...], int] = defaultdict(int)
    total = 0
    grouped = _grouped(registry, stmt, len(unique_keys), _scans(q, cases))
    names = registry.vocab["act_types"]
    for row in grouped:
        raw = dict(zip(unique_keys, row[:-1], strict=True))
        n = int(row[-1])
        total += n
        choices: list[list[Value]] = []
        for d, key in zip(dims, keys, strict=True):
            value = raw[key]
            if d in PERIODS:
                choices.append([_period(str(value), d)])
            elif d == "act_type":
                choices.append([_crosswalked(names, value, crosswalk)])
            elif d in MULTI_VALUED:
                choices.append(list(dict.fromkeys(schema.codes_from_column(value))) or [None])
            else:
                choices.append([value])
        for combo in _product(choices):
            counts[combo] += n
    rows = tuple(
        (*values, n)
        for values, n in sorted(counts.items(), key=lambda kv: (-kv[1], _sort_key(kv[0])))
    )
    table = Table(
        dimensions=tuple(dims), rows=rows, total=total, crosswalk=crosswalk, scope=chosen,
        filters=_filter_dict(q),
    )  # fmt: skip
    if chosen == "registry":
        from amparo.analytics.disclosure import DEFAULT_K, protect

        return protect(table, k=max(k or DEFAULT_K, DEFAULT_K), vocab=registry.vocab)
    return table


def trend(
    registry: Registry,
    period: str = "year",
    by: Sequence[str] = (),
    filters: IncidentFilter | None = None,
    crosswalk: str = "amparo",
    *,
    scope: Scope | None = None,
    include_confidential: bool = True,
) -> Trend:
    """Counts per ``period`` (year, quarter, month) for each series of ``by`` values.

    Periods with no act between a series' first and last are filled with 0; ``change`` is
    the difference with the previous period, ``change_pct`` the relative change in percent.
    With ``scope="registry"`` suppressed cells count as unknown and break the series' change.
    """
    if period not in PERIODS:
        raise ValidationError("period", f"must be one of {', '.join(PERIODS)}")
    dims = [d for d in _check_dimensions(by) if d not in PERIODS]
    table = aggregate(
        registry, [*dims, period], filters, crosswalk, scope=scope,
        include_confidential=include_confidential,
    )  # fmt: skip
    series: dict[tuple[Value, ...], dict[str, int | None]] = defaultdict(dict)
    for r in table.rows:
        series[tuple(r[: len(dims)])][str(r[len(dims)])] = r[-1]
    out: list[TrendRow] = []
    for values in sorted(series, key=_sort_key):
        points = series[values]
        previous: int | None = None
        for i, label in enumerate(_period_range(min(points), max(points), period)):
            n = points.get(label, 0)
            change = pct = None
            if i > 0 and previous is not None and n is not None:
                change = n - previous
                pct = round(100.0 * change / previous, 1) if previous else None
            out.append(TrendRow(values, label, n, change, pct))
            previous = n
    return Trend(period=period, dimensions=tuple(dims), rows=tuple(out), crosswalk=crosswalk)


def escalations(
    registry: Registry,
    filters: IncidentFilter | None = None,
    *,
    scope: Scope | None = None,
    include_confidential: bool = True,
) -> Escalations:
    """For the same defender: online acts before offline attacks, threats before physical.

    For each defender with an act of the first kind, the interval runs from her first such
    act to the first act of the second kind strictly after it (acts dated by their own date,
    else their incident's). Only acts whose victim is a defender profile count (including
    acts against her family or colleagues, recorded under her profile). A registry-wide
    result (``scope="registry"``, analysts) suppresses counts below 5 (None).
    """
    q = filters or IncidentFilter()
    chosen, cases = _scope(registry, scope)
    where = _conditions(registry, q, cases, include_confidential)
    patterns = (
        ("online_before_offline", F.c.modality == "online",
         F.c.modality.in_(OFFLINE_MODALITIES)),
        ("threat_before_physical", F.c.act_type.in_(THREAT_ACTS),
         F.c.act_type.in_(PHYSICAL_ACTS)),
    )  # fmt: skip
    # One pass in defender order over the covering index (victim, act day, modality, act
    # type, case, confidential: migration 0011) finds each defender's first act of every
    # first kind; then, per defender and pattern, one probe of the same index finds the
    # first act of the second kind after it. A self-join per pattern instead read the
    # million acts twice and sorted them: 9 s on SQLite at a million acts.
    firsts = (
        sa.select(
            F.c.victim_defender_id.label("who"),
            *(sa.func.min(sa.case((kind, F.c.act_day))).label(f"first_{i}")
              for i, (_, kind, _) in enumerate(patterns)),
        )
        .where(*where, F.c.victim_defender_id.is_not(None))
        .group_by(F.c.victim_defender_id)
        .cte("firsts")
    )  # fmt: skip
    g = F.alias("later")
    later_where = _conditions(registry, q, cases, include_confidential, table=g)
    nexts = [
        sa.select(sa.func.min(g.c.act_day))
        .where(
            g.c.victim_defender_id == firsts.c.who,
            g.c.act_day > firsts.c[f"first_{i}"],
            _on(second_kind, g),
            *later_where,
        )
        .scalar_subquery()
        .label(f"next_{i}")
        for i, (_, _, second_kind) in enumerate(patterns)
    ]
    stmt = sa.select(*(firsts.c[f"first_{i}"] for i in range(len(patterns))), *nexts)
    with_first = [0] * len(patterns)
    days: list[list[int]] = [[] for _ in patterns]
    with registry.store.read() as conn:
        if registry.store.dialect == "postgresql":
            # PostgreSQL compiles this plan to machine code because its cost looks high; for
            # a query of about a second the compiling took 75 ms and saved nothing.
            conn.exec_driver_sql("SET LOCAL jit = off")
        for row in conn.execute(stmt):
            for i in range(len(patterns)):
                at, next_at = row[i], row[len(patterns) + i]
                if at is None:
                    continue
                with_first[i] += 1
                if next_at is not None:
                    days[i].append((_as_date(next_at) - _as_date(at)).days)
    out = []
    for (name, _, _), counted, waited in zip(patterns, with_first, days, strict=True):
        buckets = {label: 0 for label, _ in INTERVAL_BUCKETS}
        for d in waited:
            for label, upper in INTERVAL_BUCKETS:
                if d <= upper:
                    buckets[label] += 1
                    break
        out.append(
            Escalation(
                pattern=name, defenders_with_first=counted, escalated=len(waited),
                median_days=float(statistics.median(waited)) if waited else None,
                mean_days=round(statistics.fmean(waited), 1) if waited else None,
                intervals=dict(buckets),
            )
        )  # fmt: skip
    result = Escalations(patterns=tuple(out), scope=chosen)
    if chosen == "registry":
        from amparo.analytics.disclosure import protect_escalations

        return protect_escalations(result)
    return result


# -- helpers ------------------------------------------------------------------------------


def _scans(q: IncidentFilter, cases: list[str] | None) -> bool:
    """Whether the count reads the whole of act_facts rather than an index (the case index for
    a few cases or one case, the escalation index for one defender): what partitions help."""
    few_cases = cases is not None and len(cases) <= MANY_CASES
    return not (few_cases or q.case_id or q.defender_id)


def _grouped(
    registry: Registry, stmt: sa.Select[Any], width: int, scans: bool
) -> list[tuple[Any, ...]]:
    """The rows of a grouped count ``stmt`` (``width`` keys, then the count).

    SQLite groups by sorting every row it reads, on one core: 0.6-1.7 s at a million acts
    for the whole registry. When the count scans the table and the table is large, it is cut
    into rowid ranges counted side by side, one reader connection and one core each (sqlite3
    lets go of the interpreter lock while SQLite works), and the counts are added up: each
    act is in exactly one range, and the last range is open so that acts inserted meanwhile
    fall in it. The ranges read at nearly the same moment but not in one transaction, so a
    write committed in between may show in one range and not another, as it would between
    two requests. PostgreSQL hashes and parallelises by itself.
    """
    parts = min(PARTITIONS, os.cpu_count() or 1)
    rowid: sa.ColumnElement[int] = sa.literal_column("act_facts.rowid")
    with registry.store.read() as conn:
        if registry.store.dialect == "sqlite" and scans and parts > 1:
            last = conn.execute(sa.select(sa.func.max(rowid)).select_from(F)).scalar() or 0
        else:
            last = 0
        if last < PARTITION_MIN_ROWS:
            return [tuple(r) for r in conn.execute(stmt)]
    step = last // parts + 1
    pieces = [stmt.where(rowid >= i * step, *([rowid < (i + 1) * step] if i < parts - 1 else []))
              for i in range(parts)]  # fmt: skip

    def count(piece: sa.Select[Any]) -> list[Any]:
        with registry.store.read() as conn:
            return list(conn.execute(piece))

    summed: dict[tuple[Any, ...], int] = defaultdict(int)
    with ThreadPoolExecutor(parts) as pool:
        for rows in pool.map(count, pieces):
            for row in rows:
                summed[tuple(row[:width])] += int(row[width])
    return [(*key, n) for key, n in summed.items()]


def _check_dimensions(by: Iterable[str]) -> list[str]:
    dims = list(by)
    for d in dims:
        if d not in DIMENSIONS:
            raise ValidationError("by", f"unknown dimension {d!r}; one of {', '.join(DIMENSIONS)}")
    if len(set(dims)) != len(dims):
        raise ValidationError("by", "a dimension is named twice")
    return dims


def _check_crosswalk(crosswalk: str) -> None:
    if crosswalk not in CROSSWALKS:
        raise ValidationError("crosswalk", f"must be one of {', '.join(CROSSWALKS)}")


def _scope(registry: Registry, scope: Scope | None) -> tuple[Scope, list[str] | None]:
    """The scope chosen and the visible cases (None: every case)."""
    reads = registry.allowed("read", Resource("registry"))
    totals = registry.allowed("read_aggregates", Resource("registry"))
    if scope is None:
        scope = "cases" if reads else "registry"
    if scope == "cases":
        if not reads:
            raise Forbidden("not allowed to count records by case; ask for registry totals")
        return scope, registry.visible_cases("read")
    if scope == "registry":
        if not totals:
            raise Forbidden("not allowed to see registry-wide counts")
        return scope, None
    raise ValidationError("scope", "must be 'cases' or 'registry'")


def _conditions(
    registry: Registry,
    q: IncidentFilter,
    cases: list[str] | None,
    include_confidential: bool,
    table: sa.FromClause = F,
) -> list[sa.ColumnElement[bool]]:
    c = table.c
    out: list[sa.ColumnElement[bool]] = []
    if q.text:
        raise ValidationError("text", "keyword search is not offered in counts")
    if cases is not None:
        if not cases:
            out.append(sa.false())
        elif len(cases) > MANY_CASES and not q.case_id:
            # As in the incident list: someone who sees most cases scans, testing membership;
            # the case index would read nearly every row twice.
            name = f"{getattr(table, 'name', 'act_facts')}.case_id"
            plain: sa.ColumnElement[str] = sa.literal_column(
                f"+{name}" if registry.store.dialect == "sqlite" else f"({name} || '')"
            )
            out.append(in_cases(plain, cases, registry.store.dialect))
        else:
            out.append(in_cases(c.case_id, cases, registry.store.dialect))
    if not include_confidential:
        out.append(c.confidential.is_(False))
    if q.country:
        out.append(c.country == q.country.upper())
    if q.region:
        out.append(c.region == q.region)
    if q.case_id:
        out.append(c.case_id == q.case_id)
    if q.year:
        out.append(c.day.between(date(q.year, 1, 1), date(q.year, 12, 31)))
    if q.date_from:
        out.append(c.day >= q.date_from)
    if q.date_to:
        out.append(c.day <= q.date_to)
    if q.act_type:
        out.append(c.act_type == q.act_type)
    if q.modality:
        out.append(c.modality == q.modality)
    if q.gender_specific:
        out.append(c.gender_specific == q.gender_specific)
    if q.defender_id:
        out.append(c.victim_defender_id == q.defender_id)
    if q.gender_identity:
        out.append(c.gender_identity == q.gender_identity)
    for column, code in (
        (c.gender_features, q.gender_feature),
        (c.sectors, q.sector),
        (c.perpetrator_types, q.perpetrator_type),
    ):
        if code:
            out.append(column.contains(f",{code},", autoescape=True))
    return out


def _on(condition: sa.ColumnElement[bool], table: sa.FromClause) -> sa.ColumnElement[bool]:
    """``condition`` (written on act_facts) rewritten onto an alias of it."""
    from sqlalchemy.sql.util import ClauseAdapter

    return ClauseAdapter(table).traverse(condition)


def _period_key(dialect: str) -> sa.ColumnElement[str]:
    """The incident's month as ``YYYY-MM``: years and quarters are folded from it."""
    if dialect == "sqlite":
        return sa.func.substr(F.c.day, 1, 7)
    return sa.func.to_char(F.c.day, "YYYY-MM")


def _period(month: str, period: str) -> str:
    if period == "year":
        return month[:4]
    if period == "quarter":
        return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"
    return month


def _period_range(first: str, last: str, period: str) -> list[str]:
    year, end_year = int(first[:4]), int(last[:4])
    if period == "year":
        return [str(y) for y in range(year, end_year + 1)]
    step = 3 if period == "quarter" else 12
    start = int(first[6:]) if period == "quarter" else int(first[5:7])
    end = int(last[6:]) if period == "quarter" else int(last[5:7])
    out = []
    y, p = year, start
    while (y, p) <= (end_year, end):
        out.append(f"{y}-Q{p}" if period == "quarter" else f"{y}-{p:02d}")
        y, p = (y + 1, 1) if p == (4 if step == 3 else 12) else (y, p + 1)
    return out


def _crosswalked(names: Any, code: Value, crosswalk: str) -> Value:
    if crosswalk == "amparo" or code is None:
        return code
    try:
        return names.term(code).attributes.get(crosswalk) or None
    except KeyError:
        return None


def _product(choices: list[list[Value]]) -> list[tuple[Value, ...]]:
    combos: list[tuple[Value, ...]] = [()]
    for options in choices:
        combos = [(*c, v) for c in combos for v in options]
    return combos


def _sort_key(values: Sequence[Value]) -> tuple[tuple[int, str], ...]:
    return tuple((1, "") if v is None else (0, str(v)) for v in values)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _filter_dict(q: IncidentFilter) -> dict[str, Any]:
    skip = {"limit", "offset", "sort", "after", "text"}
    return {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in q.__dict__.items()
        if k not in skip and v not in (None, "")
    }
