"""``GET /api/v1/incidents/export/partner``: the partner CSV over the API."""

from __future__ import annotations

import csv
import io

from amparo.registry import Registry
from tests.web.api.conftest import Api, ApiFactory
from tests.web.api.test_records_api import incident_body


def test_partner_csv_needs_export_and_is_audited(
    api: Api, api_as: ApiFactory, registry: Registry
) -> None:
    created = api.post("/api/v1/incidents", json=incident_body(title="=cmd|' /C calc'!A0"))
    assert created.status_code == 201, created.text
    export = api.get("/api/v1/incidents/export/partner",
                     params={"dates": "year", "free_text": "keep"})  # fmt: skip
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1 and rows[0]["incident"].startswith("I-")
    assert created.json()["id"] not in export.text
    assert rows[0]["title"].startswith("'=cmd") and len(rows[0]["date_start"]) == 4
    entry = registry.audit.entries(action="records.export_partner")[-1]
    assert entry.actor == "user:coord" and "dates=year" in entry.detail

    assert api.get("/api/v1/incidents/export/partner",
                   params={"pseudonymise": "names"}).status_code == 422  # fmt: skip
    writer = api_as("coordinator", scope="write", name="writer-only")
    case = writer.post("/api/v1/cases", json={}).json()["id"]
    writer.post("/api/v1/incidents", json=incident_body(case_id=case))
    assert writer.get("/api/v1/incidents/export/partner").status_code == 403
