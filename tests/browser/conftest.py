"""A real uvicorn server with its own data directory and accounts, and Debian's headless chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.servers import free_port, wait_until_up

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("COACH_SCREENSHOTS", "screenshots"))
# login → (role, section, name): the people the browser tests play
PEOPLE = {
    "dxteam": ("dx", None, "佐藤 美咲"),
    "madoguchi": ("staff", "住民窓口係", "田中 花子"),
    "madoguchi2": ("staff", "住民窓口係", "鈴木 一郎"),  # a colleague on the same PC (tests/browser/test_editor_keeps_typing.py)
    "zeimu": ("staff", "税務係", "山本 健"),
    "kankyo": ("staff", "環境衛生係", "小林 優"),
}


def _make_accounts(data_dir: Path) -> None:
    """Accounts go straight into the server's database before it starts, as `coach create-admin` would."""
    from coach.app import build_repository, build_sessions
    from coach.settings import Settings
    from coach.workspace.accounts import Accounts

    settings = Settings(data_dir=data_dir, load_samples=False)
    sessions = build_sessions(settings)
    org = build_repository(settings, sessions).ensure_organisation(settings.org_name)
    accounts = Accounts(sessions)
    for login, (role, section, name) in PEOPLE.items():
        accounts.create(org, login, name, role, PASSWORD, section)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("browser-data")
    _make_accounts(data_dir)
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_LOAD_SAMPLES": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "coach", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/login")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


def open_as(browser: Any, server: str, login: str, path: str = "/") -> Any:
    """A fresh browser context (its own cookies), logged in through the login form, then at `path`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{server}/login?next={path}")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server}{path.split('#')[0]}*")
    return page


def http_login(server: str, login: str) -> httpx.Client:
    """An HTTP client logged in like a browser, sending the CSRF token as htmx does."""
    c = httpx.Client(base_url=server, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    r = c.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 303, r.text
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/").text)
    assert csrf is not None
    c.headers["X-CSRF-Token"] = csrf.group(1)
    return c
