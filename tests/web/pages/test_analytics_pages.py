"""The analytics page: the incident list's filters, dimensions, charts with their text
alternative and data table, cross-tab, trend, escalations, downloads; who may see it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from fastapi.testclient import TestClient

from amparo.registry import Registry
from tests import factories
from tests.web.conftest import Browser, add_user
from tests.web.pages.test_admin_pages import reauthenticate


def fill(registry: Registry, user_id: str) -> str:
    defender = registry.defenders.add(factories.defender())
    assert defender.id and defender.case_id
    for day, act_type, modality in (("2024-02-01", "A20", "online"),
                                    ("2024-03-01", "A10", "in_person"),
                                    ("2024-05-14", "A06", "in_person")):  # fmt: skip
        record = factories.incident(date_start=day)
        record["acts"][0].update({"act_type": act_type, "modality": modality,
                                  "victim_defender_id": defender.id})  # fmt: skip
        registry.incidents.add(record, case_id=defender.case_id)
    registry.grants.grant(defender.case_id, "user", user_id, "read")
    return defender.case_id


def test_page_charts_tables_and_downloads(client: TestClient, signed_in: Browser) -> None:
    user = signed_in.registry.accounts.get_by_username("ana")
    fill(signed_in.registry, user.id)
    page = client.get("/analytics")
    assert page.status_code == 200
    assert 'href="/analytics" aria-current="page"' in page.text
    assert page.text.count('<svg xmlns:xlink="http://www.w3.org/1999/xlink"') == 2
    assert "Bar chart: Acts by Act type. 3 categories, total 3" in page.text  # figcaption
    assert '<th scope="row">Digital attack' in page.text and "Escalation patterns" in page.text
    assert ' style="' not in page.text.split("<main", 1)[1]  # CSP: no inline styles
    crossed = client.get("/analytics?by=modality&by2=act_type&period=month&country=HN")
    assert crossed.status_code == 200 and "Stacked bar chart" in crossed.text
    assert "2024-03" in crossed.text  # the monthly trend's table
    filtered = client.get("/analytics?act_type=A20&from=2024-01-01&to=2024-12-31")
    assert "total 1;" in filtered.text
    svg = client.get("/analytics/main.svg?by=country")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "attachment" in svg.headers["content-disposition"]
    ET.fromstring(svg.text)
    png = client.get("/analytics/trend.png?by=act_type")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    csv = client.get("/analytics/main.csv?by=act_type")
    assert csv.text.splitlines()[0] == "Act type,Acts" and "Digital attack" in csv.text
    assert client.get("/analytics?by=region").status_code == 400
    assert client.get("/analytics?from=2024-99-01").status_code == 400
    assert client.get("/analytics/other.svg").status_code in (400, 422)


def test_spanish_labels(client: TestClient, signed_in: Browser) -> None:
    fill(signed_in.registry, signed_in.registry.accounts.get_by_username("ana").id)
    page = client.get("/analytics", headers={"Accept-Language": "es"})
    assert page.status_code == 200 and "Agresión digital" in page.text


def test_analyst_sees_suppressed_registry_totals_and_viewer_nothing(
    registry: Registry, browser_factory: Callable[[], Browser], signed_in: Browser
) -> None:
    fill(registry, registry.accounts.get_by_username("ana").id)
    add_user(registry, "ada", "analyst")
    add_user(registry, "vic", "viewer")
    analyst = browser_factory()
    analyst.sign_in("ada")
    page = analyst.client.get("/analytics")
    assert page.status_code == 200 and "counts below 5 suppressed" in page.text
    assert "Berta" not in page.text and "&lt;k" in page.text
    viewer = browser_factory()
    viewer.sign_in("vic")
    assert 'href="/analytics"' not in viewer.client.get("/").text
    assert viewer.client.get("/analytics").status_code == 403


def test_period_report_and_dossier_downloads(client: TestClient, signed_in: Browser) -> None:
    registry = signed_in.registry
    user = registry.accounts.get_by_username("ana")
    case_id = fill(registry, user.id)
    assert "/reports/period.pdf" in client.get("/analytics").text
    pdf = client.get("/reports/period.pdf?from=2024-01-01&to=2024-12-31&lang=es&public=0")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert client.get("/reports/period.pdf?from=x&to=2024-12-31").status_code == 400
    assert f"/cases/{case_id}/dossier.pdf" in client.get(f"/cases/{case_id}").text
    html = client.get(f"/cases/{case_id}/dossier.html")
    assert html.status_code == 200 and "Berta Flores" in html.text
    assert "+504" not in html.text and "[redacted]" in html.text  # admin, read grant only
    # Full detail needs export: an admin member re-authenticates first.
    full = client.get(f"/cases/{case_id}/dossier.pdf?full=1", follow_redirects=False)
    assert full.status_code == 303 and full.headers["location"].startswith("/reauth?next=")
    reauthenticate(signed_in)
    after = client.get(f"/cases/{case_id}/dossier.html?full=1")
    assert after.status_code == 200 and "+504 0000 0000" in after.text  # contacts, now
    assert "[redacted]" not in after.text
    levels = [e.detail for e in registry.audit.entries(action="report.dossier")]
    assert levels[0].startswith("level=identities") and levels[-1].startswith("level=full")
    hidden = registry.defenders.add(factories.defender(display_name="Hidden Person"))
    assert client.get(f"/cases/{hidden.case_id}/dossier.html").status_code == 404
