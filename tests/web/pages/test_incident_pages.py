"""The incident pages, driven as a browser without JavaScript would (forms and links)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from amparo.registry import Registry
from tests import factories
from tests.web.conftest import Browser

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def new_incident_form(csrf: str, **extra: str) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf": csrf, "title": "Threat at the river assembly", "date_start": "2026-03",
        "country": "CO", "narrative": "Two men threatened the committee leader.",
        "perpetrators-0-perpetrator_type": "armed_forces",
        "acts-0-act_type": "A09", "acts-0-modality": "in_person",
        "acts-0-perpetrators": "0", "acts-1-act_type": "A10", "acts-1-modality": "online",
        "acts-1-gender_features": ["rape_threat"], "acts-1-gender_specific": "yes",
        "sources-0-source_type": "victim_testimony", "sources-0-reliability": "likely_reliable",
    }  # fmt: skip
    form.update(extra)
    return form


def created_id(response_location: str) -> str:
    found = re.match(r"^/incidents/([0-9a-f]+)\?saved=1$", response_location)
    assert found, response_location
    return found.group(1)


def test_record_find_edit_and_restore(client: TestClient, signed_in: Browser) -> None:
    blank = client.get("/incidents/new")
    assert blank.status_code == 200 and 'name="acts-0-act_type"' in blank.text
    more = client.post("/incidents/new", data={**new_incident_form(signed_in.csrf),
                                                 "more": "add_act"})  # fmt: skip
    assert 'name="acts-2-act_type"' in more.text  # one more empty act, nothing saved
    saved = client.post("/incidents/new", data=new_incident_form(signed_in.csrf),
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text
    incident_id = created_id(saved.headers["location"])
    incident = signed_in.registry.incidents.get(incident_id)
    assert [a.act_type for a in incident.acts] == ["A09", "A10"]
    assert incident.acts[0].involvements[0].perpetrator == 0
    assert incident.acts[1].gender_features == ["rape_threat"]

    found = client.get("/incidents", params={"q": "river assembly"})
    assert f'href="/incidents/{incident_id}"' in found.text
    filtered = client.get("/incidents", params={"act_type": "A10", "country": "CO"})
    assert f'href="/incidents/{incident_id}"' in filtered.text
    assert incident_id not in client.get("/incidents", params={"country": "MX"}).text

    edit = client.get(f"/incidents/{incident_id}/edit")
    assert 'value="Threat at the river assembly"' in edit.text
    renamed = new_incident_form(signed_in.csrf, title="Renamed", version="1")
    changed = client.post(f"/incidents/{incident_id}/edit", data=renamed, follow_redirects=False)
    assert changed.status_code == 303, changed.text
    detail = client.get(f"/incidents/{incident_id}")
    assert "Renamed" in detail.text and "Restore version 1" in detail.text
    restored = client.post(f"/incidents/{incident_id}/restore", follow_redirects=False,
                           data={"csrf": signed_in.csrf, "version": "1"})  # fmt: skip
    assert restored.status_code == 303
    assert signed_in.registry.incidents.get(incident_id).title == "Threat at the river assembly"
    diff = client.get(f"/incidents/{incident_id}", params={"old": 1, "new": 2})
    assert "Renamed" in diff.text


def test_errors_appear_beside_their_fields(client: TestClient, signed_in: Browser) -> None:
    bad = new_incident_form(signed_in.csrf, country="", **{"acts-0-act_type": "Z99"})
    response = client.post("/incidents/new", data=bad)
    assert response.status_code == 422
    assert 'id="acts-0-act_type-error"' in response.text
    assert 'aria-describedby="acts-0-act_type-error"' in response.text
    assert 'id="country-error"' in response.text
    assert 'value="Threat at the river assembly"' in response.text  # what was typed is kept


def test_stored_text_renders_inert(client: TestClient, signed_in: Browser) -> None:
    saved = client.post("/incidents/new", follow_redirects=False, data=new_incident_form(
        signed_in.csrf, title=XSS, narrative=XSS, region=XSS))  # fmt: skip
    incident_id = created_id(saved.headers["location"])
    for page in (client.get("/incidents"), client.get(f"/incidents/{incident_id}"),
                 client.get(f"/incidents/{incident_id}/edit")):  # fmt: skip
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;" in page.text


def test_confidential_fields_are_masked_until_revealed(
    client: TestClient, signed_in: Browser, registry: Registry
) -> None:
    saved = client.post("/incidents/new", follow_redirects=False, data=new_incident_form(
        signed_in.csrf, place="Finca La Esperanza", confidential="on"))  # fmt: skip
    incident_id = created_id(saved.headers["location"])
    page = client.get(f"/incidents/{incident_id}")
    assert "Finca La Esperanza" not in page.text and "(confidential)" in page.text
    shown = client.post(f"/incidents/{incident_id}/reveal", data={"csrf": signed_in.csrf})
    assert "Finca La Esperanza" in shown.text
    assert [e.actor for e in registry.audit.entries(action="incident.reveal")] == ["user:ana"]


def test_need_to_know_on_pages(client: TestClient, registry: Registry) -> None:
    other = registry.incidents.add(factories.incident())  # filed by the operator, not granted
    assert client.get(f"/incidents/{other.id}").status_code == 404
    assert other.id not in client.get("/incidents").text


def test_spanish_labels_and_vocabularies(client: TestClient, signed_in: Browser) -> None:
    client.post("/language", data={"language": "es", "csrf": signed_in.csrf})
    page = client.get("/incidents/new")
    assert "Registrar un incidente" in page.text
    assert "Amenaza de muerte" in page.text  # act type A09 in Spanish
