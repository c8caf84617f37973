"""Triage pages: upload a batch for a defender, review it, accept as incidents, risk flags."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from amparo.registry import Registry
from amparo.store import schema
from tests import factories
from tests.services.test_triage import BATCH
from tests.web.conftest import Browser
from tests.web.pages.test_defender_pages import granted_defender


def upload(client: TestClient, csrf: str, defender_id: str, data: bytes = BATCH,
           name: str = "replies.csv") -> object:  # fmt: skip
    return client.post(
        "/triage/upload", follow_redirects=False,
        data={"csrf": csrf, "defender_id": defender_id, "rules_only": "1"},
        files={"file": (name, data, "text/csv")},
    )  # fmt: skip


def stored_batch(client: TestClient, signed_in: Browser) -> tuple[str, str]:
    user = signed_in.registry.accounts.get_by_username("ana")
    defender_id = granted_defender(signed_in.registry, user.id)
    response = upload(client, signed_in.csrf, defender_id)
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    found = re.match(r"/triage/([0-9a-f]{32})\?stored=1", location)
    assert found, location
    return defender_id, found.group(1)


def test_upload_then_review_a_batch_ranked_and_blurred(
    client: TestClient, signed_in: Browser
) -> None:
    defender_id, batch_id = stored_batch(client, signed_in)
    page = client.get(f"/triage/{batch_id}?stored=1")
    assert page.status_code == 200
    text = page.text
    assert "The batch was analysed and stored." in text and "replies.csv" in text
    assert "Content warning: this message may be abusive" in text
    assert 'class="sensitive-body"' in text and "I will kill you tonight" in text
    assert text.index("I will kill you tonight") < text.index("lovely weather")
    assert "kill-you" in text and "Threat" in text and "Accept as incident" in text
    assert "row 6, column &#39;text&#39;: is empty" in text  # skipped rows listed
    assert "Campaign 1: 5 messages from 5 accounts" in text
    filtered = client.get(f"/triage/{batch_id}", params={"category": "smear"})
    assert "she is a terrorist" in filtered.text and "kill you tonight" not in filtered.text
    assert client.get(f"/triage/{batch_id}", params={"status": "gone"}).status_code == 400
    listing = client.get("/triage")
    assert batch_id in listing.text and "Berta Flores" in listing.text
    assert 'href="/triage" aria-current="page"' in listing.text
    assert f"/triage?defender={defender_id}" in client.get(f"/defenders/{defender_id}").text


def test_relabel_dismiss_and_accept_from_the_page(client: TestClient, signed_in: Browser) -> None:
    reg = signed_in.registry
    defender_id, batch_id = stored_batch(client, signed_in)
    messages = reg.triage.messages(batch_id)
    threat, smear, calm = messages[0], messages[1], messages[-1]
    no_token = client.post(f"/triage/messages/{calm.id}/relabel", data={"categories": ["none"]})
    assert no_token.status_code == 403 and reg.triage.message(calm.id).relabel is None
    relabelled = client.post(f"/triage/messages/{calm.id}/relabel", follow_redirects=False,
                             data={"csrf": signed_in.csrf, "categories": ["none"]})  # fmt: skip
    assert relabelled.status_code == 303 and "done=relabelled" in relabelled.headers["location"]
    assert reg.triage.message(calm.id).relabel == ["none"]
    dismissed = client.post(
        f"/triage/messages/{smear.id}/dismiss",
        data={"csrf": signed_in.csrf, "reason": "quoting a news story"},
    )
    assert dismissed.status_code == 200 and "The message was dismissed." in dismissed.text
    assert reg.triage.message(smear.id).dismiss_reason == "quoting a news story"
    accepted = client.post(f"/triage/messages/{threat.id}/accept", follow_redirects=False,
                           data={"csrf": signed_in.csrf})  # fmt: skip
    assert accepted.status_code == 303
    incident_id = accepted.headers["location"].split("/")[2].split("?")[0]
    incident = client.get(f"/incidents/{incident_id}")
    assert "Online threat against Berta Flores" in incident.text
    assert "message-row-2.html" in incident.text  # the evidence capture
    again = client.post(f"/triage/messages/{threat.id}/accept", follow_redirects=False,
                        data={"csrf": signed_in.csrf})  # fmt: skip
    assert again.headers["location"] == accepted.headers["location"]
    with reg.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.incidents)).scalar() == 1
    # The dashboard and her profile show the flag; clearing it is one click and a note.
    home = client.get("/").text
    assert "Defenders flagged for risk review" in home and f"/defenders/{defender_id}" in home
    assert "Urgent online abuse, not reviewed" in home
    profile = client.get(f"/defenders/{defender_id}").text
    assert "Flagged for risk review" in profile
    (flag,) = reg.risk_flags.for_defender(defender_id)
    cleared = client.post(
        f"/risk-flags/{flag.id}/clear", data={"csrf": signed_in.csrf, "note": "plan reviewed"}
    )
    assert cleared.status_code == 200 and "The risk-review flag was cleared." in cleared.text
    assert "No open risk-review flag." in cleared.text
    campaign = reg.triage.campaigns(batch_id)[0]
    whole = client.post(f"/triage/campaigns/{campaign.id}/accept", follow_redirects=False,
                        data={"csrf": signed_in.csrf})  # fmt: skip
    assert whole.status_code == 303 and whole.headers["location"].startswith("/incidents/")


def test_urgent_messages_are_on_the_dashboard(client: TestClient, signed_in: Browser) -> None:
    _, batch_id = stored_batch(client, signed_in)
    home = client.get("/").text
    threat = signed_in.registry.triage.messages(batch_id)[0]
    assert f"/triage/{batch_id}#m-{threat.id}" in home
    assert "kill you" not in home  # the text itself stays on the batch page, behind a warning


def test_bad_uploads_say_what_is_wrong_and_store_nothing(
    client: TestClient, signed_in: Browser
) -> None:
    user = signed_in.registry.accounts.get_by_username("ana")
    defender_id = granted_defender(signed_in.registry, user.id)
    for data, name, expected in (
        (b"", "empty.csv", "the file is empty"),
        (b"\x00\x01binary\xff" * 30, "image.csv", "binary file"),
        (b"who,when\n@a,2026-01-01\n", "columns.csv", "--map text=COLUMN"),
    ):
        response = upload(client, signed_in.csrf, defender_id, data, name)
        assert response.status_code == 422, name  # type: ignore[attr-defined]
        assert expected in response.text, response.text  # type: ignore[attr-defined]
    missing = client.post("/triage/upload", data={"csrf": signed_in.csrf, "defender_id": ""},
                          files={"file": ("a.csv", b"text\nhi\n", "text/csv")})  # fmt: skip
    assert missing.status_code == 422
    with signed_in.registry.store.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(schema.triage_batches))
        assert count.scalar() == 0


def test_batches_of_cases_one_is_not_in_stay_hidden(
    client: TestClient, signed_in: Browser, registry: Registry
) -> None:
    hidden = registry.defenders.add(factories.defender(display_name="Hidden Person"))
    assert hidden.id
    stored = registry.triage.ingest(hidden.id, BATCH, name="secret.csv", rules_only=True)
    message = registry.triage.messages(stored.batch.id)[0]
    assert client.get(f"/triage/{stored.batch.id}").status_code == 404
    assert "secret.csv" not in client.get("/triage").text
    for action in ("accept", "dismiss", "relabel"):
        refused = client.post(f"/triage/messages/{message.id}/{action}",
                              data={"csrf": signed_in.csrf, "reason": "x",
                                    "categories": ["none"]})  # fmt: skip
        assert refused.status_code == 404, action
    assert "Hidden Person" not in client.get("/triage").text
    assert upload(client, signed_in.csrf, hidden.id).status_code == 422  # type: ignore[attr-defined]


def test_an_upload_without_its_csrf_token_is_refused_and_its_file_let_go(
    client: TestClient, signed_in: Browser
) -> None:
    """The token is read from the multipart body; refusing must close the spooled upload
    (pytest turns the ResourceWarning of an open file into a failure)."""
    user = signed_in.registry.accounts.get_by_username("ana")
    defender_id = granted_defender(signed_in.registry, user.id)
    response = upload(client, "not-the-token", defender_id)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "csrf" in response.text.lower()  # type: ignore[attr-defined]
