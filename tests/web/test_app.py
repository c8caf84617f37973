"""The web app once signed in: health, counts with small ones hidden, headers, no identities."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from amparo import __version__
from amparo.registry import Registry
from amparo.web.app import SECURITY_HEADERS, create_app
from tests.factories import defender, incident
from tests.web.conftest import BASE_URL, Browser, add_user

SECRET_WORDS = ("Berta", "Flores", "Cáceres", "Laura", "motorbike", "Guard Unit", "Esperanza")
ROUTES = ("/", "/healthz", "/api/v1/status", "/api/v1/stats", "/api/v1/openapi.json")


def signed_in_client(registry: Registry, name: str) -> Browser:
    """A fresh app for the registry as it is now, and an admin signed in to it."""
    browser = Browser(TestClient(create_app(registry), base_url=BASE_URL), registry)
    add_user(registry, name, "admin")
    browser.sign_in(name)
    return browser


@pytest.fixture
def filled(registry: Registry) -> Registry:
    """Five 2024 incidents with a death threat (A09), two 2023 smears (A19), in two countries."""
    victim = registry.defenders.add(defender())
    for n in range(5):
        act = {"act_type": "A09", "victim_defender_id": victim.id}
        registry.incidents.add(incident(title=f"Threat {n}", acts=[act], perpetrators=[]))
    for _ in range(2):
        registry.incidents.add(
            incident(date_start="2023-02", country="MX", acts=[{"act_type": "A19"}],
                     perpetrators=[])
        )  # fmt: skip
    return registry


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_status_counts(client: TestClient, filled: Registry) -> None:
    body = client.get("/api/v1/status").json()
    assert body["incidents"] == 7
    assert body["defenders"] == 1
    assert body["demo"] is False
    assert body["version"] == __version__
    assert body["database"] == filled.store.dialect


def test_status_of_an_empty_vault(client: TestClient) -> None:
    body = client.get("/api/v1/status").json()
    assert (body["incidents"], body["defenders"]) == (0, 0)


def test_stats_suppress_small_counts(client: TestClient, filled: Registry) -> None:
    body = client.get("/api/v1/stats").json()
    assert body["incidents_by_year"] == {"2023": "<5", "2024": 5}
    assert body["acts_by_type"] == {"A09": 5, "A19": "<5"}
    assert body["countries"] == 2
    assert body["small_counts_below"] == 5


def test_stats_of_an_empty_vault(client: TestClient) -> None:
    body = client.get("/api/v1/stats").json()
    assert body["incidents_by_year"] == {}
    assert body["acts_by_type"] == {}
    assert body["countries"] == 0


def test_home_page(client: TestClient, filled: Registry) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<td>2024</td><td class="n">5</td>' in html
    assert '<td>2023</td><td class="n">&lt;5</td>' in html
    assert "Death threat" in html  # the act label
    assert "DEMO" not in html
    assert "Signed in as <strong>ana</strong>" in html
    assert 'action="/logout"' in html


def test_demo_banner_only_for_demo_vaults(registry: Registry) -> None:
    with signed_in_client(registry, "ana").client as plain:
        assert "DEMO" not in plain.get("/").text
        assert plain.get("/api/v1/status").json()["demo"] is False
    registry.set_meta("demo", "true")
    with signed_in_client(registry, "bea").client as demo:
        html = demo.get("/").text
        assert 'class="demo"' in html
        assert "DEMO — synthetic data" in html
        assert "<title>Dashboard — Amparo — DEMO</title>" in html
        assert demo.get("/api/v1/status").json()["demo"] is True


def test_home_page_language(registry: Registry) -> None:
    registry.incidents.add(incident())
    registry.settings = dataclasses.replace(registry.settings, language="es")
    with signed_in_client(registry, "ana").client as client:
        html = client.get("/").text
    assert '<html lang="es"' in html
    assert "Amenaza de muerte" in html


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in (*ROUTES, "/no-such-page", "/api/v1/incidents"):
        response = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "default-src 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["cache-control"] == "no-store", path


def test_security_headers_on_refused_methods(client: TestClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["x-frame-options"] == "DENY"


def test_no_identity_or_narrative_leaves(client: TestClient, filled: Registry) -> None:
    assert filled.defenders.search("berta")  # the secrets are really in the vault
    assert filled.incidents.search("motorbike")
    bodies = [client.get(path).text for path in ROUTES]
    for body in bodies:
        for word in SECRET_WORDS:
            assert word.casefold() not in body.casefold(), word
        assert "Threat 0" not in body  # titles are sealed too


def test_openapi_schema(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Amparo API"
    assert schema["info"]["version"] == __version__
    assert {"/api/v1/status", "/api/v1/stats", "/api/v1/incidents"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 404  # no CDN-backed docs page
    assert client.get("/redoc").status_code == 404
