"""Admin pages: accounts, grants (need-to-know in action), tokens, the audit log."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from amparo.registry import Registry
from tests import factories
from tests.web.conftest import PASSWORD, Browser, add_user, advance, code_at, csrf_of


def reauthenticate(browser: Browser) -> None:
    advance(browser.registry, seconds=30)  # the sign-in code cannot be used twice
    page = browser.client.get("/reauth", params={"next": "/admin"})
    done = browser.client.post("/reauth", follow_redirects=False, data={
        "csrf": csrf_of(page.text), "password": PASSWORD, "next": "/admin",
        "code": code_at(browser.registry, browser.totp_secret)})  # fmt: skip
    assert done.status_code == 303, done.text
    browser.refresh_csrf()


def test_admin_grants_a_case_and_only_that_user_sees_the_name(
    signed_in: Browser, registry: Registry, browser_factory: Callable[[], Browser]
) -> None:
    defender = registry.defenders.add(factories.defender(display_name="Marta Quispe"))
    assert defender.id and defender.case_id
    add_user(registry, "bea", "documenter")
    add_user(registry, "caro", "documenter")
    admin = signed_in.client
    first = admin.post("/admin/grants", follow_redirects=False, data={
        "csrf": signed_in.csrf, "case_id": defender.case_id, "principal_type": "user",
        "principal": "bea", "level": "read"})  # fmt: skip
    assert first.status_code == 303
    assert first.headers["location"].startswith("/reauth")  # permission changes need it
    reauthenticate(signed_in)
    granted = admin.post("/admin/grants", follow_redirects=False, data={
        "csrf": signed_in.csrf, "case_id": defender.case_id, "principal_type": "user",
        "principal": "bea", "level": "read"})  # fmt: skip
    assert granted.status_code == 303 and granted.headers["location"] == "/admin?done=1"

    bea, caro = browser_factory(), browser_factory()
    bea.sign_in("bea")
    caro.sign_in("caro")
    assert "Marta Quispe" in bea.client.get(f"/defenders/{defender.id}").text
    assert caro.client.get(f"/defenders/{defender.id}").status_code == 404
    assert "Marta Quispe" not in caro.client.get("/defenders").text


def test_accounts_tokens_and_audit_log(signed_in: Browser, registry: Registry) -> None:
    reauthenticate(signed_in)
    client: TestClient = signed_in.client
    added = client.post("/admin/users", follow_redirects=False, data={
        "csrf": signed_in.csrf, "username": "dora", "password": "another good passphrase",
        "role": "viewer"})  # fmt: skip
    assert added.status_code == 303
    assert registry.accounts.get_by_username("dora").role == "viewer"
    form = {"csrf": signed_in.csrf, "username": "dora", "name": "nightly", "scope": "read",
            "days": "7"}  # fmt: skip
    token = client.post("/admin/tokens", data=form)
    assert "amp_" in token.text and "will not be shown again" in token.text
    log = client.get("/admin/audit", params={"action": "user.create"})
    assert log.status_code == 200 and "user.create" in log.text
    bad = client.get("/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 422


def test_non_admins_cannot_open_admin(registry: Registry, browser_factory: Callable[[], Browser]
                                      ) -> None:  # fmt: skip
    add_user(registry, "eva", "coordinator")
    eva = browser_factory()
    eva.sign_in("eva")
    assert eva.client.get("/admin").status_code == 403
    assert eva.client.get("/admin/audit").status_code == 403
    form = {"csrf": eva.csrf, "username": "x", "password": "y", "role": "admin"}
    assert eva.client.post("/admin/users", data=form).status_code == 403
