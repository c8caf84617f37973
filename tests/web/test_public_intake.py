"""The public report form and the intake API: sealed on receipt, receipt status, limits."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from amparo.registry import Registry
from amparo.settings import Settings
from amparo.web.app import create_app
from tests.conftest import PASSPHRASE
from tests.evidence.samples import jpeg
from tests.security.leaks import (
    database_bytes,
    files_with_canaries,
    hits,
    is_sqlite,
    new_canary,
    vault_files,
)
from tests.web.conftest import BASE_URL, Browser

RECEIPT = re.compile(r'<code class="receipt" id="receipt">([A-Z2-7-]+)</code>')


@pytest.fixture
def intake(registry: Registry) -> Registry:
    registry.intake.keygen()
    return registry


def sealed_only(registry: Registry, canaries: list[str]) -> None:
    assert files_with_canaries(vault_files(registry.settings.vault_dir), canaries) == {}
    if not is_sqlite(registry.settings.database_url):
        assert hits(database_bytes(registry.settings.database_url), canaries) == []


def post_report(client: TestClient, fields: dict[str, object], files: list[tuple[str, bytes]]
                ) -> tuple[int, str]:  # fmt: skip
    data = {k: v for k, v in fields.items()}
    multipart = [("files", (name, content, "application/octet-stream")) for name, content in files]
    response = client.post("/report", data=data, files=multipart or [("files", ("", b"", ""))])
    return response.status_code, response.text


def test_form_submission_is_stored_only_sealed(intake: Registry, browser: Browser) -> None:
    canaries = [new_canary(w) for w in ("qué", "who", "contact", "photo")]
    page = browser.client.get("/report")
    assert page.status_code == 200 and "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert 'enctype="multipart/form-data"' in page.text
    photo = jpeg() + canaries[3].encode()
    status, html = post_report(browser.client, {
        "what": f"Threat {canaries[0]}", "when": "2024-05-14", "who": canaries[1],
        "contact": canaries[2], "consent": ["contact", "documentation"], "lang": "en",
    }, [("photo.jpg", photo), ("big.bin", b"x" * 2_000_000)])  # fmt: skip
    assert status == 200, html
    code = RECEIPT.search(html)
    assert code is not None
    sealed_only(intake, canaries)
    [item] = intake.intake.inbox()
    assert item.channel == "form"
    opened = intake.intake.open(item.id)
    assert opened.answers["who"] == canaries[1] and opened.consent == ["contact", "documentation"]
    assert [f.data for f in opened.files] == [photo, b"x" * 2_000_000]
    assert intake.intake.status(code.group(1)) == "in_review"


def test_receipt_page_and_status_in_arabic(intake: Registry, browser: Browser) -> None:
    status, html = post_report(browser.client, {"what": "تهديد", "lang": "ar"}, [])
    assert status == 200 and 'dir="rtl"' in html and 'lang="ar"' in html
    code = RECEIPT.search(html)
    assert code is not None
    shown = browser.client.post("/report/status", data={"code": code.group(1), "lang": "ar"})
    assert 'data-state="received"' in shown.text and 'dir="rtl"' in shown.text
    unknown = browser.client.post("/report/status", data={"code": "NOPE"})
    assert "data-state" not in unknown.text


def test_form_errors_keep_the_answers_and_store_nothing(intake: Registry, browser: Browser
                                                        ) -> None:  # fmt: skip
    status, html = post_report(browser.client, {"what": " ", "where": "Kept place"}, [])
    assert status == 400 and "Kept place" in html and 'role="alert"' in html
    status, html = post_report(browser.client, {"what": "x"}, [("a", b"1")] * 6)
    assert status == 400
    assert intake.intake.inbox() == []


def test_form_without_intake_key_says_closed(registry: Registry, browser: Browser) -> None:
    status, _ = post_report(browser.client, {"what": "x"}, [])
    assert status == 503


def test_form_rate_limit(intake: Registry, browser: Browser) -> None:
    for _ in range(5):
        assert post_report(browser.client, {"what": "x"}, [])[0] == 200
    response = browser.client.post("/report", data={"what": "x"}, files=[("files", ("", b"", ""))])
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0


def test_form_can_be_moved_or_switched_off(registry: Registry, vault_dir: Path) -> None:
    settings = Settings.load(vault_dir)
    for path, expected in (("/tell-us", 200), (None, 404)):
        moved = Registry(
            Settings(**{**{f: getattr(settings, f) for f in settings.__slots__},
                        "intake_form": path}),
            registry.store, registry.keyring,
        )  # fmt: skip
        moved._owns_resources = False
        with TestClient(create_app(moved), base_url=BASE_URL) as client:
            assert client.get("/tell-us").status_code == expected
            assert client.get("/report").status_code in (303, 404)
    assert PASSPHRASE


# -- the API -------------------------------------------------------------------------------
def test_api_json_and_multipart_are_sealed(intake: Registry, browser: Browser) -> None:
    canaries = [new_canary("json"), new_canary("multipart"), new_canary("file")]
    created = browser.client.post("/api/v1/intake", json={
        "what": canaries[0], "consent": ["documentation"], "language": "es",
        "files": [{"name": "a.txt", "content_base64": base64.b64encode(
            canaries[2].encode()).decode()}],
    })  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "receipt_code", "status"}
    part = ("files", ("b.txt", b"plain", "text/plain"))
    multipart = browser.client.post("/api/v1/intake", data={"what": canaries[1]}, files=[part])
    assert multipart.status_code == 201, multipart.text
    sealed_only(intake, canaries)
    status = browser.client.get("/api/v1/intake/status", params={"code": body["receipt_code"]})
    assert status.json() == {"status": "received"}
    intake.intake.open(body["id"])
    assert browser.client.get("/api/v1/intake/status", params={
        "code": body["receipt_code"]}).json() == {"status": "in_review"}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"what": "x", "who": 3}, "who"),
        ({"what": "x", "name": "y"}, "name"),
        ({"when": "today"}, "what"),
        ({"what": "x", "consent": "contact"}, "consent"),
        ({"what": "x", "files": [{"name": "a", "content_base64": "!!"}]},
         "files[0].content_base64"),
    ],
)  # fmt: skip
def test_api_bad_input_is_a_problem(
    intake: Registry, browser: Browser, body: dict[str, object], field: str
) -> None:
    response = browser.client.post("/api/v1/intake", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    assert intake.intake.inbox() == []


def test_api_unknown_code_and_wrong_type(intake: Registry, browser: Browser) -> None:
    missing = browser.client.get("/api/v1/intake/status", params={"code": "NOPE"})
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:amparo:problem:not-found"
    wrong = browser.client.post("/api/v1/intake", content=b"what=x",
                                headers={"content-type": "text/plain"})  # fmt: skip
    assert wrong.status_code == 415
