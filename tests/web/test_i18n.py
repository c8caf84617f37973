"""Interface languages: complete catalogs, negotiation, right-to-left Arabic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from amparo.web import i18n
from tests.web.conftest import Browser, advance, code_at

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "amparo" / "web" / "locale"


def catalog_ids(path: Path, lang: str | None = None) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "--no-location", "--sort-output", "--omit-header", "-o", str(fresh),
         "."], cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    assert set(catalog_ids(fresh)) == set(catalog_ids(LOCALE / "messages.pot")), (
        "amparo/web/locale/messages.pot is stale: run 'make messages'"
    )


@pytest.mark.parametrize("lang", ["es", "fr", "pt", "ar"])
def test_every_string_is_translated(lang: str) -> None:
    wanted = set(catalog_ids(LOCALE / "messages.pot"))
    have = catalog_ids(LOCALE / lang / "LC_MESSAGES" / "messages.po", lang)
    missing = sorted(m for m in wanted if not have.get(m))
    assert not missing, f"{lang}: {len(missing)} untranslated, e.g. {missing[:5]}"


def test_negotiation_order() -> None:
    assert i18n.negotiate(user_choice="fr", cookie="es", accept_language="pt", default="en") == "fr"
    assert i18n.negotiate(user_choice=None, cookie="es", accept_language="pt", default="en") == "es"
    browser_order = "de, ar;q=0.5, pt;q=0.9"
    assert i18n.negotiate(user_choice=None, cookie=None, accept_language=browser_order,
                          default="en") == "pt"  # fmt: skip
    assert i18n.negotiate(user_choice="xx", cookie="zz", accept_language="", default="es") == "es"


def test_login_page_in_the_browsers_language_and_arabic_right_to_left(browser: Browser) -> None:
    spanish = browser.client.get("/login", headers={"Accept-Language": "es-CO,es;q=0.9"})
    assert "Iniciar sesión" in spanish.text and '<html lang="es" dir="ltr">' in spanish.text
    chosen = browser.client.post("/language", data={"language": "ar", "next": "/login"},
                                 follow_redirects=False)  # fmt: skip
    assert chosen.status_code == 303 and chosen.headers["location"] == "/login"
    arabic = browser.client.get("/login")
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert "تسجيل الدخول" in arabic.text


def test_signed_in_pages_follow_the_choice(client: TestClient, signed_in: Browser) -> None:
    client.post("/language", data={"language": "es", "csrf": signed_in.csrf})
    page = client.get("/")
    assert "Panel" in page.text and "Cerrar sesión" in page.text
    refused = client.post("/language", data={"language": "fr"})  # no CSRF token
    assert refused.status_code == 403


def test_static_assets_are_served_without_sign_in(browser: Browser) -> None:
    css = browser.client.get("/static/amparo.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert browser.client.get("/static/amparo.js").status_code == 200
    assert browser.client.get("/static/../auth.py").status_code == 404


def test_the_choice_stays_with_the_account(
    signed_in: Browser, browser_factory: Callable[[], Browser]
) -> None:
    signed_in.client.post("/language", data={"language": "pt", "csrf": signed_in.csrf})
    elsewhere = browser_factory()  # another computer: no language cookie
    advance(signed_in.registry, seconds=30)
    elsewhere.login("ana")
    elsewhere.verify(code_at(signed_in.registry, signed_in.totp_secret))
    page = elsewhere.client.get("/")
    assert '<html lang="pt"' in page.text and "Painel" in page.text
    entry = signed_in.registry.audit.entries(action="user.language")[-1]
    assert entry.actor == "user:ana" and "language=pt" in entry.detail


def test_library_messages_listed_for_translation_are_still_the_librarys() -> None:
    from amparo.web.library_messages import MESSAGES

    source = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("services", "domain")
        for path in (ROOT / "amparo" / folder).rglob("*.py")
    )
    gone = [m for m in MESSAGES if f'"{m}"' not in source]
    assert gone == [], "no longer said by amparo.services or amparo.domain: remove them"


def test_a_failed_sign_in_reads_in_the_readers_language(browser: Browser) -> None:
    browser.client.cookies.set(i18n.COOKIE, "es")
    failed = browser.client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert failed.status_code == 400
    assert i18n.translations("es").gettext("invalid username or password") in failed.text
    assert "invalid username or password" not in failed.text


def test_field_errors_are_translated_and_a_typed_percent_stays_as_typed(
    client: TestClient, signed_in: Browser
) -> None:
    from tests.web.pages.test_incident_pages import new_incident_form

    client.cookies.set(i18n.COOKIE, "es")
    signed_in.registry.accounts.set_language(signed_in.registry.accounts.list_users()[0].id, "es")
    required = client.post("/incidents/new", data=new_incident_form(signed_in.csrf, title=""))
    assert required.status_code == 422
    assert i18n.translations("es").gettext("is required") in required.text
    odd = client.post("/incidents/new", data=new_incident_form(signed_in.csrf, date_start="20%d"))
    assert odd.status_code == 422, odd.text
    assert "&#39;20%d&#39;" in odd.text or "'20%d'" in odd.text
