"""The staff interface in a real browser: sign-in, record, find, edit, restore, languages."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, axe_violations, sign_in
from tests.web.api.test_token_end_to_end import photo_with_gps
from tests.web.conftest import PASSWORD, advance

XSS = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


def test_record_find_edit_restore_and_read_in_spanish(page: Page, live: LiveServer) -> None:
    sign_in(page, live, "ana")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Record an incident").click()
    page.locator("#title").fill("Threat at the Rio Claro assembly")
    page.locator("#narrative").fill("Armed men told the committee leader to stop.")
    page.locator("#date_start").fill("2026-03")
    page.locator("#country").select_option("CO")
    page.locator("#perpetrators-0-perpetrator_type").select_option("armed_forces")
    page.locator("#acts-0-act_type").select_option("A09")
    page.get_by_role("button", name="Add an act").click()
    page.locator("#acts-1-act_type").select_option("A10")
    page.locator("#acts-1-modality").select_option("online")
    page.locator("input[name='acts-0-perpetrators'][value='0']").check()
    page.get_by_role("button", name="Save the incident").click()
    expect(page.get_by_role("heading", name="Threat at the Rio Claro assembly")).to_be_visible()
    expect(page.get_by_text("Saved.")).to_be_visible()
    incident_url = page.url.split("?")[0]

    page.locator("#evidence-file").set_input_files(
        {"name": "note.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}
    )
    page.locator("#evidence-description").fill("photo of the threat note")
    page.get_by_role("button", name="Attach", exact=True).click()
    # Care for the reader: the account and the photo stay blurred until asked for.
    blur = "e => getComputedStyle(e).filter"
    for part in ("narrative", "evidence"):
        assert page.locator(f"#{part}-reveal ~ .sensitive-body").evaluate(blur).startswith("blur")
    expect(page.get_by_text("Content warning: evidence may show")).to_be_visible()
    page.locator("label[for='evidence-reveal']").click()
    expect(page.get_by_role("img", name="note.jpg")).to_be_visible()
    expect(page.locator("#evidence-reveal ~ .sensitive-body")).to_have_css("filter", "none")
    assert page.locator("#narrative-reveal ~ .sensitive-body").evaluate(blur).startswith("blur")
    page.locator("#narrative-reveal").focus()
    page.keyboard.press("Space")  # from the keyboard too
    expect(page.locator("#narrative-reveal ~ .sensitive-body")).to_have_css("filter", "none")
    (item,) = live.registry.evidence.list()
    assert item.metadata_removed and item.shared_status == "stripped"

    page.get_by_role("link", name="Incidents").click()
    page.get_by_label("Keywords").fill("Rio Claro")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Threat at the Rio Claro assembly")).to_be_visible()
    page.goto(f"{live.url}/incidents")
    page.locator("#f-act_type").select_option("A10")
    page.locator("#f-country").select_option("CO")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Threat at the Rio Claro assembly")).to_be_visible()

    page.goto(incident_url)
    page.get_by_role("link", name="Edit").click()
    page.locator("#title").fill("Renamed by mistake")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Renamed by mistake")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_role("heading", name="Threat at the Rio Claro assembly")).to_be_visible()

    page.locator("#language-menu").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("link", name="Editar")).to_be_visible()
    expect(page.get_by_text("Amenaza de muerte").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("#language-menu").select_option("ar")
    page.get_by_role("button", name="Cambiar").click()
    expect(page.get_by_role("button", name="تغيير")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")


def test_stored_xss_stays_inert(page: Page, live: LiveServer) -> None:
    sign_in(page, live, "ana")
    page.goto(f"{live.url}/incidents/new")
    for field in ("title", "narrative", "region", "place"):
        page.locator(f"#{field}").fill(XSS)
    page.locator("#date_start").fill("2026")
    page.locator("#country").select_option("MX")
    page.locator("#acts-0-act_type").select_option("A19")
    page.locator("#acts-0-victim_description").fill(XSS)
    page.get_by_role("button", name="Save the incident").click()
    expect(page).to_have_url(re.compile(r"/incidents/[0-9a-f]+"))
    for url in (page.url, f"{live.url}/incidents", page.url.split("?")[0] + "/edit"):
        page.goto(url)
        page.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")
        page.locator("input.reveal").evaluate_all("els => els.forEach(e => e.click())")
        assert page.title() != "pwned"
        assert page.locator("img[src='x']").count() == 0


def test_main_pages_have_no_serious_accessibility_violations(page: Page, live: LiveServer) -> None:
    sign_in(page, live, "ana")
    page.goto(f"{live.url}/incidents/new")
    page.locator("#title").fill("Accessible")
    page.locator("#date_start").fill("2025-01-02")
    page.locator("#country").select_option("HN")
    page.locator("#acts-0-act_type").select_option("A09")
    page.get_by_role("button", name="Save the incident").click()
    detail = page.url.split("?")[0]
    for url in ("/", "/incidents", "/incidents/new", detail, "/login"):
        page.goto(url if url.startswith("http") else f"{live.url}{url}")
        assert axe_violations(page) == [], url


def test_an_admin_grant_shows_the_name_to_that_user_only(
    chromium: Browser, live: LiveServer
) -> None:
    from tests import factories

    defender = live.registry.defenders.add(factories.defender(display_name="Marta Quispe"))
    assert defender.id and defender.case_id
    people = {}
    for name, role in (("ana", "admin"), ("bea", "documenter"), ("caro", "documenter")):
        context = chromium.new_context()
        people[name] = (context, context.new_page())
        secret = sign_in(people[name][1], live, name, role)
        people[name] = (context, people[name][1], secret)
    _, admin, secret = people["ana"]
    admin.goto(f"{live.url}/admin")
    admin.locator("#grant-case").fill(defender.case_id)
    admin.locator("#grant-name").fill("bea")
    admin.get_by_role("button", name="Save access").click()
    expect(admin.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    advance(live.registry, seconds=30)  # a fresh code: the sign-in code cannot be reused
    admin.locator("#password").fill(PASSWORD)
    admin.locator("#code").fill(pyotp.TOTP(secret).at(live.registry.clock.now()))
    admin.get_by_role("button", name="Confirm").click()
    admin.locator("#grant-case").fill(defender.case_id)
    admin.locator("#grant-name").fill("bea")
    admin.get_by_role("button", name="Save access").click()
    expect(admin.get_by_text("Done.")).to_be_visible()

    bea, caro = people["bea"][1], people["caro"][1]
    bea.goto(f"{live.url}/defenders/{defender.id}")
    expect(bea.get_by_role("heading", name="Marta Quispe")).to_be_visible()
    caro.goto(f"{live.url}/defenders")
    expect(caro.get_by_text("Marta Quispe")).to_have_count(0)
    response = caro.goto(f"{live.url}/defenders/{defender.id}")
    assert response is not None and response.status == 404
    for context, *_ in people.values():
        context.close()


def test_stored_xss_in_profiles_and_admin_stays_inert(page: Page, live: LiveServer) -> None:
    from tests import factories

    sign_in(page, live, "ana")
    admin = live.registry.accounts.get_by_username("ana")
    defender = live.registry.defenders.add(factories.defender(
        display_name=XSS, aliases=[XSS], organisations=[XSS], contacts=XSS, region=XSS,
        close_people=[{"relation": "child", "name": XSS}]))  # fmt: skip
    assert defender.case_id
    live.registry.grants.grant(defender.case_id, "user", admin.id, "write")
    for url in (f"/defenders/{defender.id}", "/defenders", "/admin", "/admin/audit", "/"):
        page.goto(f"{live.url}{url}")
        assert page.title() != "pwned", url
        assert page.locator("img[src='x']").count() == 0, url
