"""Protection pages: the case, the risk form and its chart, the plan, check-ins and the
defender's public check-in page."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from amparo.registry import Registry
from tests import factories
from tests.web.conftest import BASE_URL, Browser

LINK = re.compile(r'id="checkin-link">[^<]*/c/([A-Za-z0-9_-]+)<')


def granted_case(registry: Registry, user_id: str) -> tuple[str, str]:
    defender = registry.defenders.add(factories.defender())
    assert defender.id and defender.case_id
    registry.grants.grant(defender.case_id, "user", user_id, "write")
    return defender.case_id, defender.id


def scores(registry: Registry, value: int) -> dict[str, str]:
    return {i.code: str(min(value, i.max)) for i in registry.risk.items}


def setup(signed_in: Browser) -> tuple[str, str]:
    user = signed_in.registry.accounts.get_by_username("ana")
    return granted_case(signed_in.registry, user.id)


def test_case_page_and_fields(client: TestClient, signed_in: Browser) -> None:
    case_id, defender_id = setup(signed_in)
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "Berta Flores" in page.text
    assert f'href="/cases/{case_id}/assess' in page.text and 'href="/cases"' in page.text
    assert f"/cases/{case_id}" in client.get("/cases").text
    saved = client.post(f"/cases/{case_id}", follow_redirects=False, data={
        "csrf": signed_in.csrf, "subject_defender_id": defender_id, "officer": "ana",
        "priority": "urgent", "protection_status": "active"})  # fmt: skip
    assert saved.status_code == 303
    case = signed_in.registry.protection.get(case_id)
    assert case.subject_defender_id == defender_id and case.priority == "urgent"
    assert case.protection_status == "active" and case.officer_id
    bad = client.post(f"/cases/{case_id}", data={"csrf": signed_in.csrf, "officer": "nobody"})
    assert bad.status_code == 422
    assert 'aria-invalid="true" aria-describedby="officer-error"' in bad.text
    assert 'id="officer-error">is not a user' in bad.text
    refused = client.post(f"/cases/{case_id}", data={"priority": "low"})
    assert refused.status_code == 403
    assert signed_in.registry.protection.get(case_id).priority == "urgent"


def test_no_grant_no_case(client: TestClient, registry: Registry) -> None:
    hidden = registry.defenders.add(factories.defender(display_name="Hidden Person"))
    assert hidden.case_id
    for path in ("", "/assess", "/plan", "/checkins"):
        response = client.get(f"/cases/{hidden.case_id}{path}")
        assert response.status_code == 404 and "Hidden Person" not in response.text
    assert hidden.case_id not in client.get("/cases").text


def test_assessment_form_validation_result_and_chart(
    client: TestClient, signed_in: Browser
) -> None:
    case_id, defender_id = setup(signed_in)
    form = client.get(f"/cases/{case_id}/assess")
    item = signed_in.registry.risk.items[0]
    assert item.text("help", "en") in form.text and 'name="C10"' in form.text
    spanish = client.get(f"/cases/{case_id}/assess", headers={"Accept-Language": "es"})
    assert item.text("help", "es") in spanish.text or spanish.status_code == 200
    data = {"csrf": signed_in.csrf, "defender_id": defender_id, **scores(signed_in.registry, 2)}
    missing = {k: v for k, v in data.items() if k != "T1"}
    refused = client.post(f"/cases/{case_id}/assess", data=missing)
    assert refused.status_code == 422 and 'id="item-T1-error">choose a score' in refused.text
    assert 'name="T2" aria-describedby="item-T2-hint"' in refused.text
    no_reason = client.post(f"/cases/{case_id}/assess", data={**data, "band": "low"})
    assert no_reason.status_code == 422 and 'id="band_reason-error"' in no_reason.text
    assert signed_in.registry.risk.history(defender_id) == []
    saved = client.post(f"/cases/{case_id}/assess", data={**data, "fact_disappeared": "1"})
    assert saved.status_code == 200 and 'id="result-h"' in saved.text
    assert "Extreme" in saved.text and "Urgent action is due now." in saved.text
    assert item.text("action", "en") in saved.text  # a driver's suggested action
    client.post(f"/cases/{case_id}/assess", data={**scores(signed_in.registry, 0),
                "csrf": signed_in.csrf, "defender_id": defender_id})  # fmt: skip
    page = client.get(f"/cases/{case_id}")
    assert "<svg" in page.text and 'id="trajectory-title">Risk over time' in page.text
    assert "<desc" in page.text and "Risk assessments</caption>" in page.text
    assert page.text.count("<circle") == 2 and "stroke-dasharray" in page.text


def test_plan_and_urgent_action(client: TestClient, signed_in: Browser) -> None:
    case_id, _ = setup(signed_in)
    added = client.post(f"/cases/{case_id}/measures", follow_redirects=False, data={
        "csrf": signed_in.csrf, "back": "plan", "kind": "preventive",
        "description": "Install a door camera", "owner": "Luis", "due_on": "2026-01-10",
        "status": "pending", "priority": "high", "driver": "V3"})  # fmt: skip
    assert added.status_code == 303
    plan = client.get(f"/cases/{case_id}/plan")
    assert "Install a door camera" in plan.text and "Luis" in plan.text
    assert 'id="kind-preventive-h"' in plan.text and 'id="kind-emergency-h"' in plan.text
    bad = client.post(f"/cases/{case_id}/measures", data={
        "csrf": signed_in.csrf, "back": "plan", "kind": "preventive", "description": " ",
        "due_on": "soon"})  # fmt: skip
    assert bad.status_code == 422 and 'id="due_on-error"' in bad.text
    measure = signed_in.registry.protection.measures(case_id)[0]
    updated = client.post(
        f"/measures/{measure.id}",
        follow_redirects=False,
        data={"csrf": signed_in.csrf, "case_id": case_id, "status": "closed", "outcome": "Done"},
    )
    assert updated.status_code == 303
    assert signed_in.registry.protection.measures(case_id)[0].outcome == "Done"
    opened = client.post(f"/cases/{case_id}/urgent", follow_redirects=False,
                         data={"csrf": signed_in.csrf, "kind": "relocation"})  # fmt: skip
    assert opened.status_code == 303
    action = signed_in.registry.protection.overview(case_id)["urgent"][0]
    ticked = client.post(
        f"/urgent/{action.id}/tick",
        follow_redirects=False,
        data={"csrf": signed_in.csrf, "step": "decision", "done": "1"},
    )
    assert ticked.status_code == 303
    page = client.get(f"/cases/{case_id}")
    assert "Relocation" in page.text and "Undo: She decided to relocate" in page.text


def test_checkins_and_the_public_page(client: TestClient, signed_in: Browser, app: FastAPI) -> None:
    case_id, defender_id = setup(signed_in)
    bad = client.post(
        f"/cases/{case_id}/checkins",
        data={"csrf": signed_in.csrf, "defender_id": defender_id, "every_hours": "0.1"},
    )
    assert bad.status_code == 422 and 'id="every_hours-error"' in bad.text
    made = client.post(f"/cases/{case_id}/checkins", data={
        "csrf": signed_in.csrf, "defender_id": defender_id, "every_hours": "6",
        "grace_minutes": "30,60", "chain": "ana"})  # fmt: skip
    assert made.status_code == 200
    found = LINK.search(made.text)
    assert found
    token = found.group(1)
    with TestClient(app, base_url=BASE_URL) as anonymous:  # no account, no session
        shown = anonymous.get(f"/c/{token}")
        assert shown.status_code == 200 and "I am safe" in shown.text
        assert shown.headers["cache-control"] == "no-store"
        assert shown.headers["referrer-policy"] == "no-referrer"
        assert "<script" not in shown.text and "Amparo" not in shown.text
        for secret in ("Berta", "Flores", case_id, defender_id, "Intibuc"):
            assert secret not in shown.text
        assert signed_in.registry.checkins.status(case_id=case_id)[0].last_checkin_at is None
        done = anonymous.post("/checkin", data={"token": token})
        assert done.status_code == 200 and "Your check-in was received" in done.text
        assert "Berta" not in done.text and case_id not in done.text
        again = anonymous.post("/checkin", data={"token": token})
        unknown = anonymous.post("/checkin", data={"token": "x" * 24})
        assert again.status_code == unknown.status_code == 200
        assert again.text == unknown.text and "cannot be used" in again.text
        schedule = signed_in.registry.checkins.status(case_id=case_id)[0]
        assert len(schedule.checkins) == 1 and schedule.last_checkin_at is not None
        for _ in range(4):
            anonymous.post("/checkin", data={"token": "y" * 24})
        busy = anonymous.post("/checkin", data={"token": "z" * 24})
        assert busy.status_code == 429 and "Retry-After" in busy.headers
    staff = client.get(f"/cases/{case_id}/checkins")
    assert 'id="checkin-link"' not in staff.text  # shown only once
    recorded = client.post(f"/checkins/{schedule.id}/record", follow_redirects=False,
                           data={"csrf": signed_in.csrf, "note": "by phone"})  # fmt: skip
    assert recorded.status_code == 303
    stopped = client.post(f"/checkins/{schedule.id}/stop", follow_redirects=False,
                          data={"csrf": signed_in.csrf})  # fmt: skip
    assert stopped.status_code == 303
    assert signed_in.registry.checkins.status(case_id=case_id)[0].status == "stopped"


def test_dashboard_panel(client: TestClient, signed_in: Browser) -> None:
    _, defender_id = setup(signed_in)
    reg = signed_in.registry
    reg.risk.assess(defender_id, {i.code: i.max for i in reg.risk.items})
    home = client.get("/")
    assert "Defenders at High or Extreme risk" in home.text and "Berta Flores" in home.text
