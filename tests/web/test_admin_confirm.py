"""Issue #11 item 5: destructive admin actions ask first (a page, no JavaScript needed), every POST
redirects (303) to a GET, and a one-time secret is shown once after the redirect, never in the URL."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, TOWN_PC, ensure_account, login_form_token


def soup(r: Any) -> BeautifulSoup:
    return BeautifulSoup(r.text, "html.parser")


def can_log_in(app: Any, login: str, password: str) -> bool:
    person = TestClient(app, client=TOWN_PC)
    r = person.post("/login", data={"login": login, "password": password, "csrf_token": login_form_token(person)},
                    follow_redirects=False)
    return r.status_code == 303


def test_the_admin_page_links_to_a_confirmation_instead_of_posting(dx: TestClient) -> None:
    victim = ensure_account(dx.app, "zeimu", "staff", "税務係")
    page = soup(dx.get("/admin"))
    assert page.select(f"form[action='/admin/accounts/{victim.id}/password']") == []
    link = page.select_one(f"a[href='/admin/accounts/{victim.id}/password']")
    assert link is not None and "パスワードを再発行" in link.text
    stop = page.select_one(f"a[href='/admin/accounts/{victim.id}/deactivate']")
    assert stop is not None and "停止" in stop.text


def test_a_password_reset_asks_first_then_shows_the_new_password_once(dx: TestClient) -> None:
    victim = ensure_account(dx.app, "zeimu", "staff", "税務係")
    path = f"/admin/accounts/{victim.id}/password"
    confirm = dx.get(path)
    assert confirm.status_code == 200 and "再発行しますか" in confirm.text and "zeimuさん" in confirm.text
    form = soup(confirm).select_one(f"form[action='{path}'][method='post']")
    assert form is not None and form.select_one("input[name=confirmed]")["value"] == "1"
    assert soup(confirm).select_one("main a[href='/admin']").text.strip() == "やめる"
    assert can_log_in(dx.app, "zeimu", PASSWORD)  # asking changed nothing

    unconfirmed = dx.post(path, follow_redirects=False)  # an old page's one-click form, or a forged one
    assert unconfirmed.status_code == 303 and unconfirmed.headers["location"] == path
    assert can_log_in(dx.app, "zeimu", PASSWORD)

    r = dx.post(path, data={"confirmed": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    shown = soup(dx.get("/admin"))
    password = shown.select_one(".issued .password").text
    assert password and password not in r.headers["location"]
    assert "パスワードを新しくしました" in shown.text
    assert can_log_in(dx.app, "zeimu", password) and not can_log_in(dx.app, "zeimu", PASSWORD)
    again = dx.get("/admin")  # reloading the page: the secret is gone, nothing is posted again
    assert password not in again.text and again.status_code == 200
    assert can_log_in(dx.app, "zeimu", password)


def test_stopping_an_account_asks_first_restarting_does_not(dx: TestClient) -> None:
    victim = ensure_account(dx.app, "zeimu", "staff", "税務係")
    accounts = dx.app.state.services.accounts  # type: ignore[attr-defined]
    confirm = dx.get(f"/admin/accounts/{victim.id}/deactivate")
    assert confirm.status_code == 200 and "停止しますか" in confirm.text
    r = dx.post(f"/admin/accounts/{victim.id}/active", data={"active": "0"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/accounts/{victim.id}/deactivate"
    assert accounts.by_login("zeimu").active
    r = dx.post(f"/admin/accounts/{victim.id}/active", data={"active": "0", "confirmed": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    assert not accounts.by_login("zeimu").active and "停止しました" in dx.get("/admin").text
    r = dx.post(f"/admin/accounts/{victim.id}/active", data={"active": "1"}, follow_redirects=False)
    assert r.status_code == 303 and accounts.by_login("zeimu").active


def test_every_admin_post_redirects_to_a_get(dx: TestClient) -> None:
    services = dx.app.state.services  # type: ignore[attr-defined]
    posts = [
        ("/admin/accounts", {"login": "zeimu", "name": "山本 健", "role": "staff", "section": "税務係"}),
        ("/admin/sections", {"names": "税務係\n土木係"}),
        ("/admin/themes", {"name": "キャッシュレス"}),
        ("/admin/tokens", {"token_name": "基幹連携", "scope": "read", "reach": "town"}),
    ]
    for path, data in posts:
        r = dx.post(path, data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin"), path
    token = services.tokens.list(1)[0]
    r = dx.post(f"/admin/tokens/{token.id}/revoke", data={"confirmed": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin")
    assert services.tokens.list(1)[0].revoked_at is not None


def test_a_new_accounts_password_and_a_new_token_are_shown_once(dx: TestClient) -> None:
    dx.post("/admin/accounts", data={"login": "zeimu", "name": "山本 健", "role": "staff", "section": "税務係"})
    r = dx.post("/admin/tokens", data={"token_name": "基幹連携", "scope": "read", "reach": "town"},
                follow_redirects=False)
    assert r.status_code == 303
    page = soup(dx.get("/admin"))
    secret = page.select_one(".token-secret").text
    assert secret and "基幹連携" in page.select_one("#token-issued").text
    assert secret not in dx.get("/admin").text
    # the account's password was shown on the GET after its own POST, and is gone too
    assert soup(dx.get("/admin")).select_one(".issued .password") is None


def test_deleting_a_theme_asks_first_and_says_how_many_sheets_lose_it(dx: TestClient) -> None:
    services = dx.app.state.services  # type: ignore[attr-defined]
    dx_account = services.accounts.by_login("dx-team") or ensure_account(dx.app, "dx-team", "dx", None)
    theme = services.cycle.themes(dx_account.organisation_id)[0]
    page = soup(dx.get("/admin"))
    assert page.select(f"form[action='/admin/themes/{theme.id}/delete']") == []  # no one-click delete
    link = page.select_one(f"a[href='/admin/themes/{theme.id}/delete']")
    assert link is not None and "削除" in link.text
    confirm = dx.get(f"/admin/themes/{theme.id}/delete")
    assert confirm.status_code == 200 and "削除しますか" in confirm.text and theme.name in confirm.text
    unconfirmed = dx.post(f"/admin/themes/{theme.id}/delete", follow_redirects=False)
    assert unconfirmed.status_code == 303 and unconfirmed.headers["location"] == f"/admin/themes/{theme.id}/delete"
    assert theme.id in {t.id for t in services.cycle.themes(dx_account.organisation_id)}  # asking changed nothing
    r = dx.post(f"/admin/themes/{theme.id}/delete", data={"confirmed": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin")
    assert theme.id not in {t.id for t in services.cycle.themes(dx_account.organisation_id)}
