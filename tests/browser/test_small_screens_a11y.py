"""Issue #11 item 13 in a real browser: a phone's 390 px, keyboards and screen readers.

axe-core (tests/browser/vendor/axe.min.js, vendored for the tests only; see README) checks the main
pages; the rest measures what a person would see. Every wait is for a condition, never for time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import SHOTS, http_login, open_as
from tests.conftest import sheet_data

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE, DESK = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def sid(server: str) -> int:
    """A submitted sheet with a stage and an outcome, so the queue, review page and log have content."""
    data = sheet_data(title="住民票の写しの郵送請求", purpose="効率化のため")
    sheet_id = int(httpx.post(server + "/api/v1/sheets", json=data).json()["id"])
    author = http_login(server, "madoguchi")
    assert author.post(f"/sheets/{sheet_id}", data={**data, "op": "submit", "hearing": "1"}).status_code == 303
    author.close()
    return sheet_id


def _axe(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now."""
    page.add_script_tag(path=str(AXE))
    page.wait_for_function("() => typeof window.axe !== 'undefined'")
    result = page.evaluate("async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result if v["impact"] in ("serious", "critical")]


def _pages(sid: int) -> list[tuple[str, str, str]]:
    """(login, path, name) of the main pages."""
    return [("madoguchi", "/", "list"), ("madoguchi", f"/sheets/{sid}", "editor"),
            ("madoguchi", f"/sheets/{sid}/history", "history"), ("dxteam", "/review", "queue"),
            ("dxteam", f"/review/{sid}", "review"), ("dxteam", "/overview", "overview"),
            ("dxteam", "/review/log", "log"), ("dxteam", "/?state=submitted", "search")]


def test_main_pages_have_no_serious_accessibility_violations(server: str, browser: Any, sid: int) -> None:
    context = browser.new_context(viewport=DESK, locale="ja-JP")
    login = context.new_page()
    login.goto(server + "/login")
    assert _axe(login) == [], "login"
    context.close()
    for who, path, name in _pages(sid):
        page = open_as(browser, server, who, path)
        assert _axe(page) == [], name
        page.context.close()


def _overflow(page: Any) -> int:
    """How far the page scrolls sideways (0 on a page that fits the screen)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_at_390_px_the_pages_fit_and_the_header_reads_in_words(server: str, browser: Any, sid: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for who, path, name in _pages(sid):
        page = open_as(browser, server, who, path)
        for size, tag in ((PHONE, "390"), (DESK, "1280")):
            page.set_viewport_size(size)
            page.wait_for_function(f"() => document.documentElement.clientWidth === {size['width']}")
            page.screenshot(path=str(SHOTS / f"a11y-{name}-{tag}.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.wait_for_function("() => document.documentElement.clientWidth === 390")
        assert _overflow(page) == 0, name
        # a header link is one line: no box taller than two lines of its text
        tall = page.evaluate("""() => [...document.querySelectorAll('.topbar a, .topbar button, .tabs a, .pill')]
            .filter(a => a.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(a).lineHeight || 20))
            .map(a => a.textContent.trim())""")
        assert tall == [], (name, tall)
        page.context.close()


def test_at_390_px_the_editor_has_no_gap_and_the_queue_is_cards(server: str, browser: Any, sid: int) -> None:
    page = open_as(browser, server, "madoguchi", f"/sheets/{sid}")
    page.set_viewport_size(PHONE)
    page.wait_for_function("() => document.documentElement.clientWidth === 390")
    # between one box and the next on the way down (the names, then the form's blocks): no empty band
    gaps = page.evaluate("""() => {
        const out = [];
        for (const parent of ['.names', '#sheet-form', '.sheet-and-margin', '.sheet']) {
            const kids = [...document.querySelector(parent).children]
                .filter(k => k.getBoundingClientRect().height > 0 && getComputedStyle(k).position !== 'absolute');
            for (let i = 1; i < kids.length; i++) {
                const gap = kids[i].getBoundingClientRect().top - kids[i - 1].getBoundingClientRect().bottom;
                out.push([parent + ' ' + kids[i].className, Math.round(gap)]);
            }
        }
        // and no box much taller than what it holds (a flex-basis turned into a height)
        for (const box of document.querySelectorAll('.name-field')) {
            const kids = [...box.children].filter(k => k.getBoundingClientRect().height > 0);
            const used = kids[kids.length - 1].getBoundingClientRect().bottom - kids[0].getBoundingClientRect().top;
            out.push(['inside ' + box.className, Math.round(box.getBoundingClientRect().height - used)]);
        }
        return out; }""")
    assert gaps and all(gap < 60 for _, gap in gaps), gaps
    page.context.close()

    queue = open_as(browser, server, "dxteam", "/review")
    queue.set_viewport_size(PHONE)
    queue.wait_for_function("() => document.documentElement.clientWidth === 390")
    cell = queue.locator(f".queue tr[data-sheet='{sid}'] td").nth(1)
    assert cell.bounding_box()["width"] > 250  # the title reads across the card, not one character wide
    queue.context.close()


def test_rows_added_by_script_are_named_by_their_place(server: str, browser: Any, sid: int) -> None:
    data = sheet_data(title="行の名前", problems=["一つ目の問題"])
    new = int(httpx.post(server + "/api/v1/sheets", json=data).json()["id"])
    page = open_as(browser, server, "madoguchi", f"/sheets/{new}")
    assert page.locator("h1").count() == 1 and "行の名前" in page.locator("h1").inner_text()
    add = page.locator("[data-add-row='rows-problems']")
    add.click()
    add.click()
    rows = page.locator("#rows-problems textarea")
    rows.nth(2).wait_for()
    assert [rows.nth(i).get_attribute("aria-label") for i in range(3)] == ["問題 1", "問題 2", "問題 3"]
    removes = page.locator("#rows-problems [data-remove-row]")
    assert removes.nth(2).get_attribute("aria-label") == "問題 3 を削除"
    page.context.close()


def test_a_text_box_shows_a_clear_focus_ring_and_keeps_focus_after_the_swap(server: str, browser: Any) -> None:
    data = sheet_data(title="フォーカスの確認")
    new = int(httpx.post(server + "/api/v1/sheets", json=data).json()["id"])
    page = open_as(browser, server, "madoguchi", f"/sheets/{new}")
    page.focus("#f-asis")
    page.keyboard.press("Control+End")
    ring = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }""")
    assert ring[0] != "none" and ring[1] >= 2.5, ring
    assert ring[2] in ("rgb(154, 91, 19)",), ring  # the accent colour: 5.4:1 on the page background
    with page.expect_response(lambda r: r.url.endswith(f"/sheets/{new}/check")) as answer:
        page.keyboard.type("毎朝")
    assert answer.value.ok
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "f-asis"
    page.keyboard.type("確認")
    assert page.input_value("#f-asis").endswith("毎朝確認")
    page.context.close()
