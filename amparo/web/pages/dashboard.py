"""The dashboard: what is new in the cases one works on, and the registry's shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from amparo import __version__
from amparo.security.permissions import Resource
from amparo.services.incidents import IncidentFilter
from amparo.web.api.overview import aggregate_counts, monthly_counts
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.charts import bar_chart
from amparo.web.i18n import translations
from amparo.web.pages import render
from amparo.web.pages.cases import BAND_NAMES

__all__ = ["router"]

RECENT = 10


def router() -> APIRouter:
    pages = APIRouter()

    @pages.get("/", response_class=HTMLResponse)
    def home(request: Request, ctx: CurrentUser) -> HTMLResponse:
        reg = ctx.registry
        lang = get_auth(request).language(request)
        gettext = translations(lang).gettext
        page: dict[str, Any] = {"aggregates": reg.allowed("read_aggregates", Resource("registry"))}
        page["recent"] = reg.incidents.list(IncidentFilter(sort="-created", limit=RECENT))
        page["urgent"] = reg.triage.urgent(limit=RECENT)
        page["flags"] = reg.risk_flags.open_flags(limit=RECENT)
        page["reviews_due"] = reg.risk.due()[:RECENT]
        now = reg.clock.now()
        page["missed"] = [s for s in reg.checkins.status(active_only=True) if s.overdue(now)]
        page["at_risk"] = reg.risk.at_risk(limit=RECENT)
        page["band_names"] = BAND_NAMES
        if page["aggregates"]:
            data = aggregate_counts(reg)
            labels = reg.vocab["act_types"]
            months = monthly_counts(reg)
            page.update(
                incidents=reg.incidents.count(), defenders=reg.defenders.count(),
                countries=data["countries"], years=data["incidents_by_year"],
                acts=[(code, labels.label(code, lang), n)
                      for code, n in data["acts_by_type"].items()],
                months=months,
                chart=bar_chart(
                    months, title=gettext("Incidents per month"),
                    description=gettext("Incidents by the month they began, over the last "
                                        "24 months; the table below gives the numbers."),
                ),
            )  # fmt: skip
        return render(request, ctx, "home.html", version=__version__, **page)

    return pages
