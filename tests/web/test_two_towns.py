"""Issue #13 item 6: two towns on one deployment never see each other.

One database and one vector store hold two organisations (towns). Each town has a section with a
submitted, reviewed sheet whose title, section name and a rare word are its own. Every page, export,
API answer and audit entry a town's staff, DX team or program (API token) can reach is fetched, and
none may show the other town's title, section, word or sheet id. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coach.settings import Settings
from tests.conftest import PASSWORD, TOWN_PC, login_form_token, make_sheet
from tests.web.test_visibility import fetch


@dataclass(frozen=True)
class Town:
    name: str
    section: str
    title: str
    word: str  # a rare word only this town's sheet uses


EAST = Town("東町", "東町つばめ係", "東町つばめ台帳の電話対応", "つばめ台帳")
WEST = Town("西町", "西町かもめ係", "西町かもめ台帳の電話対応", "かもめ台帳")
PHONE = "問い合わせの電話が1日40件あり、電話対応で窓口の受付が止まる。{word}を毎回手書きで確認している。"


@dataclass
class Side:
    town: Town
    staff: TestClient
    dx: TestClient
    api: TestClient  # a program holding this town's read token
    sheet_id: int


def _login(app: object, login: str) -> TestClient:
    c = TestClient(app, client=TOWN_PC)  # type: ignore[arg-type]
    r = c.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": login_form_token(c)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    services = c.app.state.services  # type: ignore[attr-defined]
    c.headers["X-CSRF-Token"] = str(services.accounts.session(c.cookies.get("coach_session")).csrf)
    return c


def _side(app: object, town: Town, key: str) -> Side:
    services = app.state.services  # type: ignore[attr-defined]
    org = services.repo.ensure_organisation(town.name)
    services.accounts.create(org, f"staff-{key}", f"{town.name}の職員", "staff", PASSWORD, town.section)
    dx_account = services.accounts.create(org, f"dx-{key}", f"{town.name}のDX担当", "dx", PASSWORD, None)
    staff, dx = _login(app, f"staff-{key}"), _login(app, f"dx-{key}")
    author = services.accounts.by_login(f"staff-{key}")
    stored = services.repo.create(org, make_sheet(section=town.section, title=town.title,
                                                  asis=PHONE.format(word=town.word),
                                                  problems=[f"{town.word}の確認に時間がかかっている。"]))
    services.after_save(stored)
    services.submit(author, stored, False)  # what the editor's 提出する does
    sheet_id = stored.id
    assert dx.post(f"/review/{sheet_id}/comments", data={"body": f"{town.word}について伺いたいです。"},
                   follow_redirects=False).status_code in (200, 303)
    secret, _ = services.tokens.create(dx_account, f"{town.name}の集計", "read", None, None)
    api = TestClient(app, client=TOWN_PC, headers={"Authorization": f"Bearer {secret}"})  # type: ignore[arg-type]
    return Side(town, staff, dx, api, sheet_id)


@pytest.fixture
def towns(database_url: str, data_dir: Path) -> Iterator[tuple[Side, Side]]:
    from web.app import create_app

    app = create_app(Settings(data_dir=data_dir, database_url=database_url, load_samples=False))
    with TestClient(app):
        yield _side(app, EAST, "east"), _side(app, WEST, "west")


def _routes(own: Side, other: Side) -> list[tuple[TestClient, str, str, dict[str, str] | None]]:
    """(client, method, path, form): everything a town's people and programs can ask for."""
    mine, theirs = own.sheet_id, other.sheet_id
    return [
        (own.staff, "GET", "/", None),
        (own.staff, "GET", f"/sheets/{mine}", None),
        (own.staff, "GET", f"/sheets/{mine}/similar", None),
        (own.staff, "GET", f"/sheets/{mine}/history", None),
        (own.dx, "GET", "/", None),
        (own.dx, "GET", "/review?state=all", None),
        (own.dx, "GET", f"/review/{mine}", None),
        (own.dx, "GET", "/review/log", None),
        (own.dx, "GET", "/overview", None),
        (own.dx, "GET", "/overview/words", None),
        (own.dx, "GET", "/links", None),
        (own.dx, "GET", "/admin", None),
        (own.dx, "GET", "/export/sheets.xlsx", None),
        (own.dx, "GET", "/export/sheets.csv", None),
        (own.dx, "GET", "/export/summary.csv", None),
        (own.dx, "GET", f"/print/{mine}", None),
        (own.api, "GET", f"/api/v1/sheets/{mine}", None),
        (own.api, "GET", f"/api/v1/sheets/{mine}/similar?k=20", None),
        # Asking for the other town's sheet by its id must find nothing.
        (own.staff, "GET", f"/sheets/{theirs}", None),
        (own.dx, "GET", f"/review/{theirs}", None),
        (own.dx, "GET", f"/print/{theirs}", None),
        (own.api, "GET", f"/api/v1/sheets/{theirs}", None),
        (own.api, "GET", f"/api/v1/sheets/{theirs}/similar?k=20", None),
    ]


@pytest.mark.parametrize("direction", ["east sees west?", "west sees east?"])
def test_a_town_never_sees_another_towns_sheets(towns: tuple[Side, Side], direction: str) -> None:
    own, other = towns if direction.startswith("east") else towns[::-1]
    seen_own = 0
    for client, method, path, data in _routes(own, other):
        status, text, ids = fetch(client, method, path, data)
        for secret in (other.town.title, other.town.section, other.town.word, other.town.name):
            assert secret not in text, (path, secret)
        assert other.sheet_id not in ids, path
        if path.endswith(f"/{other.sheet_id}") or f"/{other.sheet_id}/" in path:
            assert status == 404, (path, status)
        elif status == 200 and (own.town.title in text or own.town.word in text):
            seen_own += 1
    # The pages above really showed the town's own sheet (the checks were not run on empty pages).
    assert seen_own >= 12


def test_similar_sheets_come_only_from_the_same_town(towns: tuple[Side, Side]) -> None:
    east, west = towns
    # Both towns' sheets say the same problem in almost the same words: only the town decides.
    for side, other in ((east, west), (west, east)):
        body = side.dx.get(f"/api/v1/sheets/{side.sheet_id}/similar?k=20")
        assert body.status_code == 200
        assert other.sheet_id not in {x["id"] for x in body.json()}


def test_a_new_towns_first_admin_is_made_by_the_cli_and_sees_only_that_town(data_dir: Path) -> None:
    """The README's recipe for a new town on a running deployment: COACH_ORG_NAME=西町 coach create-admin."""
    import os
    import re
    import subprocess

    from tests.test_cli import COACH
    from web.app import create_app

    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(Settings(data_dir=data_dir, load_samples=True))  # the default town, with its samples
    with TestClient(app):
        services = app.state.services
        default_titles = [s.title for s in services.repo.list(services.organisation_id)]
        assert default_titles
        env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_ORG_NAME": "西町"}
        done = subprocess.run([COACH, "create-admin", "--login", "nishi-dx", "--name", "西町DX担当"],
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        password = re.search(r"パスワード / password: (\S+)", done.stdout)
        assert password is not None
        account = services.accounts.by_login("nishi-dx")
        assert account.organisation_id == services.repo.ensure_organisation("西町") != services.organisation_id
        c = TestClient(app, client=TOWN_PC)
        r = c.post("/login", data={"login": "nishi-dx", "password": password.group(1),
                                   "csrf_token": login_form_token(c)}, follow_redirects=False)
        assert r.status_code == 303
        for path in ("/", "/review?state=all", "/overview"):
            page = c.get(path)
            assert page.status_code == 200
            assert not [t for t in default_titles if t in page.text], path
