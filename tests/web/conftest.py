"""Shared fixtures for the web tests: cheap password hashing, users, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher, Type
from fastapi import FastAPI
from fastapi.testclient import TestClient

from amparo.clock import Clock
from amparo.registry import Registry
from amparo.security import passwords, totp
from amparo.services.accounts import User
from amparo.web.app import create_app

PASSWORD = "a perfectly good passphrase"
BASE_URL = "https://testserver"  # Secure cookies travel over https only
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')
CODES = re.compile(r"<li>([a-z2-9]{10})</li>")


@pytest.fixture(autouse=True)
def cheap_hashers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its minimum cost: the production parameters are tested elsewhere."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "HASHER", cheap)
    monkeypatch.setattr(totp, "RECOVERY_HASHER", cheap)


def advance(registry: Registry, **delta: float) -> None:
    """Move the registry's clock forward (the tests' only way to pass time)."""
    registry.clock = Clock(registry.clock.now() + timedelta(**delta))


def code_at(registry: Registry, secret: str) -> str:
    return pyotp.TOTP(secret).at(registry.clock.now())


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@dataclass
class Browser:
    """A TestClient plus what a person would have noted down while signing in."""

    client: TestClient
    registry: Registry
    cookie_name: str = "__Host-amparo"
    totp_secret: str = ""
    recovery_codes: list[str] = field(default_factory=list)
    csrf: str = ""

    @property
    def cookie(self) -> str | None:
        return self.client.cookies.get(self.cookie_name)

    def login(self, username: str, password: str = PASSWORD) -> str:
        """The password step; returns where it leads (/enrol, /verify) or fails the test."""
        response = self.client.post(
            "/login", data={"username": username, "password": password}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        return str(response.headers["location"])

    def enrol(self) -> None:
        page = self.client.get("/enrol")
        assert page.status_code == 200, page.text
        found = SECRET.search(page.text)
        assert found
        self.totp_secret = found.group(1)
        done = self.client.post(
            "/enrol",
            data={"code": code_at(self.registry, self.totp_secret), "csrf": csrf_of(page.text)},
        )
        assert done.status_code == 200, done.text
        self.recovery_codes = CODES.findall(done.text)
        assert len(self.recovery_codes) == 10
        self.csrf = csrf_of(done.text)

    def verify(self, code: str | None = None) -> None:
        page = self.client.get("/verify")
        assert page.status_code == 200, page.text
        if code is None:
            code = code_at(self.registry, self.totp_secret)
        done = self.client.post(
            "/verify", data={"code": code, "csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert done.status_code == 303, done.text
        self.refresh_csrf()

    def refresh_csrf(self) -> None:
        home = self.client.get("/")
        assert home.status_code == 200, home.text
        self.csrf = csrf_of(home.text)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        """Password, then enrolment at first login or the second factor afterwards."""
        if self.login(username, password) == "/enrol":
            self.enrol()
            self.refresh_csrf()
        else:
            self.verify()


def add_user(registry: Registry, name: str = "ana", role: str = "admin") -> User:
    return registry.accounts.add_user(name, PASSWORD, role)


@pytest.fixture
def app(registry: Registry) -> FastAPI:
    return create_app(registry)


@pytest.fixture
def browser(app: FastAPI, registry: Registry) -> Iterator[Browser]:
    """A client that has not signed in yet."""
    with TestClient(app, base_url=BASE_URL) as client:
        yield Browser(client, registry)


@pytest.fixture
def admin(registry: Registry) -> User:
    return add_user(registry, "ana", "admin")


@pytest.fixture
def signed_in(browser: Browser, admin: User) -> Browser:
    """An admin who has enrolled an authenticator and completed sign-in."""
    browser.sign_in(admin.username)
    return browser


@pytest.fixture
def client(signed_in: Browser) -> TestClient:
    return signed_in.client


@pytest.fixture
def browser_factory(app: FastAPI, registry: Registry) -> Iterator[Callable[[], Browser]]:
    """More people at their own browsers, on the same app (closed at the end)."""
    clients: list[TestClient] = []

    def make() -> Browser:
        client = TestClient(app, base_url=BASE_URL)
        client.__enter__()
        clients.append(client)
        return Browser(client, registry)

    yield make
    for client in clients:
        client.__exit__(None, None, None)
