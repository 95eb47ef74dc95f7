"""Login throttle (issue #9 item 1): one normalised login ID, counted in the database per ID and
per client address, shared by every app instance on the database; and dead sessions on the API."""

from __future__ import annotations

import random
from typing import Any

from fastapi.testclient import TestClient

from coach.cleaning import normalise_login
from coach.settings import Settings
from tests.conftest import LOOPBACK, PASSWORD, TOWN_PC, ensure_account, login_form_token, sheet_data

BLOCKED = "15分"


def _login(c: TestClient, login: str, password: str) -> Any:
    return c.post("/login", data={"login": login, "password": password, "csrf_token": login_form_token(c)},
                  follow_redirects=False)


def test_one_form_of_a_login_id() -> None:
    for typed in ("madoguchi", " madoguchi\t", "MADOGUCHI", "ｍａｄｏｇｕｃｈｉ", "mado\x00guchi"):
        assert normalise_login(typed) == "madoguchi"
    assert normalise_login("x" + " " * 43 + "X") == "x x"  # inner padding collapses; it is never another "x"


def test_padding_after_five_failures_is_still_blocked(db_app: Any) -> None:
    """The reproduction: 5 failures for ID x, then x + 43 spaces + X with the right password."""
    ensure_account(db_app, "madoguchi")
    person = TestClient(db_app, client=TOWN_PC)
    for _ in range(5):
        assert _login(person, "madoguchi", "wrong-guess").status_code == 401
    for typed in ("madoguchi" + " " * 43 + "X", " madoguchi ", "MADOGUCHI", "ｍａｄｏｇｕｃｈｉ", "madoguchi"):
        r = _login(person, typed, PASSWORD)
        assert r.status_code in (401, 429), typed
        assert "coach_session" not in person.cookies
    r = _login(person, "madoguchi" + " " * 40, PASSWORD)
    assert r.status_code == 429 and BLOCKED in r.text


def test_random_padding_never_buys_more_guesses(db_app: Any) -> None:
    ensure_account(db_app, "madoguchi")
    person = TestClient(db_app, client=TOWN_PC)
    rng = random.Random(9)
    statuses = []
    for _ in range(8):
        pad = lambda: "".join(rng.choice(" \t\u3000") for _ in range(rng.randint(0, 30)))  # noqa: E731
        login = pad() + "".join(rng.choice([c, c.upper()]) for c in "madoguchi") + pad()
        statuses.append(_login(person, login, "wrong-guess").status_code)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3


def test_one_address_trying_many_ids_is_blocked(db_app: Any) -> None:
    from coach.workspace.throttle import MAX_PER_ADDRESS

    ensure_account(db_app, "madoguchi")
    sprayer = TestClient(db_app, client=("10.0.0.66", 1))
    for i in range(MAX_PER_ADDRESS):
        assert _login(sprayer, f"someone{i}", "wrong-guess").status_code == 401
    r = _login(sprayer, "madoguchi", PASSWORD)
    assert r.status_code == 429 and BLOCKED in r.text
    colleague = TestClient(db_app, client=TOWN_PC)  # another desk is not affected
    assert _login(colleague, "madoguchi", PASSWORD).status_code == 303


def test_two_app_instances_on_one_database_share_the_throttle(database_url: str, data_dir: Any) -> None:
    from web.app import create_app

    settings = Settings(data_dir=data_dir, database_url=database_url, load_samples=False)
    first, second = create_app(settings), create_app(settings)
    ensure_account(first, "madoguchi")
    a, b = TestClient(first, client=TOWN_PC), TestClient(second, client=TOWN_PC)
    for c in (a, b, a, b, a):
        assert _login(c, "madoguchi", "wrong-guess").status_code == 401
    assert _login(b, "madoguchi", PASSWORD).status_code == 429
    for app in (first, second):
        app.state.services.repo._sessions.kw["bind"].dispose()


def test_a_success_clears_the_count_for_that_id(db_app: Any) -> None:
    ensure_account(db_app, "madoguchi")
    person = TestClient(db_app, client=TOWN_PC)
    for _ in range(4):
        _login(person, "madoguchi", "wrong-guess")
    assert _login(person, "madoguchi", PASSWORD).status_code == 303
    other = TestClient(db_app, client=TOWN_PC)
    for _ in range(4):
        assert _login(other, "madoguchi", "wrong-guess").status_code == 401


def test_a_dead_session_cookie_on_the_loopback_api_answers_401(db_app: Any) -> None:
    ensure_account(db_app, "madoguchi")
    local = TestClient(db_app, client=LOOPBACK)
    sid = local.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    assert local.get(f"/api/v1/sheets/{sid}").status_code == 200  # no cookie: a program on this machine
    person = TestClient(db_app, client=LOOPBACK)
    assert _login(person, "madoguchi", PASSWORD).status_code == 303
    token = person.cookies["coach_session"]
    db_app.state.services.accounts.close_session(token)  # logged out elsewhere: the token is revoked
    for cookie in (token, "not-a-session"):
        caller = TestClient(db_app, client=LOOPBACK, cookies={"coach_session": cookie})
        for r in (caller.get(f"/api/v1/sheets/{sid}"), caller.get(f"/api/v1/sheets/{sid}/versions"),
                  caller.post("/api/v1/sheets", json=sheet_data())):
            assert r.status_code == 401 and "ログイン" in r.json()["detail"]
