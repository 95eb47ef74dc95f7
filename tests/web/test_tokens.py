"""API tokens end to end: made on the 設定 page, sent as a Bearer header, every scope and reach, the audit log.

The tests that store tokens run on SQLite and on PostgreSQL (`database_url`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from coach.db import now
from coach.settings import Settings
from coach.workspace.review import AuditRow
from coach.workspace.tokens import ApiTokenRow, today
from tests.conftest import TOWN_PC, logged_in, section_staff, sheet_data

OWN, OTHER = "住民窓口係", "土木係"


@pytest.fixture
def app(database_url: str, settings: Settings) -> Iterator[Any]:
    from web.app import create_app

    app = create_app(settings.model_copy(update={"database_url": database_url}))
    with TestClient(app):
        yield app


@pytest.fixture
def dx(app: Any) -> TestClient:
    return logged_in(app, "dx-team", "dx", None)


def program(app: Any, secret: str | None = None, header: str | None = None) -> TestClient:
    """A program on another machine: no cookie, no CSRF token, only the Authorization header."""
    c = TestClient(app, client=TOWN_PC)
    c.headers["Authorization"] = header if header is not None else f"Bearer {secret}"
    return c


def make_token(dx: TestClient, name: str = "基幹連携", scope: str = "read", reach: str = "town",
               expires_on: str = "") -> str:
    """Through the real form, as the DX team does it; returns the secret the page shows once."""
    r = dx.post("/admin/tokens", data={"token_name": name, "scope": scope, "reach": reach,
                                       "expires_on": expires_on})
    assert r.status_code == 200, r.text
    return BeautifulSoup(r.text, "html.parser").select_one(".token-secret").text  # type: ignore[union-attr]


def sheets(app: Any) -> dict[str, int]:
    """A draft and a submitted sheet in each of two sections, written by their own staff."""
    out = {}
    for section in (OWN, OTHER):
        person = section_staff(app, section)
        for status in ("draft", "submitted"):
            data = sheet_data(section=section, title=f"{status}の案件")
            sid = person.post("/api/v1/sheets", json=data).json()["id"]
            if status == "submitted":
                r = person.post(f"/sheets/{sid}", data={**data, "op": "submit"}, follow_redirects=False)
                assert r.status_code == 303
            out[f"{section}:{status}"] = sid
    assert app.state.services.repo.get(out[f"{OTHER}:submitted"], 1).status == "submitted"
    return out


def test_a_token_is_shown_once_and_stored_hashed(app: Any, dx: TestClient) -> None:
    secret = make_token(dx)
    assert secret.startswith("cct_") and len(secret) > 40
    later = dx.get("/admin")
    assert secret not in later.text and "基幹連携" in later.text and "まだ使われていません" in later.text
    with app.state.services.tokens._sessions() as s:
        row = s.scalar(select(ApiTokenRow))
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in " ".join(str(v) for v in vars(row).values())
    assert program(app, secret).get("/api/v1/sheets/999").status_code == 404  # it works: the sheet is missing
    assert "まだ使われていません" not in dx.get("/admin").text  # the list shows when it was last used


def test_token_forms_need_the_csrf_token(app: Any, dx: TestClient) -> None:
    secret = make_token(dx)
    tid = app.state.services.tokens.list(1)[0].id
    forger = logged_in(app, "dx-team", "dx", None, csrf_header=False)
    assert forger.post("/admin/tokens", data={"token_name": "偽物", "scope": "write", "reach": "town"}).status_code == 403
    assert forger.post(f"/admin/tokens/{tid}/revoke", data={"csrf_token": "forged"}).status_code == 403
    assert [t.name for t in app.state.services.tokens.list(1)] == ["基幹連携"]
    assert program(app, secret).get("/api/v1/sheets/999").status_code == 404  # still valid


def test_staff_cannot_make_or_revoke_tokens(app: Any, dx: TestClient) -> None:
    make_token(dx)
    tid = app.state.services.tokens.list(1)[0].id
    staff = section_staff(app, OWN)
    assert staff.post("/admin/tokens", data={"token_name": "x", "scope": "write", "reach": "town"}).status_code == 403
    assert staff.get(f"/admin/tokens/{tid}/revoke").status_code == 403
    assert staff.post(f"/admin/tokens/{tid}/revoke").status_code == 403
    assert len(app.state.services.tokens.list(1)) == 1 and app.state.services.tokens.list(1)[0].revoked_at is None


def test_bad_token_input_gets_japanese_reasons(app: Any, dx: TestClient) -> None:
    yesterday = (today() - timedelta(days=1)).isoformat()
    r = dx.post("/admin/tokens", data={"token_name": "", "scope": "admin", "reach": "存在しない係",
                                       "expires_on": yesterday})
    assert r.status_code == 422
    for reason in ("80文字以内", "「読み取りだけ」か", "一覧にある係", "今日以降"):
        assert reason in r.text
    r = dx.post("/admin/tokens", data={"token_name": "x", "scope": "read", "reach": "town", "expires_on": "来月"})
    assert r.status_code == 422 and "2026-03-31" in r.text
    assert app.state.services.tokens.list(1) == []


def test_revoking_asks_first_then_the_token_answers_401(app: Any, dx: TestClient) -> None:
    secret = make_token(dx)
    tid = app.state.services.tokens.list(1)[0].id
    confirm = dx.get(f"/admin/tokens/{tid}/revoke")
    assert "取り消しますか" in confirm.text and app.state.services.tokens.list(1)[0].revoked_at is None
    assert dx.post(f"/admin/tokens/{tid}/revoke", follow_redirects=False).headers["location"].endswith("/revoke")
    assert app.state.services.tokens.list(1)[0].revoked_at is None  # a POST without the confirmation asks first
    assert dx.post(f"/admin/tokens/{tid}/revoke", data={"confirmed": "1"}).status_code == 200
    r = program(app, secret).get("/api/v1/sheets/1")
    assert r.status_code == 401 and "取り消されています" in r.json()["detail"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "取り消し済み" in dx.get("/admin").text


def test_an_expired_token_answers_401_and_one_expiring_today_still_works(app: Any, dx: TestClient) -> None:
    secret = make_token(dx, expires_on=today().isoformat())
    assert program(app, secret).get("/api/v1/sheets/999").status_code == 404  # valid through its last day
    with app.state.services.tokens._sessions.begin() as s:
        s.execute(update(ApiTokenRow).values(expires_on=today() - timedelta(days=1)))
    r = program(app, secret).get("/api/v1/sheets/999")
    assert r.status_code == 401 and "有効期限" in r.json()["detail"] and "切れています" in r.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic ZHg6cGFzcw==", "Token cct_x", "Bearer a b",
                                    "Bearer cct_not-a-token-anyone-made"])
def test_wrong_or_malformed_authorization_answers_401(app: Any, dx: TestClient, header: str) -> None:
    make_token(dx)
    r = program(app, header=header).get("/api/v1/sheets/1")
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "authorization"
    assert "トークン" in r.json()["detail"]


def test_a_bad_header_never_falls_back_to_the_local_door_or_a_session(app: Any, dx: TestClient) -> None:
    local = TestClient(app, client=("127.0.0.1", 50000))  # COACH_API_OPEN would let it in without a header
    assert local.post("/api/v1/sheets", json=sheet_data(), headers={"Authorization": "Bearer nope"}).status_code == 401
    assert dx.get("/api/v1/sheets/1", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_tokens_never_open_pages(app: Any, dx: TestClient) -> None:
    secret = make_token(dx, scope="write")
    for path in ("/", "/admin", "/review", "/overview"):
        assert program(app, secret).get(path, follow_redirects=False).status_code == 303  # to the login page


def test_read_scope_town_reads_everything_and_writes_nothing(app: Any, dx: TestClient) -> None:
    ids = sheets(app)
    p = program(app, make_token(dx, scope="read", reach="town"))
    for sid in ids.values():
        assert p.get(f"/api/v1/sheets/{sid}").status_code == 200
        assert p.get(f"/api/v1/sheets/{sid}/versions").status_code == 200
    r = p.post("/api/v1/sheets", json=sheet_data())
    assert r.status_code == 403 and "読み取りだけ" in r.json()["detail"]
    assert p.put(f"/api/v1/sheets/{ids[OWN + ':draft']}", json=sheet_data()).status_code == 403


def test_write_scope_town_writes_any_section_without_csrf(app: Any, dx: TestClient) -> None:
    ids = sheets(app)
    p = program(app, make_token(dx, scope="write", reach="town"))
    r = p.post("/api/v1/sheets", json=sheet_data(section="税務係", title="連携で作成"))
    assert r.status_code == 201 and r.json()["section"] == "税務係"
    r = p.put(f"/api/v1/sheets/{ids[OTHER + ':draft']}", json=sheet_data(section=OTHER, title="連携で更新"))
    assert r.status_code == 200 and r.json()["title"] == "連携で更新"


def test_read_scope_section_sees_what_its_staff_see(app: Any, dx: TestClient) -> None:
    ids = sheets(app)
    p = program(app, make_token(dx, scope="read", reach=OWN))
    assert p.get(f"/api/v1/sheets/{ids[OWN + ':draft']}").status_code == 200
    assert p.get(f"/api/v1/sheets/{ids[OWN + ':draft']}/versions").status_code == 200
    assert p.get(f"/api/v1/sheets/{ids[OTHER + ':submitted']}").status_code == 200
    assert p.get(f"/api/v1/sheets/{ids[OTHER + ':draft']}").status_code == 404  # another section's draft
    assert p.get(f"/api/v1/sheets/{ids[OTHER + ':submitted']}/versions").status_code == 403  # drafts behind it
    assert p.put(f"/api/v1/sheets/{ids[OWN + ':draft']}", json=sheet_data()).status_code == 403


def test_write_scope_section_writes_only_its_section(app: Any, dx: TestClient) -> None:
    ids = sheets(app)
    p = program(app, make_token(dx, scope="write", reach=OWN))
    assert p.post("/api/v1/sheets", json=sheet_data(section=OWN)).status_code == 201
    assert p.post("/api/v1/sheets", json=sheet_data(section=OTHER)).status_code == 403
    assert p.put(f"/api/v1/sheets/{ids[OWN + ':draft']}", json=sheet_data(title="更新")).status_code == 200
    assert p.put(f"/api/v1/sheets/{ids[OWN + ':draft']}", json=sheet_data(section=OTHER)).status_code == 403
    assert p.put(f"/api/v1/sheets/{ids[OTHER + ':submitted']}", json=sheet_data(section=OTHER)).status_code == 403
    assert p.get(f"/api/v1/sheets/{ids[OTHER + ':draft']}").status_code == 404


def _token_entries(app: Any) -> list[AuditRow]:
    with app.state.services.tokens._sessions() as s:
        return list(s.scalars(select(AuditRow).where(AuditRow.action == "token").order_by(AuditRow.id)))


def test_every_use_is_in_the_audit_log_reads_once_a_minute(app: Any, dx: TestClient) -> None:
    ids = sheets(app)
    secret = make_token(dx, name="文書管理連携", scope="write", reach=OWN)
    p = program(app, secret)
    for _ in range(3):
        assert p.get(f"/api/v1/sheets/{ids[OWN + ':draft']}").status_code == 200
    created = [e for e in _token_entries(app) if e.user_login.startswith("token:")]
    assert len(created) == 1 and '"calls": 1' in created[0].detail  # three reads, one entry this minute
    assert p.put(f"/api/v1/sheets/{ids[OWN + ':draft']}", json=sheet_data(title="更新")).status_code == 200
    assert p.post("/api/v1/sheets", json=sheet_data()).status_code == 201
    uses = [e for e in _token_entries(app) if e.user_login.startswith("token:")]
    assert [e.detail.count('"PUT"') + e.detail.count('"POST"') for e in uses] == [0, 1, 1]  # every write
    assert uses[1].sheet_id == ids[OWN + ":draft"] and '"calls": 5' in uses[2].detail
    with app.state.services.tokens._sessions.begin() as s:  # a minute later
        s.execute(update(ApiTokenRow).values(last_audit_at=now() - timedelta(minutes=2)))
    p.get(f"/api/v1/sheets/{ids[OWN + ':draft']}")
    assert len([e for e in _token_entries(app) if e.user_login.startswith("token:")]) == 4
    assert program(app, secret).post("/api/v1/sheets", json=sheet_data(section=OTHER)).status_code == 403
    assert '"calls": 7' in _token_entries(app)[-1].detail  # a refused call is a use too
    rows = [r.text for r in BeautifulSoup(dx.get("/review/log").text, "html.parser").select(".audit tbody tr")]
    assert "APIトークン" in rows[0] and "文書管理連携" in rows[0] and "POST /api/v1/sheets" in rows[0]
    assert any("API トークン「文書管理連携」を作成" in r for r in rows)
    review_log = dx.get(f"/review/{ids[OWN + ':submitted']}")
    assert review_log.status_code == 200


def test_creating_and_revoking_are_audited_with_the_person(app: Any, dx: TestClient) -> None:
    dx.post("/admin/sections", data={"names": OWN})
    make_token(dx, name="集計", scope="read", reach=OWN)
    app.state.services.tokens.revoke(app.state.services.accounts.by_login("dx-team"),
                                     app.state.services.tokens.list(1)[0].id)
    entries = _token_entries(app)
    assert [e.user_login for e in entries] == ["dx-team", "dx-team"]
    assert "token_created" in entries[0].detail and OWN in entries[0].detail and "token_revoked" in entries[1].detail
