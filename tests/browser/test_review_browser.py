"""The DX team's review in a real browser: return a sheet with a comment; the author sees it."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import SHOTS, http_login, open_as
from tests.conftest import sheet_data

pytestmark = pytest.mark.browser


def test_reviewer_returns_a_sheet_with_a_comment_and_the_author_sees_it(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    data = sheet_data(title="住民票の写しの郵送請求", purpose="効率化のため")
    sid = httpx.post(server + "/api/v1/sheets", json=data).json()["id"]
    author = http_login(server, "madoguchi")
    assert author.post(f"/sheets/{sid}", data={**data, "op": "submit", "hearing": "1"}).status_code == 303
    author.close()

    reviewer = open_as(browser, server, "dxteam", "/review")
    row = reviewer.locator(f".queue tr[data-sheet='{sid}']")
    assert "flagged" in (row.get_attribute("class") or "")
    assert "ヒアリング希望" in row.inner_text() and "確認 1" in row.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    reviewer.screenshot(path=str(SHOTS / "review-queue.png"), full_page=True)
    row.locator("a").click()
    reviewer.wait_for_url(f"**/review/{sid}")

    finding = reviewer.locator("#rv-purpose .finding[data-code=PURPOSE_MISSING]")
    finding.locator("button[value=confirmed]").click()
    reviewer.wait_for_url(f"**/review/{sid}?done=judged*")
    assert "指摘どおり" in reviewer.locator("#rv-purpose .finding .verdict").inner_text()

    reviewer.select_option("#c-field", "purpose")
    reviewer.fill("#c-body", "この理想が実現すると、転入してきた住民にとって何が良くなりますか？")
    reviewer.click("#comments button[type=submit]")
    reviewer.wait_for_url(f"**/review/{sid}?done=commented*")
    reviewer.fill("#d-note", "目的をもう一度考えてみてください。")
    reviewer.screenshot(path=str(SHOTS / "review-page.png"), full_page=True)
    reviewer.click(".decision button[value=return]")
    reviewer.wait_for_url(f"**/review/{sid}?done=return*")
    assert "差し戻し" in reviewer.locator(".rv-state").inner_text()
    log = reviewer.locator("#log").inner_text()
    assert "差し戻し" in log and "コメント" in log and "指摘を確認" in log
    reviewer.context.close()

    page = open_as(browser, server, "madoguchi", f"/sheets/{sid}")
    note = page.locator(".review-note.returned")
    assert "差し戻されました" in note.inner_text() and "目的をもう一度考えて" in note.inner_text()
    comment = page.locator(".field-purpose .review-comment")
    assert "転入してきた住民にとって何が良くなりますか" in comment.inner_text()
    assert "佐藤 美咲" in comment.inner_text()
    page.screenshot(path=str(SHOTS / "editor-returned.png"), full_page=True)
    page.context.close()
