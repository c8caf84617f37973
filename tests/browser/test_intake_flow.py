"""The public report form in a real browser with JavaScript off, in English and Arabic: a
report with a photo is sent, the receipt code shown once, and the status page follows the
review (received, in review, acted on). Nothing readable reaches the vault; axe on the form."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, axe_violations
from tests.evidence.samples import jpeg
from tests.security.leaks import files_with_canaries, new_canary, vault_files


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_report_without_javascript(
    chromium: Browser, live: LiveServer, tmp_path: Path, lang: str
) -> None:
    reg = live.registry
    reg.intake.keygen()
    canary = new_canary("browser")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg())
    context = chromium.new_context(java_script_enabled=False, locale="en-GB")
    page: Page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live.url}/report?lang={lang}")
        html = page.locator("html")
        expect(html).to_have_attribute("lang", lang)
        expect(html).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        page.locator("#what").fill(f"{canary} two men followed her home")
        page.locator("#when").fill("2024-05-14")
        page.locator("#who").fill("Berta Flores")
        page.locator("input[name=consent][value=contact]").check()
        page.locator("#files").set_input_files(str(photo))
        page.locator("button[type=submit].big").click()
        code = page.locator("#receipt").inner_text()
        assert len(code.replace("-", "")) == 32
        expect(html).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        assert files_with_canaries(vault_files(reg.settings.vault_dir), [canary]) == {}

        def status() -> str:
            page.goto(f"{live.url}/report/status?lang={lang}")
            page.locator("#code").fill(code)
            page.locator("form button[type=submit]").click()
            return page.locator("#status").get_attribute("data-state") or ""

        assert status() == "received"
        [item] = reg.intake.inbox()
        opened = reg.intake.open(item.id)
        assert canary in opened.answers["what"] and opened.files[0].data == photo.read_bytes()
        assert status() == "in_review"
        reg.intake.discard(item.id, "tested in a browser")
        assert status() == "acted_on"
    finally:
        context.close()


def test_report_form_is_accessible(page: Page, live: LiveServer) -> None:
    page.goto(f"{live.url}/report")
    assert axe_violations(page) == []
