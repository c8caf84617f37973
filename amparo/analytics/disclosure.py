"""Tables safe to publish: small-count suppression, complementary suppression, Laplace noise.

``protect(table, k=5, epsilon=None, seed=None)`` returns a copy of an
:class:`~amparo.analytics.aggregates.Table` in which no person can be singled out
(DOMAIN.md §8):

1. **Primary suppression.** Every cell, and every published total, with ``0 < count < k`` is
   suppressed (``None``). Zeros are published: a zero singles no one out, and hiding the
   zeros of a sparse table (most country x act type cells) would hide most of the table.
   The consequence, which step 3 accounts for, is that a reader knows every suppressed cell
   holds at least 1.
2. **Complementary suppression.** The published totals are the row totals, column totals and
   grand total of a two-dimensional table (the grand total alone for one dimension). Each
   total is an equation: its cells add up to it. An equation with exactly one unknown (one
   suppressed term) gives that term away, so another term is suppressed: the smallest
   non-zero published cell of the equation, or, when there is none, its total.
3. **Checks against solving.** One-unknown equations are not the only leak: equations
   combine (a suppressed cell joining two otherwise protected blocks is the difference of
   their sums), and "at least 1" pins cells (``a + b = 2``). So after step 2 every suppressed
   term is tested twice: (a) by linear algebra, it must not be fixed by the equations (its
   component is non-zero in some vector of their null space, numpy's SVD); (b) by interval
   propagation with every suppressed term at least 1, its bounds must not meet. A term that
   fails gets a further complementary suppression in one of its equations, and the loop
   repeats until nothing changes (each round suppresses more, so it ends).
4. **Noise** (optional). With ``epsilon``, Laplace noise of scale ``sensitivity / epsilon``
   (numpy's ``Generator``, seedable) is added to every published cell and total
   independently, then rounded and clipped at 0. Sensitivity is 1 for one act in one cell;
   with multi-valued dimensions one act falls in several cells, so it is the number of
   values those dimensions may take together (a bound, which makes the noise large).

**Never identities.** Only dimensions whose values come from a vocabulary (or periods) may be
published; ``region`` is free text and is refused, as is anything not in its vocabulary.

**Limits.** The guarantees hold for one- and two-dimensional tables. A table with more
dimensions is protected as a two-dimensional one (the first dimension against the
combination of the others) and only those totals are published: a reader who also has other
publications of the same data (for example each further dimension's own totals, or last
year's table) may combine them; publish one protected table per question. Interval
propagation is sound but not exhaustive: an attacker solving the full integer program may
narrow a suppressed cell more than it sees (never to one value that the linear-algebra test
admits). Suppression is decided on the true counts; noise protects published values, not the
pattern of suppression. The unit of protection is an act, not a person: one defender with
many acts appears in many of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from amparo.errors import ValidationError

if TYPE_CHECKING:
    from amparo.analytics.aggregates import Escalations, Table
    from amparo.domain.vocabularies import Vocabularies
    from amparo.registry import Registry
    from amparo.services.incidents import IncidentFilter

__all__ = ["DEFAULT_K", "Grid", "protect", "protect_escalations", "publish", "suppress"]

DEFAULT_K = 5
GRAND = "total"
_TOL = 1e-9


@dataclass
class Grid:
    """A two-dimensional table of counts with its totals and what of it is suppressed.

    ``totals_rows`` false means a one-dimensional table: one row, the grand total is its
    only total (no column totals, which would be the cells themselves).
    """

    cells: list[list[int]]
    two_dimensional: bool = True
    hidden: set[tuple[int, int]] = field(default_factory=set)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    hidden_grand: bool = False
    zeros_hidden: bool = False

    @property
    def row_totals(self) -> list[int]:
        return [sum(row) for row in self.cells]

    @property
    def col_totals(self) -> list[int]:
        return [sum(col) for col in zip(*self.cells, strict=True)] if self.cells else []

    @property
    def grand(self) -> int:
        return sum(self.row_totals)

    # An equation is a list of (term, coefficient) with sum(coef * value) == 0, where a term
    # is ("cell", r, c), ("row", r), ("col", c) or ("grand",).
    def equations(self) -> list[list[tuple[tuple[Any, ...], int]]]:
        n_rows = len(self.cells)
        n_cols = len(self.cells[0]) if self.cells else 0
        if not self.two_dimensional:
            return [[*((("cell", 0, c), 1) for c in range(n_cols)), (("grand",), -1)]]
        eqs: list[list[tuple[tuple[Any, ...], int]]] = []
        for r in range(n_rows):
            eqs.append([*((("cell", r, c), 1) for c in range(n_cols)), (("row", r), -1)])
        for c in range(n_cols):
            eqs.append([*((("cell", r, c), 1) for r in range(n_rows)), (("col", c), -1)])
        eqs.append([*((("row", r), 1) for r in range(n_rows)), (("grand",), -1)])
        eqs.append([*((("col", c), 1) for c in range(n_cols)), (("grand",), -1)])
        return eqs

    def value(self, term: tuple[Any, ...]) -> int:
        kind = term[0]
        if kind == "cell":
            return int(self.cells[term[1]][term[2]])
        if kind == "row":
            return self.row_totals[term[1]] if self.two_dimensional else self.grand
        if kind == "col":
            return int(self.col_totals[term[1]])
        return self.grand

    def is_hidden(self, term: tuple[Any, ...]) -> bool:
        kind = term[0]
        if kind == "cell":
            return (term[1], term[2]) in self.hidden
        if kind == "row":
            return term[1] in self.hidden_rows
        if kind == "col":
            return term[1] in self.hidden_cols
        return self.hidden_grand

    def hide(self, term: tuple[Any, ...]) -> None:
        kind = term[0]
        if kind == "cell":
            self.hidden.add((term[1], term[2]))
        elif kind == "row":
            self.hidden_rows.add(term[1])
        elif kind == "col":
            self.hidden_cols.add(term[1])
        else:
            self.hidden_grand = True


def suppress(grid: Grid, k: int = DEFAULT_K) -> Grid:
    """Primary and complementary suppression of ``grid`` in place (see the module doc)."""
    if k < 1:
        raise ValidationError("k", "must be at least 1")
    for r, row in enumerate(grid.cells):
        for c, n in enumerate(row):
            if 0 < n < k:
                grid.hide(("cell", r, c))
    if grid.two_dimensional:
        for r, n in enumerate(grid.row_totals):
            if 0 < n < k:
                grid.hide(("row", r))
        for c, n in enumerate(grid.col_totals):
            if 0 < n < k:
                grid.hide(("col", c))
    if 0 < grid.grand < k:
        grid.hide(("grand",))
    equations = grid.equations()
    while True:
        changed = False
        for eq in equations:
            unknown = [t for t, _ in eq if grid.is_hidden(t)]
            if len(unknown) == 1 and _complement(grid, eq):
                changed = True
        if changed:
            continue
        for term in exposed(grid, equations):
            for eq in equations:
                if any(t == term for t, _ in eq) and _complement(grid, eq):
                    changed = True
                    break
            if changed:
                break
        if not changed:
            return grid


def _complement(grid: Grid, eq: list[tuple[tuple[Any, ...], int]]) -> bool:
    """Suppress one more term of ``eq``: its smallest non-zero published cell, else a total."""
    cells = [t for t, _ in eq if t[0] == "cell" and not grid.is_hidden(t) and grid.value(t) > 0]
    if cells:
        grid.hide(min(cells, key=lambda t: (grid.value(t), t)))
        return True
    totals = [t for t, _ in eq if t[0] != "cell" and not grid.is_hidden(t)]
    # Prefer a row or column total to the grand total, which readers want most.
    totals.sort(key=lambda t: (t[0] == "grand", grid.value(t)))
    for t in totals:
        if grid.value(t) > 0:
            grid.hide(t)
            return True
    # Everything else in the equation is hidden already: a published zero is the last resort
    # (the reader then cannot assume every suppressed cell holds at least 1).
    zeros = [t for t, _ in eq if t[0] == "cell" and not grid.is_hidden(t)]
    if zeros:
        grid.hide(min(zeros))
        grid.zeros_hidden = True
        return True
    return False


def exposed(grid: Grid, equations: Sequence[list[tuple[tuple[Any, ...], int]]]) -> list[Any]:
    """Suppressed terms a reader can pin down from the published ones (empty when safe)."""
    import numpy as np

    unknowns = sorted({t for eq in equations for t, _ in eq if grid.is_hidden(t)}, key=str)
    if not unknowns:
        return []
    index = {t: i for i, t in enumerate(unknowns)}
    rows = []
    rhs = []
    for eq in equations:
        coefs = np.zeros(len(unknowns))
        b = 0.0
        for t, a in eq:
            if t in index:
                coefs[index[t]] += a
            else:
                b -= a * grid.value(t)
        if coefs.any():
            rows.append(coefs)
            rhs.append(b)
    out: list[Any] = []
    if rows:
        matrix = np.array(rows)
        _, s, vt = np.linalg.svd(matrix)
        rank = int((s > _TOL * max(1.0, s.max())).sum())
        null = vt[rank:]
        for t, i in index.items():
            if null.shape[0] == 0 or np.all(np.abs(null[:, i]) < 1e-7):
                out.append(t)
    if out:
        return out
    lo, hi = _bounds(grid, equations, unknowns)
    return [t for t in unknowns if lo[t] >= hi[t]]


def _bounds(
    grid: Grid, equations: Sequence[list[tuple[tuple[Any, ...], int]]], unknowns: list[Any]
) -> tuple[dict[Any, float], dict[Any, float]]:
    """Interval propagation with every suppressed term at least 1 (zeros are published)."""
    top = float(max(grid.grand, 1))
    lo = {t: 0.0 if grid.zeros_hidden else 1.0 for t in unknowns}
    hi = {t: top for t in unknowns}
    for _ in range(50):
        changed = False
        for eq in equations:
            terms = [(t, a) for t, a in eq if t in lo]
            if not terms:
                continue
            b = -sum(a * grid.value(t) for t, a in eq if t not in lo)
            for t, a in terms:
                # a * x_t = b - sum(others): bound the others' sum
                others_lo = sum(o * (lo[u] if o > 0 else hi[u]) for u, o in terms if u != t)
                others_hi = sum(o * (hi[u] if o > 0 else lo[u]) for u, o in terms if u != t)
                low, high = (b - others_hi) / a, (b - others_lo) / a
                if a < 0:
                    low, high = high, low
                if low > lo[t] + _TOL:
                    lo[t], changed = low, True
                if high < hi[t] - _TOL:
                    hi[t], changed = high, True
        if not changed:
            break
    return lo, hi


def protect(
    table: Table,
    k: int = DEFAULT_K,
    epsilon: float | None = None,
    *,
    seed: int | None = None,
    vocab: Vocabularies | None = None,
) -> Table:
    """A publishable copy of ``table``: suppressed cells and totals are None (module doc)."""
    from amparo.analytics.aggregates import DIMENSIONS, MULTI_VALUED, PERIODS

    if epsilon is not None and epsilon <= 0:
        raise ValidationError("epsilon", "must be a positive number")
    for d in table.dimensions:
        if d not in PERIODS and DIMENSIONS.get(d) is None:
            raise ValidationError("by", f"{d!r} is free text and cannot be published")
    if vocab is not None:
        _check_values(table, vocab)
    dims = table.dimensions
    counts = {tuple(r[:-1]): int(r[-1] or 0) for r in table.rows}
    row_keys: list[tuple[Any, ...]] = sorted({v[:1] for v in counts}, key=_key) if dims else [()]
    col_keys = sorted({v[1:] for v in counts}, key=_key) if len(dims) > 1 else [()]
    two = len(dims) > 1
    if len(dims) == 1:  # one dimension: a single row of cells, the grand total its total
        row_keys, col_keys = [()], sorted(counts, key=_key)
    cells = [[counts.get(rk + ck, 0) for ck in col_keys] for rk in row_keys]
    grid = suppress(Grid(cells=cells, two_dimensional=two), k)
    noise = _noise(table, epsilon, seed, MULTI_VALUED, vocab)

    def publish(term: tuple[Any, ...]) -> int | None:
        return None if grid.is_hidden(term) else noise(grid.value(term))

    rows = []
    for r, rk in enumerate(row_keys):
        for c, ck in enumerate(col_keys):
            rows.append((*rk, *ck, publish(("cell", r, c))))
    margins: dict[str, dict[Any, int | None]] = {}
    if two:
        margins[dims[0]] = {rk[0]: publish(("row", r)) for r, rk in enumerate(row_keys)}
        name = dims[1] if len(dims) == 2 else "+".join(dims[1:])
        margins[name] = {
            (ck[0] if len(ck) == 1 else "|".join(map(str, ck))): publish(("col", c))
            for c, ck in enumerate(col_keys)
        }
    grand = publish(("grand",))
    margins[GRAND] = {None: grand}
    return replace(
        table, rows=tuple(rows), total=grand, protected=True, k=k, epsilon=epsilon,
        margins=margins,
    )  # fmt: skip


def publish(
    registry: Registry,
    by: Sequence[str],
    filters: IncidentFilter | None = None,
    crosswalk: str = "amparo",
    *,
    k: int = DEFAULT_K,
    epsilon: float | None = None,
    seed: int | None = None,
    include_confidential: bool = True,
) -> Table:
    """A protected aggregate for publication, audited as an export (``stats.export_public``).

    Counts what the principal may count (see amparo.analytics.aggregates: its own cases, or
    the registry for analysts); the audit entry names the dimensions, crosswalk, k, epsilon
    and the filter names, never values.
    """
    from amparo.analytics.aggregates import aggregate
    from amparo.audit import filter_names

    if k < 2:
        raise ValidationError("k", "must be at least 2 for a publication")
    table = aggregate(
        registry, by, filters, crosswalk, include_confidential=include_confidential, k=k
    )
    plain = replace(table, protected=False) if table.protected else table
    out = protect(plain, k, epsilon, seed=seed, vocab=registry.vocab)
    registry.audit.record_alone(
        "stats.export_public", object_type="registry",
        detail={
            "dimensions": ",".join(out.dimensions), "crosswalk": crosswalk, "k": k,
            "epsilon": "none" if epsilon is None else str(epsilon), "scope": out.scope,
            "cells": len(out.rows), "suppressed": sum(1 for r in out.rows if r[-1] is None),
            "filters": filter_names(filters) if filters else [],
        },
    )  # fmt: skip
    return out


def protect_escalations(result: Escalations, k: int = DEFAULT_K) -> Escalations:
    """Suppress pattern counts below ``k``, with complements among the interval buckets."""
    out = []
    for p in result.patterns:
        labels = list(p.intervals)
        counts = [p.intervals[b] or 0 for b in labels]
        grid = suppress(Grid(cells=[counts], two_dimensional=False), k)
        escalated, first = p.escalated or 0, p.defenders_with_first or 0
        small = 0 < escalated < k or grid.hidden_grand
        buckets: dict[str, int | None] = {
            b: None if (0, c) in grid.hidden else p.intervals[b] for c, b in enumerate(labels)
        }
        out.append(
            replace(
                p,
                defenders_with_first=(None if 0 < first < k else p.defenders_with_first),
                escalated=None if small else p.escalated,
                median_days=None if small else p.median_days,
                mean_days=None if small else p.mean_days,
                intervals=buckets,
            )
        )
    return replace(result, patterns=tuple(out))


def _check_values(table: Table, vocab: Vocabularies) -> None:
    from amparo.analytics.aggregates import DIMENSIONS

    for i, d in enumerate(table.dimensions):
        name = DIMENSIONS.get(d)
        if name is None or (d == "act_type" and table.crosswalk != "amparo"):
            continue
        known = vocab[name]
        for r in table.rows:
            if r[i] is not None and r[i] not in known:
                raise ValidationError("by", f"{d} value {r[i]!r} is not in {name}")


def _noise(
    table: Table,
    epsilon: float | None,
    seed: int | None,
    multi: frozenset[str],
    vocab: Vocabularies | None,
) -> Any:
    if epsilon is None:
        return lambda n: n
    import numpy as np

    from amparo.analytics.aggregates import DIMENSIONS

    sensitivity = 1
    for d in table.dimensions:
        if d in multi:
            name = DIMENSIONS[d]
            size = len(vocab[name]) if vocab is not None and name else 30
            sensitivity *= size + 1
    rng = np.random.default_rng(seed)
    scale = sensitivity / epsilon
    return lambda n: max(0, round(n + float(rng.laplace(0.0, scale))))


def _key(values: Sequence[Any]) -> tuple[tuple[int, str], ...]:
    return tuple((1, "") if v is None else (0, str(v)) for v in values)
