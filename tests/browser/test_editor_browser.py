"""A real person's path in Debian's headless chromium: type, see coaching appear, move a solution out.

The server is a real uvicorn process on 127.0.0.1 with its own data directory; playwright only
drives /usr/bin/chromium (it never downloads a browser).
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, http_login, open_as
from tests.conftest import sheet_data

pytestmark = pytest.mark.browser

def test_type_see_a_finding_then_move_the_solution_to_the_margin(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    data = sheet_data(margin="")
    sid = httpx.post(server + "/api/v1/sheets", json=data).json()["id"]
    page = open_as(browser, server, "madoguchi", f"/sheets/{sid}")
    page.wait_for_selector("#fb-summary")
    assert page.locator(".finding").count() == 0

    # Type a tool into the ToBe the way a person does: key by key, then pause.
    page.fill("#f-tobe", "")
    page.locator("#f-tobe").press_sequentially("住民が迷わない。RPAで入力が自動化されている。", delay=15)
    finding = page.locator("#fb-tobe .finding[data-code=SOLUTION_IN_SHEET]")
    finding.wait_for(timeout=10_000)
    assert "RPAで入力が自動化されている" in finding.locator("mark").inner_text()
    assert "欄外メモ" in finding.inner_text()
    page.wait_for_function("document.querySelector('#fb-status').textContent.includes('自動保存')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-finding.png"), full_page=True)

    # The draft is already stored, before any explicit save.
    assert "RPA" in httpx.get(f"{server}/api/v1/sheets/{sid}").json()["tobe"]

    finding.locator("button.move").click()
    # The answer is the feedback and the new values, never a new form (issue #11 items 7 and 10):
    # wait for each condition, whatever the order the browser settles them in.
    expect(page.locator("#f-margin")).to_have_value("RPAで入力が自動化されている")
    expect(page.locator("#f-tobe")).to_have_value("住民が迷わない。")
    expect(page.locator("#fb-tobe .finding")).to_have_count(0)
    assert page.url.endswith(f"/sheets/{sid}")  # htmx swapped the form in place
    stored = httpx.get(f"{server}/api/v1/sheets/{sid}").json()
    assert stored["margin"] == "RPAで入力が自動化されている" and stored["tobe"] == "住民が迷わない。"
    page.screenshot(path=str(SHOTS / "editor-moved.png"), full_page=True)
    page.close()


def test_add_a_task_row_and_get_feedback_on_it(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    sid = httpx.post(server + "/api/v1/sheets", json=sheet_data()).json()["id"]
    page = open_as(browser, server, "madoguchi", f"/sheets/{sid}")
    rows = page.locator("#rows-tasks textarea")
    before = rows.count()
    page.click("[data-add-row=rows-tasks]")
    expect(rows).to_have_count(before + 1)
    rows.nth(before).press_sequentially("職員の負担が大きい", delay=15)
    page.locator("#fb-tasks .finding[data-code=TASK_NOT_ACTIONABLE]").wait_for(timeout=10_000)
    page.close()


def test_similar_panel_follows_typing_and_opens_read_only(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    other = sheet_data(section="税務係", title="申告期の電話",
                       asis="申告の時期は問い合わせの電話がひっきりなしにかかり、受話器を取り続けている。")
    oid = httpx.post(server + "/api/v1/sheets", json=other).json()["id"]
    zeimu = http_login(server, "zeimu")  # 税務係 submits their sheet
    assert zeimu.post(f"/sheets/{oid}", data={**other, "op": "submit"}).status_code == 303
    zeimu.close()
    mine = sheet_data(section="環境衛生係", title="ごみの出し方", asis="収集日を紙で配っている。", margin="")
    sid = httpx.post(server + "/api/v1/sheets", json=mine).json()["id"]
    page = open_as(browser, server, "kankyo", f"/sheets/{sid}")
    page.locator("#f-asis").press_sequentially("ごみの分別の問い合わせ電話が1日15件あり、電話対応で手が止まる。", delay=10)
    item = page.locator(f"#similar .similar-item[data-id='{oid}']")
    # The panel was there at load (from the saved text); wait for it to follow what was typed.
    page.wait_for_function(
        f"(document.querySelector(\"#similar .similar-item[data-id='{oid}'] .why\") || {{}}).textContent"
        "?.includes('問い合わせ対応の負担')", timeout=10_000)
    page.screenshot(path=str(SHOTS / "editor-similar.png"), full_page=True)
    item.locator("a").click()
    page.wait_for_url(f"**/sheets/{oid}/view")
    assert page.locator("textarea").count() == 0 and "受話器" in page.inner_text("main")
    page.close()
