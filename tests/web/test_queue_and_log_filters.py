"""Issue #11 item 12: the review queue's filters and sort, 操作の記録 by person, kind and date (paged,
in SQL), and the section's history with who saved each version and a diff. GET parameters only, so
every view can be bookmarked; wrong parameters give the page with a Japanese reason, never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.workspace.audit_events import AccountCreated, FileImported
from coach.workspace.audit_search import PAGE_SIZE
from tests.conftest import logged_in, section_staff, sheet_data
from tests.web.test_review import CLEAN, ERRORS, submit

A, B = "住民窓口係", "税務係"


def soup(r: Any) -> BeautifulSoup:
    return BeautifulSoup(r.text, "html.parser")


def _queue_ids(dx: TestClient, **params: str) -> list[int]:
    r = dx.get("/review", params=params)
    assert r.status_code == 200, r.text
    return [int(str(tr["data-sheet"])) for tr in soup(r).select(".queue tbody tr")]


def test_queue_filters_by_section_stage_theme_flag_and_hearing(client: TestClient) -> None:
    a, b = section_staff(client.app, A), section_staff(client.app, B)
    dx = logged_in(client.app, "dx-team", "dx", None)
    clean = submit(a, CLEAN)
    errors = submit(a, ERRORS)
    hearing = submit(b, {**CLEAN, "section": B, "title": "ヒアリングしたい"}, hearing=True)
    services = client.app.state.services
    org = services.organisation_id
    dx_account = services.accounts.by_login("dx-team")
    services.cycle.move(dx_account, clean, "壁打ち", date.today())
    ai = next(t.id for t in services.cycle.themes(org) if t.name == "AI活用")
    services.cycle.set_sheet_themes(dx_account, hearing, [ai])
    assert _queue_ids(dx, section=B) == [hearing]
    assert set(_queue_ids(dx, section=A)) == {clean, errors}
    assert _queue_ids(dx, stage="壁打ち") == [clean]
    assert _queue_ids(dx, theme="AI活用") == [hearing]
    assert _queue_ids(dx, flag="errors") == [errors]
    assert _queue_ids(dx, hearing="yes") == [hearing]
    assert set(_queue_ids(dx, hearing="no")) == {clean, errors}
    assert _queue_ids(dx, sort="oldest") == [clean, errors, hearing]
    assert _queue_ids(dx, sort="newest") == [hearing, errors, clean]
    assert _queue_ids(dx, sort="errors")[0] == errors
    page = soup(dx.get("/review", params={"section": A}))  # the tabs keep the filter; the counts follow it
    tab = page.select_one('.tabs a[href*="state=all"]')
    assert tab is not None and "section=" in str(tab["href"])
    assert "2" in page.select_one(".tabs a.current .count").get_text()  # type: ignore[union-attr]
    assert org


def test_queue_says_what_is_wrong_with_a_parameter(client: TestClient) -> None:
    a = section_staff(client.app, A)
    dx = logged_in(client.app, "dx-team", "dx", None)
    sid = submit(a, CLEAN)
    for params, words in [({"section": "存在しない係"}, "その係はありません"), ({"stage": "x"}, "段階を"),
                          ({"sort": "random"}, "並べ方を"), ({"hearing": "maybe"}, "ヒアリング希望は"),
                          ({"state": "たくさん"}, "状態は"), ({"theme": "ない" * 200}, "そのテーマはありません")]:
        r = dx.get("/review", params=params)
        assert r.status_code == 422, params
        alert = soup(r).select_one("#filter-error")
        assert alert is not None and words in alert.get_text(), params
        assert sid in [int(str(tr["data-sheet"])) for tr in soup(r).select(".queue tbody tr")]


def _log_rows(r: Any) -> list[list[str]]:
    return [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in soup(r).select(".audit tbody tr")]


def test_the_log_filters_by_person_kind_and_day_and_is_paged(db_app: Any) -> None:
    services = db_app.state.services
    dx = logged_in(db_app, "dx-team", "dx", None)
    ann = services.accounts.by_login("dx-team")
    other = logged_in(db_app, "dx-two", "dx", None)
    bob = services.accounts.by_login("dx-two")
    for n in range(PAGE_SIZE + 5):
        services.reviews.audit(ann, None, AccountCreated(created=f"user{n}", role="staff"))
    services.reviews.audit(bob, None, FileImported(file="a.xlsx", created=1, updated=0, status="draft"))
    first = dx.get("/review/log")
    assert len(_log_rows(first)) == PAGE_SIZE
    nxt = soup(first).select_one(".pager a[rel=next]")
    assert nxt is not None
    assert len(_log_rows(dx.get(str(nxt["href"])))) == 6
    only_bob = _log_rows(dx.get("/review/log", params={"person": "dx-two"}))
    assert len(only_bob) == 1 and "dx-two" in only_bob[0][1]
    assert len(_log_rows(dx.get("/review/log", params={"kind": "import"}))) == 1
    today = date.today().isoformat()
    assert len(_log_rows(dx.get("/review/log", params={"since": today, "kind": "account"}))) == PAGE_SIZE
    past = (date.today() - timedelta(days=30)).isoformat()
    r = dx.get("/review/log", params={"until": past})
    assert _log_rows(r) == [] and "条件に合う記録はありません" in r.text
    assert other  # the second person logged in through the form


def test_the_log_says_what_is_wrong_with_a_parameter(db_app: Any) -> None:
    dx = logged_in(db_app, "dx-team", "dx", None)
    for params, words in [({"person": "nobody"}, "その人の記録はありません"), ({"kind": "explode"}, "操作の種類"),
                          ({"since": "2026-13-40"}, "いつから"), ({"since": "2026-05-02", "until": "2026-05-01"}, "いつまで"),
                          ({"page": "-1"}, "ページは"), ({"until": "x" * 5000}, "いつまで")]:
        r = dx.get("/review/log", params=params)
        assert r.status_code == 422, params
        alert = soup(r).select_one("#filter-error")
        assert alert is not None and words in alert.get_text(), params


def test_history_shows_who_saved_each_version_and_a_diff(client: TestClient) -> None:
    staff = logged_in(client.app, "madoguchi", "staff", A)
    data = sheet_data(title="転入の受付")
    sid = staff.post("/api/v1/sheets", json=data).json()["id"]
    services = client.app.state.services
    org = services.organisation_id
    stored = services.repo.get(sid, org)
    writer = services.accounts.by_login("madoguchi")
    services.repo.save(sid, org, stored.sheet.model_copy(update={"asis": "窓口で紙の申請書を3枚書いてもらう。"}),
                       author_id=writer.id)
    page = soup(staff.get(f"/sheets/{sid}/history"))
    authors = [td.get_text(strip=True) for td in page.select("td.author")]
    assert authors[0] == "madoguchiさん"  # the latest version, saved by this person
    ins = " ".join(i.get_text() for i in page.select("#diff ins"))
    assert "紙の申請書を3枚" in ins or "3枚" in ins
    r = staff.get(f"/sheets/{sid}/history", params={"from": 1, "to": 9})
    assert r.status_code == 422 and "第1版〜第2版" in r.text
