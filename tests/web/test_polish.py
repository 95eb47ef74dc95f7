"""Issue #11 "polish worth the minutes": one wording for error findings, Japanese for the engine, dates
and values as people write them, HTML error pages for a browser's bad URL (JSON stays for /api)."""

from __future__ import annotations

from datetime import date

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import logged_in, sheet_data
from tests.web.test_review import ERRORS, submit


def test_a_bad_url_gives_a_browser_an_html_page_and_a_program_json(client: TestClient) -> None:
    staff = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
    for path in ("/sheets/abc", "/sheets/0", "/sheets/abc/history", "/sheets/1/versions/x", "/print/abc",
                 "/sheets/99999999999"):
        r = staff.get(path)
        assert r.status_code in (404, 422), path
        assert r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
        page = BeautifulSoup(r.text, "html.parser")
        assert page.select_one("h1") is not None and "{" not in page.select_one("main").get_text()[:1], path
    api = staff.get("/api/v1/sheets/abc")
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/json")


def test_review_page_and_queue_speak_one_language(client: TestClient) -> None:
    author = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
    dx = logged_in(client.app, "dx-team", "dx", None)
    sid = submit(author, ERRORS)
    services = client.app.state.services
    who = services.accounts.by_login("dx-team")
    on = date(2026, 4, 3)
    services.cycle.move(who, sid, "壁打ち", on)
    services.cycle.add_outcome(who, sid, "hours", "120", "", on)
    queue = dx.get("/review").text
    assert "エラーの指摘が残っている" not in queue and "要見直しの指摘が残っている" in queue  # the editor's word
    page = BeautifulSoup(dx.get(f"/review/{sid}").text, "html.parser")
    text = page.get_text(" ")
    assert "（rules）" not in text and "自動チェック" in text
    assert "2026-04-03" not in text and "2026年4月3日" in text
    outcome = page.select_one("td.num")
    assert outcome is not None and outcome.get_text(strip=True).startswith("120 ")


def test_print_page_buttons_are_styled(client: TestClient) -> None:
    staff = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
    sid = staff.post("/api/v1/sheets", json=sheet_data(title="印刷")).json()["id"]
    page = BeautifulSoup(staff.get(f"/print/{sid}").text, "html.parser")
    assert page.select_one(".print-tools a.back") is not None
    css = staff.get("/static/print.css").text
    assert ".print-tools button" in css and ".print-tools a.back" in css
