"""Issue #11 items 6, 8, 9 and the new-sheet polish over HTTP, on SQLite and PostgreSQL: what the
editor's JavaScript relies on (the autosave's answer, the page's last word), moves and their undo
without JavaScript, and saves or imports that change nothing visible writing nothing."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import logged_in, sheet_data

TOBE = "住民が迷わずに手続きを終えていて、タブレットで申請書が自動作成されている。"


def _soup(r: Any) -> BeautifulSoup:
    return BeautifulSoup(r.text, "html.parser")


def _setup(app: Any, **overrides: Any) -> tuple[TestClient, int]:
    staff = logged_in(app, "madoguchi")
    r = staff.post("/sheets", data={"title": "転入"}, follow_redirects=False)
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    assert staff.post(f"/sheets/{sid}", data={**sheet_data(**overrides), "op": "save"},
                      follow_redirects=False).status_code == 303
    return staff, sid


def _kinds(app: Any, sid: int) -> list[str]:
    return [v.kind for v in app.state.services.repo.versions(sid, 1)][::-1]


def test_a_save_that_changes_nothing_visible_writes_no_version_and_says_so(db_app: Any) -> None:
    staff, sid = _setup(db_app, margin="一行目\n二行目")
    assert _kinds(db_app, sid) == ["create", "save"]
    same = {**sheet_data(margin="一行目\r\n二行目  \r\n"), "problems": [*sheet_data()["problems"], ""],
            "asis": sheet_data()["asis"] + " ", "op": "save", "base_version": "2"}
    r = staff.post(f"/sheets/{sid}", data=same, follow_redirects=False)
    assert r.headers["location"].endswith("?unchanged=2")
    assert "変更はありません（第2版のまま）" in _soup(staff.get(r.headers["location"])).select_one(".flash").text
    assert _kinds(db_app, sid) == ["create", "save"]
    r = staff.post(f"/sheets/{sid}/check", data=same)  # the autosave agrees
    assert r.headers["X-Coach-Autosave"] == "saved" and _kinds(db_app, sid) == ["create", "save"]
    r = staff.post(f"/sheets/{sid}", data={**same, "margin": "一行目\n三行目"}, follow_redirects=False)
    assert r.headers["location"].endswith("?saved=3")  # a real change is a version, as before


def test_the_page_last_word_is_stored_after_its_own_autosave_still_in_flight(db_app: Any) -> None:
    """sendBeacon on pagehide: a form body with `leaving=1`, the same validation and conflict rules."""
    staff, sid = _setup(db_app)
    form = {**sheet_data(asis="autosave 1"), "base_version": "2"}
    assert staff.post(f"/sheets/{sid}/check", data=form).headers["X-Coach-Autosave"] == "saved"  # version 3
    stale = {**sheet_data(asis="autosave 1 と最後の一文字"), "base_version": "2"}
    assert staff.post(f"/sheets/{sid}/check", data=stale).status_code == 204  # a late autosave: dropped
    r = staff.post(f"/sheets/{sid}/check", files={k: (None, v) for k, v in {**stale, "leaving": "1"}.items()
                                                    if isinstance(v, str)} | {"problems": (None, "問題")})
    assert r.headers["X-Coach-Autosave"] == "saved", r.text
    assert db_app.state.services.repo.get(sid, 1).sheet.asis == "autosave 1 と最後の一文字"
    other = logged_in(db_app, "madoguchi2")  # someone else saves: the last word is a conflict, not a win
    assert other.post(f"/sheets/{sid}", data={**sheet_data(asis="別の人"), "op": "save"}).status_code == 200
    r = staff.post(f"/sheets/{sid}/check", data={**stale, "base_version": "3", "leaving": "1"})
    assert r.status_code == 409 and r.headers["X-Coach-Autosave"] == "conflict"
    assert db_app.state.services.repo.get(sid, 1).sheet.asis == "別の人"
    r = staff.post(f"/sheets/{sid}/check", data={**stale, "title": "x" * 101, "leaving": "1"})
    assert r.headers["X-Coach-Autosave"] == "invalid"


def test_move_without_javascript_keeps_the_rest_and_undo_restores_exactly(db_app: Any) -> None:
    staff, sid = _setup(db_app, tobe=TOBE, margin="前からあるメモ")
    r = staff.post(f"/sheets/{sid}", data={**sheet_data(tobe=TOBE, margin="前からあるメモ"), "op": "move:tobe:"},
                   follow_redirects=False)
    assert re.search(r"\?moved=\d+$", r.headers["location"])
    page = _soup(staff.get(r.headers["location"]))
    tobe, margin = page.select_one("#f-tobe").text, page.select_one("#f-margin").text
    assert tobe.startswith("住民が迷わずに手続きを終えて") and tobe.endswith("。") and "タブレット" not in tobe
    assert margin.startswith("前からあるメモ\n") and "タブレット" in margin
    undo = page.select_one("#flash button[name=op]")
    assert undo is not None and undo.text == "元に戻す" and undo["value"].startswith("undo:")
    form = {**sheet_data(tobe=tobe, margin=margin), "op": undo["value"]}
    r = staff.post(f"/sheets/{sid}", data=form, follow_redirects=False)
    assert r.headers["location"].endswith("?undone=1")
    stored = db_app.state.services.repo.get(sid, 1).sheet
    assert (stored.tobe, stored.margin) == (TOBE, "前からあるメモ")
    assert _kinds(db_app, sid)[-2:] == ["move", "undo"]


def test_undo_refuses_when_the_moved_text_was_edited_since(db_app: Any) -> None:
    staff, sid = _setup(db_app, tobe=TOBE, margin="")
    r = staff.post(f"/sheets/{sid}", data={**sheet_data(tobe=TOBE, margin=""), "op": "move:tobe:"},
                   follow_redirects=False)
    number = r.headers["location"].rsplit("=", 1)[1]
    moved = db_app.state.services.repo.get(sid, 1).sheet
    form = {**sheet_data(tobe=moved.tobe, margin=moved.margin + "\n書き足した"), "op": f"undo:{number}"}
    r = staff.post(f"/sheets/{sid}", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 409 and "欄外メモが書き換えられている" in _soup(r).select_one("#flash").text
    assert db_app.state.services.repo.get(sid, 1).sheet.margin == moved.margin  # nothing written
    r = staff.post(f"/sheets/{sid}", data={**form, "op": "undo:1"}, headers={"HX-Request": "true"})
    assert r.status_code == 409 and "見つかりません" in _soup(r).select_one("#flash").text


def test_reimporting_a_just_exported_file_changes_nothing(db_app: Any) -> None:
    staff, sid = _setup(db_app, margin="一行目\r\n二行目\r\n", tasks=["手順を洗い出す ", "二つの\n作業を分ける"])
    staff.post(f"/sheets/{sid}", data={**sheet_data(margin="一行目\r\n二行目\r\n",
                                                    tasks=["手順を洗い出す ", "二つの\n作業を分ける"]), "op": "submit"})
    dx = logged_in(db_app, "dxteam", "dx", None)
    for name in ("sheets.xlsx", "sheets.csv"):
        body = dx.get(f"/export/{name}").content
        page = _soup(dx.post("/import", files={"file": (name, body, "application/octet-stream")}))
        assert page.select("tr.imp-same") and not page.select("tr.imp-update"), (name, page.text[:2000])


def test_a_brand_new_sheet_opens_neutral_and_shows_findings_after_a_save(db_app: Any) -> None:
    staff = logged_in(db_app, "madoguchi")
    r = staff.post("/sheets", data={"title": "新しい案件"}, follow_redirects=False)
    page = _soup(staff.get(r.headers["location"]))
    assert page.select(".finding") == [] and page.select(".pill-error") == [] and page.select("#f-asis")
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    empty = {**sheet_data(asis="", tobe="", purpose="", problems=[], tasks=[], margin=""), "op": "save"}
    r = staff.post(f"/sheets/{sid}", data=empty, follow_redirects=False)
    page = _soup(staff.get(r.headers["location"]))
    assert page.select("#fb-asis .finding[data-code=FIELD_EMPTY]")  # after a save they are shown
