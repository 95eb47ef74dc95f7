"""Notices (issue #11 item 3): staff learn that their sheet came back, was accepted or got a comment;
the DX team learns that a sheet was submitted or resubmitted. An unread count on every page, a list
at /notices, marked read on open and all at once. Without SMTP settings: in-app only."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import logged_in, section_staff, sheet_data

DATA = sheet_data(title="転入手続きの窓口対応")


def soup(r: Any) -> BeautifulSoup:
    return BeautifulSoup(r.text, "html.parser")


def unread(person: TestClient, path: str = "/") -> int:
    """The count in the header: present on every page, 0 when nothing is unread."""
    r = person.get(path)
    assert r.status_code == 200, (path, r.status_code)
    badge = soup(r).select_one("header a.notices-link")
    assert badge is not None, f"no notices link in the header of {path}"
    count = badge.select_one(".unread-count")
    return int(count.text) if count is not None else 0


def notices(person: TestClient) -> list[Any]:
    return soup(person.get("/notices")).select(".notice-list li")


def new_sheet(staff: TestClient) -> int:
    return int(staff.post("/api/v1/sheets", json=DATA).json()["id"])


def submit(staff: TestClient, sid: int, data: dict[str, Any] | None = None) -> None:
    r = staff.post(f"/sheets/{sid}", data={**(data or DATA), "op": "submit"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def decide(dx: TestClient, sid: int, decision: str, note: str = "") -> None:
    r = dx.post(f"/review/{sid}/decision", data={"decision": decision, "note": note}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_submission_reaches_every_dx_member_and_not_the_author(staff: TestClient, dx: TestClient) -> None:
    other_dx = logged_in(dx.app, "dx-two", "dx", None)
    assert unread(dx) == 0 and unread(staff) == 0
    sid = new_sheet(staff)
    submit(staff, sid)
    for person in (dx, other_dx):
        assert unread(person) == 1 and unread(person, "/review") == 1 and unread(person, "/admin") == 1
        (item,) = notices(person)
        assert "提出" in item.text and "転入手続きの窓口対応" in item.text and "madoguchiさん" in item.text
        assert "再提出" not in item.text and "unread" in item["class"]
    assert unread(staff) == 0 and notices(staff) == []  # the author did it, and is not told


def test_return_accept_and_comment_reach_the_sections_staff_only(staff: TestClient, dx: TestClient) -> None:
    colleague = logged_in(dx.app, "madoguchi-2", "staff", "住民窓口係")
    elsewhere = section_staff(dx.app, "税務係")
    sid = new_sheet(staff)
    submit(staff, sid)
    decide(dx, sid, "return", "目的を住民の言葉で書いてください。")
    for person in (staff, colleague):
        assert unread(person) == 1 and unread(person, f"/sheets/{sid}") == 1
        (item,) = notices(person)
        assert "差し戻" in item.text and "目的を住民の言葉で書いてください。" in item.text
    assert unread(elsewhere) == 0

    r = dx.post(f"/review/{sid}/comments", data={"field": "purpose", "body": "例を一つ入れると伝わります。"},
                follow_redirects=False)
    assert r.status_code == 303
    assert unread(staff) == 2 and "例を一つ入れると伝わります。" in notices(staff)[0].text
    assert "コメント" in notices(staff)[0].text

    submit(staff, sid, {**DATA, "purpose": DATA["purpose"] + "窓口で迷わないようにする。"})
    decide(dx, sid, "accept")
    assert unread(staff) == 3 and "受理" in notices(staff)[0].text
    assert unread(elsewhere) == 0 and notices(elsewhere) == []
    assert unread(dx) == 2  # the submission and the resubmission


def test_a_resubmission_is_marked_with_the_changes_since_the_return(staff: TestClient, dx: TestClient) -> None:
    sid = new_sheet(staff)
    submit(staff, sid)
    returned_version = dx.app.state.services.reviews.get(sid).submitted_version  # type: ignore[attr-defined]
    decide(dx, sid, "return", "課題を具体的にしてください。")
    changed = {**DATA, "tasks": ["転入時に必要な手続きを世帯の状況別に一覧にする"]}
    submit(staff, sid, changed)
    new_version = dx.app.state.services.reviews.get(sid).submitted_version  # type: ignore[attr-defined]
    assert new_version > returned_version

    first = notices(dx)[0]
    assert "再提出" in first.text
    diff_link = f"/review/{sid}?from={returned_version}&to={new_version}"
    assert first.select_one("a")["href"] == f"/notices/{first['data-notice']}"
    opened = dx.get(first.select_one("a")["href"], follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == diff_link
    assert "転入時に必要な手続きを世帯の状況別に一覧にする" in dx.get(diff_link).text

    row = soup(dx.get("/review")).select_one(f'.queue tr[data-sheet="{sid}"]')
    assert row is not None and "再提出" in row.text
    assert row.select_one("a.resubmitted")["href"] == diff_link


def test_opening_a_notice_marks_it_read_and_all_can_be_marked_at_once(staff: TestClient, dx: TestClient) -> None:
    for _ in range(3):
        submit(staff, new_sheet(staff))
    assert unread(dx) == 3
    first = notices(dx)[0]
    r = dx.get(f"/notices/{first['data-notice']}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/review/")
    assert unread(dx) == 2
    assert "unread" not in notices(dx)[0]["class"]
    assert soup(dx.get("/notices")).select_one("form[action='/notices/read'] button").text.strip() == "すべて既読にする"
    r = dx.post("/notices/read", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/notices"
    assert unread(dx) == 0 and len(notices(dx)) == 3  # read, not gone


def test_a_notice_of_someone_else_is_not_found(staff: TestClient, dx: TestClient) -> None:
    submit(staff, new_sheet(staff))
    nid = notices(dx)[0]["data-notice"]
    r = staff.get(f"/notices/{nid}", follow_redirects=False)
    assert r.status_code == 404 and "お知らせ" in r.text
    assert unread(dx) == 1  # not marked read by someone else's attempt
    assert staff.get("/notices/abc").status_code in (404, 422)


def test_pages_without_a_login_show_no_count(client: TestClient) -> None:
    r = client.get("/login")
    assert r.status_code == 200 and soup(r).select_one(".unread-count") is None
    assert client.get("/notices", follow_redirects=False).status_code in (303, 401)
