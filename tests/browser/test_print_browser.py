"""The print view in chromium's own PDF printer: one sheet, one A4 page, nothing cut off."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import SHOTS, open_as
from tests.conftest import sheet_data

pytestmark = pytest.mark.browser


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def long_sheet(chars: int) -> dict:
    unit = "窓口で受け付けた申請書を職員が確認し、不足があれば住民に電話で連絡している。"
    text = (unit * (chars // len(unit) + 1))[:chars]
    fifth = chars // 5
    return sheet_data(asis=text[:fifth], tobe=text[:fifth], purpose=text[: fifth // 2],
                      problems=[text[:fifth // 4]] * 4, tasks=[text[:fifth // 4]] * 4, margin="")


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("typical", sheet_data(), 1),
    ("long", long_sheet(2600), 1),
    ("too-long", long_sheet(6000), 2),
])
def test_print_view_fits_one_a4_page(server: str, browser, name: str, data: dict, expected: int) -> None:  # type: ignore[no-untyped-def]
    sid = httpx.post(server + "/api/v1/sheets", json=data).json()["id"]
    page = open_as(browser, server, "madoguchi", f"/print/{sid}")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    clipped = page.evaluate("[...document.querySelectorAll('.box, .margin')]"
                            ".filter(e => e.scrollHeight > e.clientHeight + 1).length")
    assert clipped == 0  # no box hides part of its text
    assert pages(pdf) >= expected if expected > 1 else pages(pdf) == 1
    if expected > 1:  # nothing is cut off: the last task is on paper
        assert page.locator(".tasks li").last.is_visible()
        assert "2枚以上" in page.locator(".print-tools").inner_text()
    page.emulate_media(media="screen")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"print-{name}.png"), full_page=True)
    page.context.close()
