"""Logging in and out, the session cookie, CSRF on every form, and the API's door for local programs."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from coach.settings import Settings
from tests.conftest import (
    LOOPBACK,
    PASSWORD,
    TOWN_PC,
    ensure_account,
    logged_in,
    login_form_token,
    sheet_data,
)


def test_pages_send_people_to_the_login_page_and_back(client: TestClient) -> None:
    person = TestClient(client.app, client=TOWN_PC)
    r = person.get("/sheets/1?x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/sheets/1%3Fx%3D1"
    ensure_account(client.app, "madoguchi")
    sid = client.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    token = login_form_token(person)
    r = person.post("/login", data={"login": "madoguchi", "password": PASSWORD, "csrf_token": token,
                                    "next": f"/sheets/{sid}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/sheets/{sid}"


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    ensure_account(client.app, "madoguchi")
    person = TestClient(client.app, client=TOWN_PC)
    r = person.post("/login", data={"login": "madoguchi", "password": PASSWORD,
                                    "csrf_token": login_form_token(person)}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("coach_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on a trusted network by default; COACH_SECURE_COOKIES=true adds it


def test_secure_cookies_when_served_over_https(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from web.app import create_app

    app = create_app(Settings(data_dir=tmp_path, load_samples=False, secure_cookies=True))
    ensure_account(app, "madoguchi")
    person = TestClient(app, client=TOWN_PC, base_url="https://testserver")
    r = person.post("/login", data={"login": "madoguchi", "password": PASSWORD,
                                    "csrf_token": login_form_token(person)}, follow_redirects=False)
    assert "Secure" in r.headers["set-cookie"]


def test_wrong_password_says_so_in_japanese_and_keeps_the_login_id(client: TestClient) -> None:
    ensure_account(client.app, "madoguchi")
    person = TestClient(client.app, client=TOWN_PC)
    r = person.post("/login", data={"login": "madoguchi", "password": "wrong-password",
                                    "csrf_token": login_form_token(person)})
    assert r.status_code == 401 and "ログインIDかパスワードが違います" in r.text
    assert 'value="madoguchi"' in r.text and "coach_session" not in person.cookies


def test_repeated_failures_are_throttled(client: TestClient) -> None:
    ensure_account(client.app, "madoguchi")
    person = TestClient(client.app, client=TOWN_PC)
    for _ in range(5):
        person.post("/login", data={"login": "madoguchi", "password": "guess", "csrf_token": login_form_token(person)})
    r = person.post("/login", data={"login": "madoguchi", "password": PASSWORD, "csrf_token": login_form_token(person)})
    assert r.status_code == 429 and "15分" in r.text  # even the right password waits


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(client: TestClient, target: str) -> None:
    ensure_account(client.app, "madoguchi")
    person = TestClient(client.app, client=TOWN_PC)
    r = person.post("/login", data={"login": "madoguchi", "password": PASSWORD, "next": target,
                                    "csrf_token": login_form_token(person)}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    ensure_account(client.app, "madoguchi")
    person = TestClient(client.app, client=TOWN_PC)
    login_form_token(person)  # the cookie is set, but the field is forged
    r = person.post("/login", data={"login": "madoguchi", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403 and "読み込み直して" in r.text


def test_logout_ends_the_session(client: TestClient) -> None:
    staff = logged_in(client.app, "madoguchi")
    cookie = staff.cookies["coach_session"]
    assert staff.post("/logout", follow_redirects=False).headers["location"] == "/login"
    assert client.app.state.services.accounts.session(cookie) is None
    assert staff.get("/", follow_redirects=False).status_code == 303


def test_dx_lands_on_the_review_queue(client: TestClient) -> None:
    ensure_account(client.app, "dxteam", "dx", None)
    person = TestClient(client.app, client=TOWN_PC)
    r = person.post("/login", data={"login": "dxteam", "password": PASSWORD, "csrf_token": login_form_token(person)},
                    follow_redirects=False)
    assert r.headers["location"] == "/review"


def _routes(routes: list) -> list[APIRoute]:  # type: ignore[type-arg]
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):  # FastAPI wraps included routers
            out += _routes(route.original_router.routes)
    return out


def _unsafe_page_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [re.sub(r"\{[^}]+\}", "1", r.path) for r in _routes(app.routes)
            if "POST" in r.methods and not r.path.startswith(("/api/", "/login"))]


def test_every_form_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.post("/api/v1/sheets", json=sheet_data())
    paths = _unsafe_page_routes(client.app)
    assert len(paths) >= 20 and "/sheets/1/check" in paths and "/review/1/decision" in paths
    for login, role, section in (("madoguchi", "staff", "住民窓口係"), ("dxteam", "dx", None)):
        person = logged_in(client.app, login, role, section, csrf_header=False)
        for path in paths:
            r = person.post(path, data={"csrf_token": "forged"})
            assert r.status_code == 403, (login, path, r.status_code)
            assert "送信の確認ができませんでした" in r.text
            assert person.post(path, headers={"X-CSRF-Token": "forged"}).status_code == 403


def test_htmx_requests_after_the_session_ended_keep_the_page(client: TestClient) -> None:
    staff = logged_in(client.app, "madoguchi")
    sid = staff.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    client.app.state.services.accounts.close_session(staff.cookies["coach_session"])
    r = staff.post(f"/sheets/{sid}/check", data=sheet_data(), headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Trigger"] == "coach-login-expired"


def test_the_api_answers_local_programs_and_logged_in_people_only(client: TestClient) -> None:
    stranger = TestClient(client.app, client=TOWN_PC)
    r = stranger.post("/api/v1/sheets", json=sheet_data())
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "login"
    assert "ログインが必要です" in r.json()["detail"]
    assert stranger.post("/api/v1/critique", json=sheet_data()).status_code == 200  # stores nothing
    assert client.post("/api/v1/sheets", json=sheet_data()).status_code == 201  # 127.0.0.1, contract §6
    staff = logged_in(client.app, "madoguchi", csrf_header=False)
    assert staff.post("/api/v1/sheets", json=sheet_data()).status_code == 403  # a browser write needs the token
    staff.headers["X-CSRF-Token"] = client.app.state.services.accounts.session(staff.cookies["coach_session"]).csrf
    assert staff.post("/api/v1/sheets", json=sheet_data()).status_code == 201


def test_the_local_api_can_be_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from web.app import create_app

    with TestClient(create_app(Settings(data_dir=tmp_path, load_samples=False, api_open=False)),
                    client=LOOPBACK) as local:
        assert local.post("/api/v1/sheets", json=sheet_data()).status_code == 401


def test_people_change_their_own_password(client: TestClient) -> None:
    staff = logged_in(client.app, "madoguchi")
    other_device = logged_in(client.app, "madoguchi")
    bad = [({"current": "wrong", "new": "new-password-1", "again": "new-password-1"}, "今のパスワードが違います"),
           ({"current": PASSWORD, "new": "new-password-1", "again": "new-password-2"}, "2回とも同じ"),
           ({"current": PASSWORD, "new": "short", "again": "short"}, "10文字以上")]
    for data, reason in bad:
        r = staff.post("/account/password", data=data)
        assert r.status_code == 422 and reason in r.text
    r = staff.post("/account/password", data={"current": PASSWORD, "new": "new-password-1", "again": "new-password-1"})
    assert r.status_code == 200 and "パスワードを変更しました" in r.text  # this browser stays logged in
    assert other_device.get("/", follow_redirects=False).status_code == 303  # the other one is logged out
    accounts = client.app.state.services.accounts
    assert accounts.authenticate("madoguchi", "new-password-1") is not None
    assert accounts.authenticate("madoguchi", PASSWORD) is None


def test_pages_cannot_be_framed_or_sniffed(client: TestClient) -> None:
    for r in (client.get("/login"), TestClient(client.app, client=TOWN_PC).get("/", follow_redirects=False)):
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
