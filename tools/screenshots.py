"""Refresh docs/screenshots/: ``python tools/screenshots.py [--out docs/screenshots]``.

Builds a throwaway DEMO vault (synthetic people only), serves it on a loopback port, signs
in with Debian's Chromium through Playwright (enrolling the authenticator as a person would)
and photographs the main pages, one of them in Arabic. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyotp
import uvicorn
from playwright.sync_api import Page, sync_playwright

from amparo.cli.vault import DEMO_PASSWORD, DEMO_USER, _add_demo_user
from amparo.demo import DEMO_SEED, DemoSize, populate
from amparo.registry import Registry
from amparo.vault import init_vault
from amparo.web.app import create_app

PASSPHRASE = "screenshots-only-passphrase"  # noqa: S105 (a throwaway vault of synthetic data)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Username").fill(DEMO_USER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code shown by the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("link", name="I have written them down — continue").click()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--incidents", type=int, default=800, help="demo incidents to build")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="amparo-shots-") as tmp:
        vault = Path(tmp) / "vault"
        print("building a DEMO vault...", file=sys.stderr)
        init_vault(vault, PASSPHRASE)
        registry = Registry.open(vault, PASSPHRASE, actor="screenshots")
        populate(
            registry,
            seed=DEMO_SEED,
            size=DemoSize(defenders=max(args.incidents // 5, 20), incidents=args.incidents),
        )
        _add_demo_user(registry, DEMO_PASSWORD)
        port = _port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(registry, secure_cookies=False),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=["--no-sandbox", "--headless"]
                )
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                _sign_in(page, url)
                shots = [
                    ("dashboard", "/"),
                    ("incident-list", "/incidents"),
                    ("incident-form", "/incidents/new"),
                ]
                for name, path in shots:
                    page.goto(url + path)
                    page.screenshot(path=str(args.out / f"{name}.png"), full_page=False)
                page.goto(f"{url}/incidents")
                page.locator("table a").first.click()
                page.screenshot(path=str(args.out / "incident-detail.png"), full_page=False)
                page.goto(f"{url}/defenders")
                page.locator("table a").first.click()
                page.screenshot(path=str(args.out / "defender-profile.png"), full_page=False)
                page.locator("#language-menu").select_option("ar")
                page.locator("#language-menu").locator("xpath=..").locator("button").click()
                page.goto(f"{url}/incidents")
                page.screenshot(path=str(args.out / "arabic-incident-list.png"), full_page=False)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            registry.close()
    print(f"screenshots written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
