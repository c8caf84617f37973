"""The record operations of the JSON API, as a token-holding script uses them."""

from __future__ import annotations

import json

from amparo.registry import Registry
from tests.web.api.conftest import Api, ApiFactory

PROBLEM = "application/problem+json"


def incident_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "title": "Threats against the river committee",
        "narrative": "Armed men came to the assembly of the Rio Claro committee.",
        "date_start": "2026-03-14",
        "country": "CO",
        "region": "Antioquia",
        "acts": [{"act_type": "A09", "victim_description": "committee leader",
                  "modality": "in_person", "involvements": [{"perpetrator": 0,
                                                             "degree": "carried_out"}]}],
        "perpetrators": [{"perpetrator_type": "armed_forces"}],
        "sources": [{"source_type": "victim_testimony", "reliability": "likely_reliable"}],
    }  # fmt: skip
    body.update(overrides)
    return body


def test_create_read_amend_with_versions_and_etags(api: Api) -> None:
    created = api.post("/api/v1/incidents", json=incident_body())
    assert created.status_code == 201, created.text
    incident = created.json()
    assert created.headers["location"] == f"/api/v1/incidents/{incident['id']}"
    assert created.headers["etag"] == '"1"'
    assert incident["acts"][0]["act_type"] == "A09"
    assert incident["perpetrators"][0]["perpetrator_type"] == "armed_forces"

    got = api.get(f"/api/v1/incidents/{incident['id']}", params={"fields": "id,title,version"})
    assert got.json() == {"id": incident["id"], "title": incident["title"], "version": 1}

    amended = api.patch(f"/api/v1/incidents/{incident['id']}", json={"region": "Chocó"},
                        headers={"If-Match": '"1"'})  # fmt: skip
    assert amended.status_code == 200, amended.text
    assert amended.json()["region"] == "Chocó"
    assert amended.headers["etag"] == '"2"'
    stale = api.patch(f"/api/v1/incidents/{incident['id']}", json={"region": "Cauca"},
                      headers={"If-Match": '"1"'})  # fmt: skip
    assert stale.status_code == 409
    assert stale.headers["content-type"] == PROBLEM

    history = api.get(f"/api/v1/incidents/{incident['id']}/history").json()
    assert [v["version"] for v in history] == [1, 2]
    diff = api.get(f"/api/v1/incidents/{incident['id']}/diff", params={"old": 1, "new": 2})
    assert {"field": "region", "before": "Antioquia", "after": "Chocó"} in diff.json()
    restored = api.post(f"/api/v1/incidents/{incident['id']}/restore", json={"version": 1})
    assert restored.json()["region"] == "Antioquia"
    assert api.delete(f"/api/v1/incidents/{incident['id']}").status_code == 204
    assert api.get(f"/api/v1/incidents/{incident['id']}").status_code == 404


def test_validation_problems_name_every_field(api: Api) -> None:
    bad = incident_body(country="ZZ", acts=[{"act_type": "NOPE"}], date_start="2026-02-30")
    response = api.post("/api/v1/incidents", json=bad)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:amparo:problem:validation"
    fields = {e["field"] for e in problem["errors"]}
    assert {"country", "acts[0].act_type", "date_start"} <= fields

    typed = api.post("/api/v1/incidents", json={**incident_body(), "acts": [{"act_type": 7}]})
    assert typed.status_code == 422
    assert typed.json()["errors"][0]["field"] == "acts[0].act_type"
    unknown = api.post("/api/v1/incidents", json={**incident_body(), "colour": "red"})
    assert [e["field"] for e in unknown.json()["errors"]] == ["colour"]


def test_cursor_pages_cover_every_record_once_in_each_sort(api: Api) -> None:
    for n in range(7):
        created = api.post("/api/v1/incidents", json=incident_body(
            title=f"Incident {n}", date_start=f"2025-0{1 + n % 3}-1{n}",
            country=["CO", "MX", "HN"][n % 3]))  # fmt: skip
        assert created.status_code == 201, created.text
    for sort in ("-date", "date", "country", "-country", "created", "-updated"):
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = api.get("/api/v1/incidents", params=params)
            assert page.status_code == 200, page.text
            seen += [item["id"] for item in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 7, sort
    wrong = api.get("/api/v1/incidents", params={"sort": "date", "cursor": "bm9wZQ"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "cursor"
    assert api.get("/api/v1/incidents", params={"sort": "title"}).status_code == 422


def test_facets_and_keywords_combine(api: Api) -> None:
    api.post("/api/v1/incidents", json=incident_body(title="Smear campaign quetzal"))
    api.post("/api/v1/incidents", json=incident_body(title="Raid quetzal", country="MX"))
    api.post("/api/v1/incidents", json=incident_body(title="Raid elsewhere", country="MX"))
    found = api.get("/api/v1/incidents", params={"q": "quetzal", "country": "MX"}).json()
    assert [i["title"] for i in found["items"]] == ["Raid quetzal"]
    by_act = api.get("/api/v1/incidents", params={"act_type": "A09", "fields": "id"}).json()
    assert len(by_act["items"]) == 3 and set(by_act["items"][0]) == {"id"}
    everything = api.get("/api/v1/search", params={"q": "quetzal"}).json()
    assert len(everything["incidents"]) == 2


def test_defenders_cases_and_vocabularies(api: Api) -> None:
    made = api.post("/api/v1/defenders", json={"display_name": "Berta", "country": "HN",
                                                "sectors": ["land"]})  # fmt: skip
    assert made.status_code == 201, made.text
    defender = made.json()
    listed = api.get("/api/v1/defenders", params={"country": "HN"}).json()
    assert [d["display_name"] for d in listed["items"]] == ["Berta"]
    cases = api.get("/api/v1/cases").json()["items"]
    assert [c["id"] for c in cases] == [defender["case_id"]]
    assert cases[0]["access"] == "write" and cases[0]["defenders"] == 1
    opened = api.post("/api/v1/cases", json={"title": "Rio Claro"})
    assert opened.status_code == 201 and opened.json()["title"] == "Rio Claro"

    spanish = api.get("/api/v1/vocabularies/act_types", params={"lang": "es"}).json()
    labels = {t["code"]: t["label"] for t in spanish["terms"]}
    assert labels["A09"] != spanish["terms"][0]["labels"].get("en") or labels
    assert spanish["language"] == "es"
    assert any(t["labels"]["es"] != t["labels"]["en"] for t in spanish["terms"])
    assert api.get("/api/v1/vocabularies/nope").status_code == 404


def test_need_to_know_holds_over_the_api(api: Api, api_as: ApiFactory) -> None:
    created = api.post("/api/v1/incidents", json=incident_body()).json()
    other = api_as("coordinator", scope="write", name="outsider")
    assert other.get(f"/api/v1/incidents/{created['id']}").status_code == 404
    assert other.get("/api/v1/incidents").json()["items"] == []
    reader = api_as("documenter", scope="read", name="reader")
    refused = reader.post("/api/v1/incidents", json=incident_body())
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM


def test_errors_are_problem_details_everywhere(api: Api, registry: Registry) -> None:
    json_type = {"Content-Type": "application/json"}
    for response in (
        api.client.get("/api/v1/incidents"),  # no token
        api.get("/api/v1/nowhere"),
        api.request("PUT", "/api/v1/incidents"),
        api.post("/api/v1/incidents", content=b"{not json", headers=json_type),
    ):
        assert response.status_code in (401, 404, 405, 422), response.text
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["status"] == response.status_code
        assert body["type"].startswith("urn:amparo:problem:")


def test_export_with_an_export_token(api: Api, api_as: ApiFactory) -> None:
    created = api.post("/api/v1/incidents", json=incident_body()).json()
    export = api.get("/api/v1/incidents/export", params={"country": "CO"})
    assert export.status_code == 200, export.text
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [r["id"] for r in lines] == [created["id"]]
    assert lines[0]["narrative"] == created["narrative"]
    writer = api_as("coordinator", scope="write", name="writer-only")
    case = writer.post("/api/v1/cases", json={}).json()["id"]
    writer.post("/api/v1/incidents", json=incident_body(case_id=case))
    assert writer.get("/api/v1/incidents/export").status_code == 403


def test_csv_export_quotes_formulas_and_is_audited(api: Api, registry: Registry) -> None:
    api.post("/api/v1/incidents", json=incident_body(title="=cmd|' /C calc'!A0"))
    export = api.get("/api/v1/incidents/export", params={"format": "csv"})
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert "\r\n'=cmd|" in export.text
    entry = registry.audit.entries(action="incident.export")[-1]
    assert (
        entry.actor == "user:coord" and "count=1" in entry.detail and "format=csv" in entry.detail
    )
