"""Issue #11 item 12: the sheet list's search (title, section, the latest version's text) and state
filter, as bookmarkable GET parameters, paged, in SQL; wrong parameters give the page with a Japanese
reason, never a 500. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup

from coach.workspace.search import PAGE_SIZE
from tests.conftest import logged_in, make_sheet

A, B = "住民窓口係", "税務係"


def _titles(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [a.get_text(strip=True) for a in page.select(".search-results .sheet-list li > a")]


def _world(db_app: Any) -> dict[str, int]:
    services = db_app.state.services
    org = services.organisation_id
    ids = {}
    for section, title, asis, status in [
        (A, "転入届の受付", "窓口で紙の申請書を書いてもらっている。", "draft"),
        (A, "証明書の郵送請求", "郵送で届いた請求を手で台帳に書き写している。", "submitted"),
        (B, "固定資産税の問い合わせ", "電話の問い合わせが1日40件あり、窓口が止まる。", "submitted"),
        (B, "課税台帳の下書き", "台帳の照合を紙で行っている。", "draft"),
    ]:
        stored = services.repo.create(org, make_sheet(section=section, title=title, asis=asis))
        ids[title] = services.repo.set_status(stored.id, org, status).id
    # the text searched is the latest version's: an old word no longer matches
    first = services.repo.get(ids["転入届の受付"], org)
    services.repo.save(first.id, org, first.sheet.model_copy(update={"asis": "窓口で申請書を書かずに済む日を待つ。"}))
    return ids


def test_search_matches_title_section_and_latest_text_within_what_the_caller_may_read(db_app: Any) -> None:
    _world(db_app)
    staff = logged_in(db_app, "madoguchi", "staff", A)
    assert _titles(staff.get("/", params={"q": "台帳"}).text) == ["証明書の郵送請求"]  # B's draft is not readable
    assert set(_titles(staff.get("/", params={"q": "税務係"}).text)) == {"固定資産税の問い合わせ"}
    assert _titles(staff.get("/", params={"q": "紙の申請書"}).text) == []  # only in an older version
    assert _titles(staff.get("/", params={"q": "申請書 窓口"}).text) == ["転入届の受付"]  # every word must match
    dx = logged_in(db_app, "dx-team", "dx", None)
    assert set(_titles(dx.get("/?q=台帳").text)) == {"証明書の郵送請求", "課税台帳の下書き"}
    assert _titles(dx.get("/?q=100%25").text) == []  # LIKE wildcards are plain characters


def test_state_filter_and_the_count(db_app: Any) -> None:
    _world(db_app)
    dx = logged_in(db_app, "dx-team", "dx", None)
    r = dx.get("/", params={"state": "draft"})
    assert r.status_code == 200
    assert set(_titles(r.text)) == {"転入届の受付", "課税台帳の下書き"}
    assert "検索結果 2 件" in r.text
    assert set(_titles(dx.get("/?state=submitted&q=係").text)) == {"証明書の郵送請求", "固定資産税の問い合わせ"}
    page = BeautifulSoup(r.text, "html.parser")
    assert page.select_one("#search-state option[selected]")["value"] == "draft"  # type: ignore[index]


def test_results_are_paged(db_app: Any) -> None:
    services = db_app.state.services
    org = services.organisation_id
    for n in range(PAGE_SIZE + 3):
        services.repo.create(org, make_sheet(section=A, title=f"ページ送りの確認{n:03d}"))
    staff = logged_in(db_app, "madoguchi", "staff", A)
    first = staff.get("/?q=ページ送り")
    assert len(_titles(first.text)) == PAGE_SIZE
    nxt = BeautifulSoup(first.text, "html.parser").select_one(".pager a[rel=next]")
    assert nxt is not None
    second = staff.get(str(nxt["href"]))
    assert len(_titles(second.text)) == 3
    assert not set(_titles(first.text)) & set(_titles(second.text))


def test_wrong_parameters_give_the_page_with_a_japanese_reason(db_app: Any) -> None:
    staff = logged_in(db_app, "madoguchi", "staff", A)
    for params, words in [({"state": "たくさん"}, "状態は"), ({"page": "0"}, "ページは"), ({"page": "x" * 30}, "ページは"),
                          ({"q": "あ" * 101}, "100文字以内"), ({"page": "99999999999999999999"}, "ページは")]:
        r = staff.get("/", params=params)
        assert r.status_code == 422, params
        alert = BeautifulSoup(r.text, "html.parser").select_one("#search-error")
        assert alert is not None and words in alert.get_text(), params
