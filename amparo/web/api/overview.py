"""The installation at a glance: status and aggregate counts (small counts suppressed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel

from amparo import __version__
from amparo.security.permissions import Resource
from amparo.store import schema
from amparo.web.api import protected_router
from amparo.web.auth import CurrentUser

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["SMALL_COUNT", "aggregate_counts", "monthly_counts", "router"]

SMALL_COUNT = 5  # counts below this are shown as "<5": small groups can point at a person


class StatusOut(BaseModel):
    name: str
    version: str
    demo: bool
    database: str
    incidents: int
    defenders: int


class StatsOut(BaseModel):
    incidents_by_year: dict[str, int | str]
    acts_by_type: dict[str, int | str]
    countries: int
    small_counts_below: int


def _suppress(count: int) -> int | str:
    return count if count >= SMALL_COUNT else f"<{SMALL_COUNT}"


def aggregate_counts(reg: Registry) -> dict[str, Any]:
    reg.require("read_aggregates", Resource("registry"))
    with reg.store.read() as conn:
        year: sa.ColumnElement[Any] = sa.func.extract("year", schema.incidents.c.date_start)
        if reg.store.dialect == "sqlite":
            year = sa.func.strftime("%Y", schema.incidents.c.date_start)
        by_year = conn.execute(
            sa.select(year.label("y"), sa.func.count()).group_by("y").order_by("y")
        ).all()
        by_act = conn.execute(
            sa.select(schema.acts.c.act_type, sa.func.count())
            .group_by(schema.acts.c.act_type)
            .order_by(schema.acts.c.act_type)
        ).all()
        countries = conn.execute(
            sa.select(sa.func.count(sa.distinct(schema.incidents.c.country)))
        ).scalar_one()
    return {
        "incidents_by_year": {str(int(y)): _suppress(n) for y, n in by_year},
        "acts_by_type": {code: _suppress(n) for code, n in by_act},
        "countries": countries,
        "small_counts_below": SMALL_COUNT,
    }


def monthly_counts(reg: Registry, months: int = 24) -> list[tuple[str, int]]:
    """Incidents per month (by start date) over the last ``months`` months, oldest first.

    Raw counts: a chart of a whole registry's months shows no person; pages that show a
    filtered subset must suppress small counts themselves.
    """
    reg.require("read_aggregates", Resource("registry"))
    today = reg.clock.today()
    first_year, first_month = divmod(today.year * 12 + today.month - 1 - (months - 1), 12)
    start = today.replace(year=first_year, month=first_month + 1, day=1)
    column = schema.incidents.c.date_start
    with reg.store.read() as conn:
        if reg.store.dialect == "sqlite":
            month: sa.ColumnElement[Any] = sa.func.strftime("%Y-%m", column)
        else:
            month = sa.func.to_char(column, "YYYY-MM")
        rows: dict[str, int] = dict(
            conn.execute(
                sa.select(month.label("m"), sa.func.count()).where(column >= start).group_by("m")
            ).all()
        )
    out = []
    for offset in range(months):
        year, index = divmod(start.year * 12 + start.month - 1 + offset, 12)
        key = f"{year:04d}-{index + 1:02d}"
        out.append((key, int(rows.get(key, 0))))
    return out


def router() -> APIRouter:
    api = protected_router("overview")

    @api.get("/status", response_model=StatusOut, summary="What this installation holds")
    def status(ctx: CurrentUser) -> dict[str, Any]:
        reg = ctx.registry
        return {
            "name": "Amparo",
            "version": __version__,
            "demo": reg.is_demo,
            "database": reg.store.dialect,
            "incidents": reg.incidents.count(),
            "defenders": reg.defenders.count(),
        }

    @api.get("/stats", response_model=StatsOut, summary="Aggregate counts")
    def statistics(ctx: CurrentUser) -> dict[str, Any]:
        """Needs `read_aggregates`; counts under 5 are shown as "<5"."""
        return aggregate_counts(ctx.registry)

    return api
