"""HTML pages tested by their structure; the same feedback with and without JavaScript."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import sheet_data


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


def test_index_groups_sheets_by_section(client: TestClient) -> None:
    client.post("/api/v1/sheets", json=sheet_data(section="戸籍係", title="証明書"))
    client.post("/api/v1/sheets", json=sheet_data(section="土木係", title="道路", purpose="効率化のため"))
    page = soup(client.get("/"))
    groups = {g.h2.text: [a.text for a in g.select("a")] for g in page.select(".section-group")}
    assert groups == {"戸籍係": ["証明書"], "土木係": ["道路"]}
    assert page.select_one(".section-group .pill-warning") is not None


def test_create_needs_a_section_and_keeps_what_was_typed(client: TestClient) -> None:
    r = client.post("/sheets", data={"section": " ", "title": "書きかけの題"})
    assert r.status_code == 422
    page = soup(r)
    assert "係名を入力" in page.select_one(".new-sheet .field-error").text
    assert page.select_one("#new-title")["value"] == "書きかけの題"


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


def test_move_to_margin_with_htmx_returns_the_form(client: TestClient) -> None:
    sid = new_sheet(client)
    data = form_data(tobe="住民が迷わない。LINEで予約できている。", margin="メモ")
    page = soup(client.post(f"/sheets/{sid}", data={**data, "op": "move:tobe:"}, headers={"HX-Request": "true"}))
    assert page.select_one("form#sheet-form") is not None and page.select_one("header") is None
    assert page.select_one("#f-tobe").text == "住民が迷わない。"
    assert page.select_one("#f-margin").text == "メモ\nLINEで予約できている"


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
