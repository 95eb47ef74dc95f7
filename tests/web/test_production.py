"""Production mode: each unsafe setting is refused with its own line; a safe configuration starts;
the OpenAPI docs need a login or a token in production and stay open in development."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from coach.cli import main
from coach.production import UnsafeSettings, problems
from coach.settings import Settings
from tests.conftest import PASSWORD, TOWN_PC, ensure_account, login_form_token
from tests.servers import free_port, wait_until_up

SAFE_ENV = {
    "COACH_ENV": "production",
    "COACH_API_OPEN": "false",
    "COACH_SECURE_COOKIES": "true",
    "COACH_ALLOWED_HOSTS": "coach.town.example, 127.0.0.1",
    "COACH_LOAD_SAMPLES": "false",
}


def safe(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir, "load_samples": False, "env": "production", "api_open": False,
        "secure_cookies": True, "allowed_hosts": ["coach.town.example", "127.0.0.1"],
        "database_url": f"sqlite:///{data_dir / 'town.db'}",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.mark.parametrize(("override", "named"), [
    ({"api_open": True}, "COACH_API_OPEN"),
    ({"secure_cookies": False}, "COACH_SECURE_COOKIES"),
    ({"allowed_hosts": ["localhost", "127.0.0.1", "::1"]}, "COACH_ALLOWED_HOSTS"),
    ({"allowed_hosts": ["*"]}, "COACH_ALLOWED_HOSTS"),
    ({"database_url": ""}, "COACH_DATABASE_URL"),
])
def test_each_unsafe_setting_is_refused_with_its_own_line(data_dir: Path, override: dict[str, Any],
                                                          named: str) -> None:
    from web.app import create_app

    found = problems(safe(data_dir, **override))
    assert len(found) == 1 and named in found[0]
    assert any("\u3040" <= ch <= "\u30ff" for ch in found[0]) and "must" in found[0]  # Japanese + English
    with pytest.raises(UnsafeSettings) as caught:  # other launchers cannot start around it
        create_app(safe(data_dir, **override))
    assert caught.value.problems == found


def test_development_allows_the_embedded_defaults(data_dir: Path) -> None:
    assert problems(Settings(data_dir=data_dir)) == []


def test_the_hosts_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_ALLOWED_HOSTS", "Coach.Town.example, 10.0.0.8 ,")
    assert Settings().allowed_hosts == ["coach.town.example", "10.0.0.8"]
    monkeypatch.delenv("COACH_ALLOWED_HOSTS")
    assert Settings().allowed_hosts == ["localhost", "127.0.0.1", "::1"]


def test_coach_serve_prints_every_problem_and_exits_2(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from coach.settings import get_settings

    monkeypatch.setenv("COACH_ENV", "production")
    monkeypatch.delenv("COACH_ALLOWED_HOSTS")  # the tests' own list names testserver
    get_settings.cache_clear()
    assert main(["serve", "--port", str(free_port())]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 4
    for name in ("COACH_API_OPEN", "COACH_SECURE_COOKIES", "COACH_ALLOWED_HOSTS", "COACH_DATABASE_URL"):
        assert sum(name in line for line in lines) == 1
    assert all(line.startswith("起動できません (refusing to start): ") for line in lines)


def test_a_safe_production_configuration_starts_and_serves(data_dir: Path) -> None:
    """A real `coach serve` process on 127.0.0.1: it starts, pages answer, the docs need a login."""
    port = free_port()
    env = {**os.environ, **SAFE_ENV, "COACH_DATA_DIR": str(data_dir),
           "COACH_DATABASE_URL": f"sqlite:///{data_dir / 'town.db'}"}
    coach = Path(sys.executable).with_name("coach")
    proc = subprocess.Popen([str(coach), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/login", tries=600)
        assert httpx.get(f"{base}/login").status_code == 200
        assert httpx.get(f"{base}/openapi.json").status_code == 401
        assert httpx.get(f"{base}/docs").status_code == 303
        assert httpx.post(f"{base}/api/v1/sheets", json={}).status_code == 401  # no loopback door
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def production(data_dir: Path) -> Any:
    from web.app import create_app

    return create_app(safe(data_dir))


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_need_a_login_in_production(production: Any, path: str) -> None:
    stranger = TestClient(production, client=TOWN_PC, base_url="https://coach.town.example")
    r = stranger.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    ensure_account(production, "madoguchi")
    person = TestClient(production, client=TOWN_PC, base_url="https://coach.town.example")  # Secure cookies: HTTPS
    r = person.post("/login", data={"login": "madoguchi", "password": PASSWORD,
                                    "csrf_token": login_form_token(person)}, follow_redirects=False)
    assert r.status_code == 303
    r = person.get(path)
    assert r.status_code == 200 and "/openapi.json" in r.text


def test_openapi_needs_a_login_or_a_token_in_production(production: Any) -> None:
    stranger = TestClient(production, client=TOWN_PC, base_url="http://coach.town.example")
    r = stranger.get("/openapi.json")
    assert r.status_code == 401 and "ログインが必要です" in r.json()["detail"]
    services = production.state.services
    dx = services.accounts.create(services.organisation_id, "dxteam", "佐藤", "dx", "correct-horse-9")
    secret, _ = services.tokens.create(dx, "連携", "read", None, None)
    r = stranger.get("/openapi.json", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and "/api/v1/sheets" in r.json()["paths"]
    assert stranger.get("/openapi.json", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_docs_stay_open_in_development(client: TestClient) -> None:
    stranger = TestClient(client.app, client=TOWN_PC)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert stranger.get(path).status_code == 200, path
