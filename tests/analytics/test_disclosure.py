"""Published tables: no cell below k, and no suppressed cell can be solved from the totals."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amparo.analytics.aggregates import Escalation, Escalations, Table
from amparo.analytics.disclosure import GRAND, protect, protect_escalations
from amparo.errors import ValidationError

ROWS = ["CO", "MX", "HN", "GT"]
COLS = ["A01", "A06", "A09", "A10", "A15"]

counts = st.integers(min_value=0, max_value=30) | st.integers(min_value=0, max_value=6)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    two = draw(st.booleans())
    n_rows = draw(st.integers(1, len(ROWS))) if two else 1
    n_cols = draw(st.integers(1, len(COLS)))
    rows = []
    for r in ROWS[:n_rows]:
        for c in COLS[:n_cols]:
            n = draw(counts)
            if n:
                rows.append(((r, c) if two else (c,), n))
    dims = ("country", "act_type") if two else ("act_type",)
    total = sum(n for _, n in rows)
    return Table(dimensions=dims, rows=tuple((*v, n) for v, n in rows), total=total)


def equations(published: Table) -> list[tuple[list[tuple[Any, ...]], int | None]]:
    """What a reader sees: (cells in the equation, published total or None)."""
    cells = published.cells()
    dims = published.dimensions
    out = []
    if len(dims) == 1:
        out.append((list(cells), published.margins[GRAND][None]))
        return out
    for i, d in enumerate(dims):
        for value, total in published.margins[d].items():
            out.append(([key for key in cells if key[i] == value], total))
    grand = published.margins[GRAND][None]
    for d in dims:
        out.append(([("margin", d, v) for v in published.margins[d]], grand))
    return out


def unknowns_of(published: Table, eq: tuple[list[Any], int | None]) -> list[Any]:
    cells = published.cells()
    terms, _ = eq
    out = []
    for t in terms:
        value = published.margins[t[1]][t[2]] if t[0] == "margin" else cells[t]
        if value is None:
            out.append(t)
    return out


def check(table: Table, k: int) -> None:
    published = protect(table, k)
    true = table.cells()
    cells = published.cells()
    # 1. no published cell or total below k (zeros are published: they single no one out)
    for key, n in cells.items():
        assert n is None or n == 0 or n >= k, (key, n)
        if n is not None:
            assert n == true.get(key, 0)
    for margin in published.margins.values():
        assert all(n is None or n == 0 or n >= k for n in margin.values())
    # 2. every equation a reader has holds 0 or at least 2 unknowns
    eqs = equations(published)
    for eq in eqs:
        if eq[1] is None:
            continue  # a suppressed total: the equation's cells are not tied to anything known
        assert len(unknowns_of(published, eq)) != 1, eq
    # 3. no suppressed cell is fixed by the equations together (rank test, independent of the
    #    module's null-space computation)
    hidden = [key for key, n in cells.items() if n is None]
    hidden_margins = [
        ("margin", d, v) for d, m in published.margins.items() if d != GRAND
        for v, n in m.items() if n is None
    ]  # fmt: skip
    unknowns = hidden + hidden_margins
    if not hidden:
        return
    index = {u: i for i, u in enumerate(unknowns)}
    rows = []
    for terms, total in eqs:
        row = np.zeros(len(unknowns))
        for t in terms:
            if t in index:
                row[index[t]] = 1
        if total is None:
            continue
        rows.append(row)
    # equations whose total is suppressed still bind: cells - total = 0
    for d, m in published.margins.items():
        if d == GRAND or len(published.dimensions) == 1:
            continue
        i = published.dimensions.index(d) if d in published.dimensions else 0
        for v, n in m.items():
            if n is None:
                row = np.zeros(len(unknowns))
                for key in cells:
                    if key[i] == v and key in index:
                        row[index[key]] = 1
                row[index[("margin", d, v)]] = -1
                rows.append(row)
    a = np.array(rows) if rows else np.zeros((0, len(unknowns)))
    rank = np.linalg.matrix_rank(a) if rows else 0
    for u in hidden:
        e = np.zeros(len(unknowns))
        e[index[u]] = 1
        assert np.linalg.matrix_rank(np.vstack([a, e])) > rank, f"{u} is determined"
    # 4. small tables: an exact attacker enumerates every integer solution (suppressed >= 1)
    # The reader does not know the true total when it is hidden: search a little beyond it.
    top = (table.total or 0) + k
    if len(unknowns) <= 3 and top <= 30:
        seen: dict[Any, set[int]] = {u: set() for u in hidden}
        for guess in itertools.product(range(1, top + 1), repeat=len(unknowns)):
            value = dict(zip(unknowns, guess, strict=True))
            if all(_holds(published, eq, value) for eq in eqs) and _margins_hold(published, value):
                for u in hidden:
                    seen[u].add(value[u])
        for u in hidden:
            assert len(seen[u]) >= 2, f"{u} pinned to {seen[u]}"


def _holds(published: Table, eq: tuple[list[Any], int | None], value: dict[Any, int]) -> bool:
    terms, total = eq
    if total is None:
        return True
    cells = published.cells()
    got = 0
    for t in terms:
        known = published.margins[t[1]][t[2]] if t[0] == "margin" else cells[t]
        got += value[t] if known is None else known
    return got == total


def _margins_hold(published: Table, value: dict[Any, int]) -> bool:
    if len(published.dimensions) == 1:
        return True
    cells = published.cells()
    for i, d in enumerate(published.dimensions):
        for v, n in published.margins[d].items():
            if n is None:
                got = sum(
                    value[key] if cells[key] is None else cells[key] for key in cells if key[i] == v
                )
                if got != value[("margin", d, v)]:
                    return False
    return True


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), k=st.integers(2, 6))
def test_published_tables_hide_small_counts_from_every_reader(table: Table, k: int) -> None:
    check(table, k)


def test_a_row_with_one_small_cell_gets_a_complement() -> None:
    table = Table(("country", "act_type"), (("CO", "A01", 12), ("CO", "A06", 3),
                  ("MX", "A01", 7), ("MX", "A06", 9)), total=31)  # fmt: skip
    published = protect(table, 5)
    assert sum(1 for r in published.rows if r[-1] is None) >= 4
    check(table, 5)


def test_noise_is_seedable_and_stated() -> None:
    table = Table(("act_type",), (("A01", 40), ("A06", 90), ("A09", 15)), total=145)
    one = protect(table, 5, epsilon=0.5, seed=3)
    assert one == protect(table, 5, epsilon=0.5, seed=3)
    assert one.epsilon == 0.5 and one.rows != protect(table, 5).rows
    with pytest.raises(ValidationError):
        protect(table, 5, epsilon=0)


def test_free_text_dimensions_are_never_published() -> None:
    with pytest.raises(ValidationError):
        protect(Table(("region",), (("Cauca", 40),), total=40))


def test_escalations_suppress_small_counts() -> None:
    result = Escalations(
        patterns=(
            Escalation(
                "threat_before_physical",
                30,
                12,
                40.0,
                50.0,
                {"0-30 days": 2, "31-90 days": 6, "91-365 days": 4, "over a year": 0},
            ),
        ),
    )
    p = protect_escalations(result).patterns[0]
    hidden = [b for b, n in p.intervals.items() if n is None]
    assert "0-30 days" in hidden and len(hidden) >= 2
    assert p.intervals["over a year"] == 0 and p.escalated == 12
