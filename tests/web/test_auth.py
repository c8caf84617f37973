"""Sign-in, second factor, sessions, CSRF and bearer tokens (SECURITY.md tests 8 to 11)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from amparo.registry import Registry
from amparo.security.throttle import FREE_FAILURES
from amparo.services.accounts import GENERIC_FAILURE, User
from amparo.web.app import create_app
from amparo.web.auth import PARTIAL_PATHS, PUBLIC_PATHS, CurrentUser
from amparo.web.public_checkin import PUBLIC_CHECKIN_PATHS
from amparo.web.public_intake import PUBLIC_INTAKE_PATHS
from amparo.web.sessions import SessionStore
from tests.web.conftest import (
    BASE_URL,
    PASSWORD,
    Browser,
    add_user,
    advance,
    code_at,
    csrf_of,
)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's include_router
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(included.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, Mount):
            yield from _walk(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, set(route.methods or ())


def endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, read from the app itself."""
    found = []

    def concrete(raw: str) -> str:
        return re.sub(r"\{[^}]+\}", "0123456789abcdef0123456789abcdef", raw)

    for raw, methods in _walk(app.routes):
        found += [(m, concrete(raw)) for m in sorted(methods) if m != "HEAD"]
    paths = {p for _, p in found}
    # the walk sees at least what OpenAPI sees
    assert {concrete(p) for p in app.openapi()["paths"]} <= paths
    assert {"/", "/login", "/logout", "/api/v1/openapi.json"} <= paths
    return found


def private(app: FastAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p in endpoints(app)
            if p not in PUBLIC_PATHS
            and not p.startswith(PUBLIC_CHECKIN_PATHS + PUBLIC_INTAKE_PATHS)]  # fmt: skip


def unsafe(app: FastAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p in endpoints(app) if m in UNSAFE]


def entries(registry: Registry, action: str | None = None) -> list[str]:
    return [f"{e.action} {e.actor} {e.detail}" for e in registry.audit.entries(action=action)]


def live(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


@pytest.fixture
def other(app: FastAPI, registry: Registry) -> Iterator[Browser]:
    """A second browser on the same app."""
    with TestClient(app, base_url=BASE_URL) as client:
        yield Browser(client, registry)


# -- the sign-in flow ----------------------------------------------------------------------


def test_first_login_requires_enrolment(browser: Browser, registry: Registry, admin: User) -> None:
    page = browser.client.get("/", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login")
    form = browser.client.get("/login")
    assert form.status_code == 200 and 'name="password"' in form.text
    assert browser.login("ana") == "/enrol"
    assert not live(browser.client)  # the password alone reaches nothing
    assert browser.client.get("/verify", follow_redirects=False).headers["location"] == "/enrol"
    enrol = browser.client.get("/enrol")
    assert "<svg" in enrol.text and 'class="secret"' in enrol.text
    assert browser.client.get("/enrol").text == enrol.text.replace(
        csrf_of(enrol.text), csrf_of(enrol.text)
    )  # the same secret until confirmed
    browser.enrol()
    assert registry.accounts.get(admin.id).mfa_enrolled
    assert live(browser.client)
    assert browser.client.get("/login", follow_redirects=False).headers["location"] == "/"
    actions = [e.action for e in registry.audit.entries() if e.action.startswith("auth.")]
    assert actions == ["auth.enrol", "auth.login"]


def test_wrong_enrolment_code_shows_the_same_secret(browser: Browser, admin: User) -> None:
    browser.login("ana")
    page = browser.client.get("/enrol")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)
    assert secret
    wrong = browser.client.post("/enrol", data={"code": "000000", "csrf": csrf_of(page.text)})
    assert wrong.status_code == 400 and "does not match" in wrong.text
    assert secret.group(1) in wrong.text
    assert not live(browser.client)


def test_second_login_asks_for_the_code(signed_in: Browser, registry: Registry) -> None:
    signed_in.client.post("/logout", data={"csrf": signed_in.csrf})
    advance(registry, seconds=30)
    assert signed_in.login("ana") == "/verify"
    assert signed_in.client.get("/enrol", follow_redirects=False).headers["location"] == "/verify"
    signed_in.verify()
    assert live(signed_in.client)
    last = registry.audit.entries(action="auth.login")[-1]
    assert (last.actor, last.detail) == ("user:ana", "factor=totp")


def test_totp_replay_is_rejected(signed_in: Browser, registry: Registry) -> None:
    used = code_at(registry, signed_in.totp_secret)  # accepted at enrolment
    signed_in.client.post("/logout", data={"csrf": signed_in.csrf})
    signed_in.login("ana")
    page = signed_in.client.get("/verify")
    again = signed_in.client.post("/verify", data={"code": used, "csrf": csrf_of(page.text)})
    assert again.status_code == 400 and "invalid code" in again.text
    assert not live(signed_in.client)
    assert entries(registry, "auth.second_factor_failed")
    advance(registry, seconds=30)
    signed_in.verify()
    assert live(signed_in.client)


def test_recovery_code_works_once(signed_in: Browser, registry: Registry) -> None:
    code = signed_in.recovery_codes[0]
    signed_in.client.post("/logout", data={"csrf": signed_in.csrf})
    signed_in.login("ana")
    signed_in.verify(code)
    assert registry.audit.entries(action="auth.login")[-1].detail == "factor=recovery_code"
    signed_in.client.post("/logout", data={"csrf": signed_in.csrf})
    signed_in.login("ana")
    page = signed_in.client.get("/verify")
    reused = signed_in.client.post("/verify", data={"code": code, "csrf": csrf_of(page.text)})
    assert reused.status_code == 400


def test_login_throttling_engages_and_releases(
    browser: Browser, registry: Registry, admin: User
) -> None:
    def attempt(password: str) -> int:
        data = {"username": "ana", "password": password}
        return browser.client.post("/login", data=data, follow_redirects=False).status_code

    for _ in range(FREE_FAILURES + 1):
        assert attempt("not the password at all") == 400
    blocked = browser.client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert blocked.status_code == 429  # even the right password waits
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many attempts" in blocked.text
    advance(registry, seconds=31)
    assert attempt(PASSWORD) == 303
    failures = entries(registry, "auth.login_failed")
    assert len(failures) == FREE_FAILURES + 2
    assert failures[-1].endswith("reason=throttled")
    for line in failures:
        assert "ana" not in line.split(" ", 2)[2] and PASSWORD not in line
        assert re.search(r"attempt=[0-9a-f]{12} ", line)


def test_second_factor_throttling(signed_in: Browser, registry: Registry) -> None:
    signed_in.client.post("/logout", data={"csrf": signed_in.csrf})
    signed_in.login("ana")
    csrf = csrf_of(signed_in.client.get("/verify").text)
    statuses = [
        signed_in.client.post("/verify", data={"code": "000000", "csrf": csrf}).status_code
        for _ in range(FREE_FAILURES + 2)
    ]
    assert statuses == [400] * (FREE_FAILURES + 1) + [429]
    advance(registry, seconds=31)
    signed_in.verify()
    assert live(signed_in.client)


def test_no_user_enumeration(browser: Browser, registry: Registry) -> None:
    add_user(registry, "ana", "admin")
    gone = add_user(registry, "gone", "viewer")
    registry.accounts.disable(gone.id)
    answers = [
        browser.client.post("/login", data={"username": name, "password": password})
        for name, password in [
            ("ana", "wrong password for ana"),
            ("nobody-here", "wrong password for ana"),
            ("gone", PASSWORD),  # right password, disabled account
            ("", ""),
        ]
    ]
    assert {r.status_code for r in answers} == {400}
    assert len({r.content for r in answers}) == 1
    assert GENERIC_FAILURE in answers[0].text
    assert not any(r.cookies for r in answers)


# -- sessions ------------------------------------------------------------------------------


def test_session_rotates_at_each_privilege_change(
    browser: Browser, other: Browser, registry: Registry, admin: User
) -> None:
    browser.login("ana")
    browser.enrol()
    browser.client.post("/logout", data={"csrf": browser.csrf})
    advance(registry, seconds=30)
    browser.client.cookies.set("__Host-amparo", "planted-by-an-attacker", domain="testserver.local")
    browser.login("ana")
    partial = browser.cookie
    assert partial and partial != "planted-by-an-attacker"
    browser.verify()
    full = browser.cookie
    assert full and full != partial
    assert SessionStore(registry).load(partial) is None
    advance(registry, seconds=30)
    form = browser.client.get("/reauth?next=/api/v1/status")
    assert 'value="/api/v1/status"' in form.text
    done = browser.client.post(
        "/reauth",
        follow_redirects=False,
        data={
            "password": PASSWORD,
            "code": code_at(registry, browser.totp_secret),
            "csrf": csrf_of(form.text),
            "next": "/api/v1/status",
        },
    )
    assert (done.status_code, done.headers["location"]) == (303, "/api/v1/status")
    again = browser.cookie
    assert again and again not in (full, partial)
    info = SessionStore(registry).load(again)
    assert info is not None and info.reauthenticated_at == registry.clock.now()
    assert SessionStore(registry).load(full) is None
    other.client.cookies.set("__Host-amparo", full)
    assert not live(other.client)  # the old value is worthless
    assert entries(registry, "auth.reauth")


def test_reauth_refuses_wrong_factors(signed_in: Browser, registry: Registry) -> None:
    before = signed_in.cookie
    form = signed_in.client.get("/reauth?next=//evil.example/")
    assert 'value="/"' in form.text  # no open redirect
    advance(registry, seconds=30)
    for password, code in [
        ("wrong password here", code_at(registry, signed_in.totp_secret)),
        (PASSWORD, "000000"),
    ]:
        done = signed_in.client.post(
            "/reauth", data={"password": password, "code": code, "csrf": csrf_of(form.text)}
        )
        assert done.status_code == 400
    assert signed_in.cookie == before
    info = SessionStore(registry).load(before)
    assert info is not None and info.reauthenticated_at is None


def test_logout_kills_the_session(signed_in: Browser, other: Browser, registry: Registry) -> None:
    stolen = signed_in.cookie
    assert stolen
    done = signed_in.client.post("/logout", data={"csrf": signed_in.csrf}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    assert not live(signed_in.client)
    other.client.cookies.set("__Host-amparo", stolen)
    assert not live(other.client)
    assert entries(registry, "auth.logout") == ["auth.logout user:ana "]


def test_disable_kills_the_session(signed_in: Browser, registry: Registry, admin: User) -> None:
    assert live(signed_in.client)
    registry.accounts.disable(admin.id)
    assert not live(signed_in.client)
    registry.accounts.enable(admin.id)
    assert not live(signed_in.client)  # the session stays dead


def test_password_change_kills_the_session(
    signed_in: Browser, registry: Registry, admin: User
) -> None:
    assert live(signed_in.client)
    registry.accounts.change_password(admin.id, PASSWORD, "another good passphrase")
    assert not live(signed_in.client)


def test_idle_timeout(signed_in: Browser, registry: Registry) -> None:
    for _ in range(3):
        advance(registry, minutes=29)
        assert live(signed_in.client)  # activity keeps it alive
    advance(registry, minutes=31)
    assert not live(signed_in.client)


def test_absolute_timeout(signed_in: Browser, registry: Registry) -> None:
    for _ in range(12 * 60 // 25):
        advance(registry, minutes=25)
        assert live(signed_in.client)
    advance(registry, minutes=25)  # 12 h 25 min after sign-in, never idle for long
    assert not live(signed_in.client)


def test_timeouts_are_configurable(registry: Registry, admin: User) -> None:
    from datetime import timedelta

    app = create_app(
        registry, idle_timeout=timedelta(minutes=5), absolute_timeout=timedelta(minutes=20)
    )
    with TestClient(app, base_url=BASE_URL) as client:
        browser = Browser(client, registry)
        browser.sign_in("ana")
        advance(registry, minutes=6)
        assert not live(client)
        browser.client.cookies.clear()
        advance(registry, seconds=30)
        browser.login("ana")
        browser.verify()
        for _ in range(4):
            advance(registry, minutes=4)
            assert live(client)
        advance(registry, minutes=4, seconds=30)
        assert not live(client)


# -- every route, from the app's own list ---------------------------------------------------


def test_every_private_route_needs_a_full_sign_in(
    app: FastAPI, browser: Browser, admin: User
) -> None:
    routes = private(app)
    assert ("GET", "/api/v1/openapi.json") in routes and ("GET", "/") in routes

    def check(method: str, path: str, csrf: str = "") -> None:
        response = browser.client.request(method, path, data={"csrf": csrf}, follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json()["type"] == "urn:amparo:problem:unauthenticated"
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"] == "/login", (method, path)

    for method, path in routes:
        check(method, path)
    browser.login("ana")  # password only: a partial session
    csrf = csrf_of(browser.client.get("/enrol").text)
    for method, path in routes:
        if path not in PARTIAL_PATHS:
            check(method, path, csrf)
    for path in ("/api/v1/status", "/api/v1/openapi.json"):
        garbage = browser.client.get(path, headers={"Authorization": "Bearer amp_nothing"})
        assert garbage.status_code == 401


def test_every_state_changing_route_checks_csrf(
    app: FastAPI, signed_in: Browser, other: Browser, registry: Registry
) -> None:
    routes = unsafe(app)
    assert {p for _, p in routes} >= {"/login", "/logout", "/enrol", "/verify", "/reauth"}
    add_user(registry, "bea", "viewer")
    other.sign_in("bea")
    foreign = other.csrf  # a real token, of another session
    cookie = signed_in.cookie
    audit_before = len(registry.audit.entries())
    sessions = SessionStore(registry)
    count_before = sessions.count()
    for method, path in routes:
        for data in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": foreign}):
            response = signed_in.client.request(
                method,
                path,
                data={**data, "username": "ana", "password": PASSWORD, "code": "123456"},
                follow_redirects=False,
            )
            assert response.status_code == 403, (method, path, data)
        header = signed_in.client.request(
            method, path, headers={"X-CSRF-Token": foreign}, follow_redirects=False
        )
        assert header.status_code == 403, (method, path)
    assert len(registry.audit.entries()) == audit_before  # nothing happened...
    assert sessions.count() == count_before
    assert signed_in.cookie == cookie and live(signed_in.client)  # ...and the session lives
    by_header = signed_in.client.post(
        "/logout", headers={"X-CSRF-Token": signed_in.csrf}, follow_redirects=False
    )
    assert by_header.status_code == 303 and not live(signed_in.client)


def test_partial_sessions_check_csrf_too(browser: Browser, admin: User) -> None:
    browser.login("ana")
    for path in ("/enrol", "/logout", "/login"):
        assert browser.client.post(path, data={"code": "1"}).status_code == 403, path
    assert browser.client.get("/enrol").status_code == 200  # still alive


def test_cross_site_posts_are_refused(browser: Browser, admin: User) -> None:
    data = {"username": "ana", "password": PASSWORD}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": BASE_URL},  # a sibling subdomain
        {"Sec-Fetch-Site": "cross-site", "Origin": BASE_URL},
    ):
        response = browser.client.post("/login", data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403, headers
        assert response.headers["x-frame-options"] == "DENY"
    same = browser.client.post(
        "/login", data=data, headers={"Origin": BASE_URL}, follow_redirects=False
    )
    assert same.status_code == 303
    # Chromium's form posts under a no-referrer policy carry "Origin: null"; its fetch
    # metadata still says same-origin, and that decides.
    browser.client.cookies.clear()
    chromium = browser.client.post(
        "/login", data=data, follow_redirects=False,
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )  # fmt: skip
    assert chromium.status_code == 303


# -- cookies -------------------------------------------------------------------------------


def test_cookie_attributes_in_secure_mode(browser: Browser, admin: User) -> None:
    response = browser.client.post(
        "/login", data={"username": "ana", "password": PASSWORD}, follow_redirects=False
    )
    header = response.headers["set-cookie"]
    assert header.startswith("__Host-amparo=")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "domain" not in attributes and "max-age" not in attributes
    assert "samesite=strict" in header.lower() and "path=/" in header.lower()
    value = header.split(";")[0].split("=", 1)[1]
    assert len(value) >= 43  # 32 random bytes, base64url


def test_plain_http_loopback_cookie(registry: Registry, admin: User) -> None:
    app = create_app(registry, secure_cookies=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        browser = Browser(client, registry, cookie_name="amparo")
        response = client.post(
            "/login", data={"username": "ana", "password": PASSWORD}, follow_redirects=False
        )
        header = response.headers["set-cookie"]
        assert header.startswith("amparo=") and "secure" not in header.lower()
        assert "httponly" in header.lower() and "samesite=strict" in header.lower()
        browser.enrol()
        assert live(client)


# -- bearer tokens -------------------------------------------------------------------------


@pytest.fixture
def token_app(registry: Registry) -> FastAPI:
    """The real app plus one state-changing API route, as later issues will add."""
    app = create_app(registry)
    extra = APIRouter()

    @extra.post("/api/v1/echo")
    def echo(ctx: CurrentUser) -> dict[str, str]:
        return {"user": ctx.username, "via": "token" if ctx.token else "session"}

    app.include_router(extra)
    return app


def test_bearer_token_scopes(token_app: FastAPI, registry: Registry, admin: User) -> None:
    tokens = {
        scope: registry.accounts.create_token(admin.id, scope, scope, 30)[1]
        for scope in ("read", "write", "admin")
    }
    with TestClient(token_app, base_url=BASE_URL) as client:
        for scope, secret in tokens.items():
            auth = {"Authorization": f"Bearer {secret}"}
            assert client.get("/api/v1/stats", headers=auth).status_code == 200
            assert client.get("/api/v1/openapi.json", headers=auth).status_code == 200
            posted = client.post("/api/v1/echo", headers=auth)  # no CSRF: no cookie involved
            if scope == "read":
                assert posted.status_code == 403
            else:
                assert posted.json() == {"user": "ana", "via": "token"}
            page = client.get("/", headers=auth, follow_redirects=False)
            assert page.status_code == 303  # tokens are for the API only
        assert client.post("/api/v1/echo").status_code == 401
        wrong = {"Authorization": "Basic YW5hOnB3"}
        assert client.get("/api/v1/stats", headers=wrong).status_code == 401


def test_dead_tokens_are_refused(token_app: FastAPI, registry: Registry, admin: User) -> None:
    _, secret = registry.accounts.create_token(admin.id, "script", "read", 1)
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(token_app, base_url=BASE_URL) as client:
        assert client.get("/api/v1/status", headers=auth).status_code == 200
        advance(registry, days=1, seconds=1)
        assert client.get("/api/v1/status", headers=auth).status_code == 401
        _, fresh = registry.accounts.create_token(admin.id, "script", "read", 30)
        registry.accounts.revoke_token(registry.accounts.list_tokens()[-1].id)
        assert (
            client.get("/api/v1/status", headers={"Authorization": f"Bearer {fresh}"}).status_code
            == 401
        )


def test_cookie_sessions_still_need_csrf_on_the_api(
    token_app: FastAPI, registry: Registry, admin: User
) -> None:
    with TestClient(token_app, base_url=BASE_URL) as client:
        browser = Browser(client, registry)
        browser.sign_in("ana")
        assert client.post("/api/v1/echo").status_code == 403
        ok = client.post("/api/v1/echo", headers={"X-CSRF-Token": browser.csrf})
        assert ok.json() == {"user": "ana", "via": "session"}


# -- permissions ---------------------------------------------------------------------------


def test_aggregates_need_their_permission(browser: Browser, registry: Registry) -> None:
    add_user(registry, "vera", "viewer")
    browser.sign_in("vera")
    assert browser.client.get("/api/v1/stats").status_code == 403
    home = browser.client.get("/")
    assert home.status_code == 200 and "does not include" in home.text
    assert "Signed in as <strong>vera</strong>" in home.text
