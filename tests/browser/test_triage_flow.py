"""Triage in a real browser: upload a batch for a defender, reveal a blurred message, dismiss
one, accept a threat as an incident and see it; axe on the batch page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import LiveServer, axe_violations, sign_in
from tests.services.test_triage import BATCH


def test_upload_reveal_dismiss_and_accept_a_threat(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    sign_in(page, live, "ana")
    reg = live.registry
    user = reg.accounts.get_by_username("ana")
    defender = reg.defenders.add(factories.defender())
    assert defender.id and defender.case_id
    reg.grants.grant(defender.case_id, "user", user.id, "write")
    batch = tmp_path / "replies.csv"
    batch.write_bytes(BATCH)

    page.goto(f"{live.url}/")
    page.get_by_role("link", name="Triage", exact=True).click()
    expect(page.get_by_role("heading", name="Online-abuse triage")).to_be_visible()
    page.get_by_label("Defender the messages are aimed at").select_option(defender.id)
    page.get_by_label("File of messages").set_input_files(str(batch))
    page.get_by_label("Rules only").check()
    page.get_by_role("button", name="Analyse and store").click()
    expect(page.get_by_text("The batch was analysed and stored.")).to_be_visible()
    assert axe_violations(page) == []

    (stored,) = reg.triage.batches()
    messages = reg.triage.messages(stored.id)
    threat, smear = messages[0], messages[1]
    blur = "e => getComputedStyle(e).filter"
    body = page.locator(f"#m-{threat.id}-reveal ~ .sensitive-body")
    assert body.evaluate(blur).startswith("blur")
    page.locator(f"label[for='m-{threat.id}-reveal']").click()
    expect(body).to_have_css("filter", "none")
    expect(page.get_by_text("I will kill you tonight bitch")).to_be_visible()
    other = page.locator(f"#m-{smear.id}-reveal ~ .sensitive-body")
    assert other.evaluate(blur).startswith("blur")

    page.get_by_label("Reason for dismissing").nth(1).fill("quoting the news")
    page.locator(f"#m-{smear.id}").get_by_role("button", name="Dismiss").click()
    expect(page.get_by_text("The message was dismissed.")).to_be_visible()
    assert reg.triage.message(smear.id).status == "dismissed"

    page.locator(f"#m-{threat.id}").get_by_role("button", name="Accept as incident").click()
    expect(page.get_by_role("heading", name="Online threat against Berta Flores")).to_be_visible()
    expect(page.get_by_text("Death threat").first).to_be_visible()
    evidence = page.locator("#evidence-reveal ~ .sensitive-body")
    assert evidence.evaluate(blur).startswith("blur")  # the message, as evidence, stays blurred
    page.locator("label[for='evidence-reveal']").click()
    expect(evidence).to_have_css("filter", "none")
    expect(page.get_by_role("link", name="message-row-2.html")).to_be_visible()

    page.goto(f"{live.url}/")
    expect(page.get_by_role("heading", name="Defenders flagged for risk review")).to_be_visible()
    expect(page.get_by_role("link", name="Berta Flores", exact=True)).to_be_visible()
    page.goto(f"{live.url}/triage/{stored.id}")
    assert axe_violations(page) == []  # with messages reviewed and accepted too
