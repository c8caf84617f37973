"""A real Chromium (Debian's, driven by Playwright) against Amparo served by uvicorn.

Chromium and axe-core are installed by .ci/run (apt-get, npm ci); on a developer machine
without them these tests are skipped, in CI they must run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
import uvicorn

from amparo.registry import Registry
from amparo.web.app import create_app
from tests.web.conftest import PASSWORD, add_user

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    registry: Registry


@pytest.fixture
def live(registry: Registry) -> Iterator[LiveServer]:
    port = _free_port()
    app = create_app(registry, secure_cookies=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", registry)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in(page: Page, live: LiveServer, username: str, role: str = "admin") -> str:
    """Create the user, then sign in as a person would: password, QR enrolment, TOTP."""
    add_user(live.registry, username, role)
    page.goto(f"{live.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code shown by the app").fill(
        pyotp.TOTP(secret).at(live.registry.clock.now())
    )
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("link", name="I have written them down — continue").click()
    return secret


def axe_violations(page: Page) -> list[dict[str, object]]:
    """Serious and critical WCAG 2.1 A/AA violations reported by axe-core on this page."""
    # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') rightly
    # refuses an injected <script>, and must not be weakened for a test.
    page.evaluate(AXE.read_text("utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: 'tag',
               values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"""
    )
    return [v for v in result if v.get("impact") in ("serious", "critical")]
