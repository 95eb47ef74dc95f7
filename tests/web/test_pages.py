"""HTML pages tested by their structure; the same feedback with and without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import LOOPBACK, logged_in, section_staff, sheet_data


@pytest.fixture
def client(client: TestClient) -> TestClient:
    """These pages are used by section staff of 住民窓口係, logged in from a town PC."""
    return logged_in(client.app, "madoguchi", "staff", "住民窓口係")


def soup(r) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(r.text, "html.parser")


def form_data(op: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The editor's form as a browser posts it (lists become repeated fields)."""
    data = sheet_data(**overrides)
    return {**data, "op": op} if op else data


def new_sheet(client: TestClient) -> int:
    r = client.post("/sheets", data={"section": "住民窓口係", "title": "転入"}, follow_redirects=False)
    assert r.status_code == 303
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_index_shows_my_section_then_others_submitted_sheets_by_section(client: TestClient) -> None:
    mine = client.post("/api/v1/sheets", json=sheet_data(title="転入", purpose="効率化のため")).json()["id"]
    for section, title in (("戸籍係", "証明書"), ("土木係", "道路"), ("税務係", "下書きのまま")):
        sid = client.post("/api/v1/sheets", json=sheet_data(section=section, title=title))
        assert sid.status_code == 403  # staff write only for their own section, through the API too
        local = TestClient(client.app, client=LOOPBACK)
        sid = local.post("/api/v1/sheets", json=sheet_data(section=section, title=title)).json()["id"]
        if title != "下書きのまま":
            section_staff(client.app, section).post(f"/sheets/{sid}", data=form_data(section=section, title=title,
                                                                                      op="submit"))
    page = soup(client.get("/"))
    assert [a["href"] for a in page.select(".mine a")] == [f"/sheets/{mine}"]
    assert page.select_one(".mine .pill-warning") is not None
    groups = {g.h2.text: [a.text for a in g.select("a")] for g in page.select(".section-group:not(.mine)")}
    assert groups == {"戸籍係": ["証明書"], "土木係": ["道路"]}  # another section's draft is not listed
    assert all(a["href"].endswith("/view") for a in page.select(".section-group:not(.mine) a"))


def test_create_is_for_my_own_section_and_keeps_what_was_typed(client: TestClient) -> None:
    r = client.post("/sheets", data={"section": "税務係", "title": "書きかけの題"}, follow_redirects=False)
    assert r.status_code == 303  # the section comes from the account, not from the form
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    assert client.get(f"/api/v1/sheets/{sid}").json()["section"] == "住民窓口係"
    r = client.post("/sheets", data={"title": "題" * 101})
    assert r.status_code == 422
    page = soup(r)
    assert "100文字以内" in page.select_one(".new-sheet .field-error").text
    assert page.select_one("#new-title")["value"] == "題" * 101


def test_editor_is_laid_out_like_the_paper_sheet(client: TestClient) -> None:
    sid = new_sheet(client)
    page = soup(client.get(f"/sheets/{sid}"))
    form = page.select_one("form#sheet-form")
    assert form["action"] == f"/sheets/{sid}" and form["method"] == "post"  # works without JS
    assert form["hx-post"] == f"/sheets/{sid}/check" and "delay" in form["hx-trigger"]
    order = [t["name"] for t in page.select(".sheet textarea")]
    assert order == ["asis", "tobe", "purpose", "problems", "tasks"]
    assert page.select_one("aside.margin textarea[name=margin]") is not None
    assert page.select_one('script[src="/static/htmx.min.js"]') is not None


def test_plain_form_submit_saves_a_version_and_renders_the_feedback(client: TestClient) -> None:
    sid = new_sheet(client)
    r = client.post(f"/sheets/{sid}", data=form_data(tobe="文書がデジタル化されている。"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/sheets/{sid}?saved=2"
    page = soup(client.get(r.headers["location"]))
    assert "第2版" in page.select_one(".flash").text
    finding = page.select_one("#fb-tobe .finding")
    assert finding["data-code"] == "SOLUTION_IN_SHEET"
    assert finding.select_one("mark").text == "文書がデジタル化されている"
    assert finding.select_one("button.move")["value"] == "move:tobe:"


def test_check_returns_feedback_fragments_and_autosaves(client: TestClient) -> None:
    sid = new_sheet(client)
    r = client.post(f"/sheets/{sid}/check", data=form_data(tasks=["書類が足りない"]), headers={"HX-Request": "true"})
    page = soup(r)
    assert page.select_one("#fb-tasks")["hx-swap-oob"] == "true"
    assert page.select_one("#fb-tasks .finding")["data-code"] == "TASK_NOT_ACTIONABLE"
    assert "自動保存しました" in page.select_one("#fb-status").text
    assert client.get(f"/api/v1/sheets/{sid}").json()["tasks"] == ["書類が足りない"]


def test_clean_sheet_shows_a_good_state(client: TestClient) -> None:
    sid = new_sheet(client)
    page = soup(client.post(f"/sheets/{sid}/check", data=form_data(), headers={"HX-Request": "true"}))
    assert page.select_one("#fb-summary [data-state=good]") is not None
    assert page.select(".finding") == []


def test_invalid_form_keeps_the_text_shows_the_error_and_saves_nothing(client: TestClient) -> None:
    sid = new_sheet(client)
    long = "長い" * 2001
    r = client.post(f"/sheets/{sid}", data=form_data(asis=long, tobe="ここまで書いた理想"))
    assert r.status_code == 422
    page = soup(r)
    assert "4,000文字以内" in page.select_one("#fb-asis .field-error").text
    assert page.select_one("#f-tobe").text == "ここまで書いた理想"
    assert page.select_one("#f-asis")["aria-invalid"] == "true"
    assert client.get(f"/api/v1/sheets/{sid}").json()["version"] == 1


def test_check_with_invalid_input_does_not_autosave(client: TestClient) -> None:
    sid = new_sheet(client)
    page = soup(client.post(f"/sheets/{sid}/check", data=form_data(section=""), headers={"HX-Request": "true"}))
    assert page.select_one("#fb-section .field-error") is not None
    assert client.get(f"/api/v1/sheets/{sid}").json()["version"] == 1


def test_move_to_margin_without_javascript(client: TestClient) -> None:
    sid = new_sheet(client)
    data = form_data(tasks=["件数を数える", "RPAを導入する"], margin="")
    r = client.post(f"/sheets/{sid}", data={**data, "op": "move:tasks:1"}, follow_redirects=False)
    assert r.status_code == 303
    stored = client.get(f"/api/v1/sheets/{sid}").json()
    assert stored["tasks"] == ["件数を数える"] and stored["margin"] == "RPAを導入する"


def test_move_to_margin_with_htmx_returns_feedback_and_values_not_the_form(client: TestClient) -> None:
    sid = new_sheet(client)
    data = form_data(tobe="住民が迷わない。LINEで予約できている。", margin="メモ")
    page = soup(client.post(f"/sheets/{sid}", data={**data, "op": "move:tobe:"}, headers={"HX-Request": "true"}))
    assert page.select_one("form#sheet-form") is None and page.select_one("textarea") is None  # nothing typed is replaced
    assert page.select_one("#field-values [data-field=tobe]").text == "住民が迷わない。"
    assert page.select_one("#field-values [data-field=margin]").text == "メモ\nLINEで予約できている"
    assert page.select_one("#fb-tobe .finding") is None and "元に戻す" in page.select_one("#flash").text


def test_add_and_remove_rows_without_javascript(client: TestClient) -> None:
    sid = new_sheet(client)
    r = client.post(f"/sheets/{sid}", data=form_data(op="add:tasks"), follow_redirects=False)
    page = soup(client.get(r.headers["location"]))
    assert len(page.select("#rows-tasks textarea")) == len(sheet_data()["tasks"]) + 2
    client.post(f"/sheets/{sid}", data=form_data(op="remove:tasks:0"))
    assert client.get(f"/api/v1/sheets/{sid}").json()["tasks"] == sheet_data()["tasks"][1:]


def test_history_view_and_restore(client: TestClient) -> None:
    sid = new_sheet(client)
    client.post(f"/sheets/{sid}", data=form_data(asis="第二版の現状"))
    client.post(f"/sheets/{sid}", data=form_data(asis="第三版の現状"))
    page = soup(client.get(f"/sheets/{sid}/history"))
    assert [r.td.text.split()[0] for r in page.select("table.history tbody tr")] == ["第3版", "第2版", "第1版"]
    assert "第二版の現状" in client.get(f"/sheets/{sid}/versions/2").text
    r = client.post(f"/sheets/{sid}/versions/2/restore", follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/api/v1/sheets/{sid}").json()["asis"] == "第二版の現状"
    assert client.get(f"/api/v1/sheets/{sid}").json()["version"] == 4


def test_missing_sheet_page_is_a_friendly_404(client: TestClient) -> None:
    r = client.get("/sheets/12345")
    assert r.status_code == 404 and "シートが見つかりません" in soup(r).h1.text
