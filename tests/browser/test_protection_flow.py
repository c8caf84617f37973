"""Protection work in a real browser: the case page, the risk form with its band and chart,
a measure in the plan, check-ins scheduled and completed on the public page with JavaScript
off; axe on the case page, the form and the public check-in page."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests import factories
from tests.browser.conftest import LiveServer, axe_violations, sign_in


def test_assess_plan_and_check_in(page: Page, live: LiveServer, chromium: Browser) -> None:
    sign_in(page, live, "ana")
    reg = live.registry
    user = reg.accounts.get_by_username("ana")
    defender = reg.defenders.add(factories.defender())
    assert defender.id and defender.case_id
    reg.grants.grant(defender.case_id, "user", user.id, "write")

    page.goto(f"{live.url}/")
    page.get_by_role("link", name="Cases", exact=True).first.click()
    page.locator(f"a[href='/cases/{defender.case_id}']").click()
    expect(page.get_by_role("heading", name="People and their risk")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Assess the risk").first.click()
    for item in reg.risk.items:
        page.locator(f"#item-{item.code}").select_option(str(item.max if item.group != "capacity"
                                                             else 0))  # fmt: skip
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save the assessment").click()
    expect(page.locator("#result-h")).to_contain_text("Extreme")
    page.get_by_role("link", name="Back to the case and its risk over time").click()
    expect(page.locator("svg.trajectory")).to_be_visible()
    expect(page.locator("#trajectory-title")).to_have_text("Risk over time")

    page.get_by_role("link", name="Protection plan").first.click()
    page.get_by_role("textbox", name="Measure", exact=True).fill("Install a door camera")
    page.get_by_role("textbox", name="Owner", exact=True).fill("Luis")
    page.get_by_role("button", name="Add the measure").click()
    expect(page.get_by_text("The measure was saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="Install a door camera")).to_be_visible()

    page.get_by_role("link", name="Check-ins", exact=True).first.click()
    page.get_by_label("Users to alert (usernames, in order)").fill("ana")
    page.get_by_role("button", name="Schedule", exact=True).click()
    link = page.locator("#checkin-link").inner_text()
    assert "/c/" in link
    token = link.rsplit("/c/", 1)[1]  # the link names public_url; the test server is elsewhere

    context = chromium.new_context(java_script_enabled=False, locale="en-GB")
    try:
        public = context.new_page()
        public.goto(f"{live.url}/c/{token}")
        expect(public.get_by_role("button", name="I am safe")).to_be_visible()
        assert "Berta" not in public.content()
        public.get_by_role("button", name="I am safe").click()
        expect(public.get_by_text("Thank you. Your check-in was received.")).to_be_visible()
        (schedule,) = reg.checkins.status(case_id=defender.case_id)
        assert schedule.last_checkin_at is not None
    finally:
        context.close()
    axe_context = chromium.new_context(locale="en-GB")
    try:
        checkin = axe_context.new_page()
        checkin.goto(f"{live.url}/checkin")
        assert axe_violations(checkin) == []
    finally:
        axe_context.close()
