"""The DX team imports a town's real Excel in a browser: the preview explains each row (merged 係名
filled, a formula with no saved result, what an update changes), and new sheets arrive as drafts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import SHOTS, http_login, open_as
from tests.conftest import sheet_data
from tests.workspace.excel_files import good, workbook

pytestmark = pytest.mark.browser


def the_towns_excel(sid: int, prefix: str, d: dict[str, Any]) -> bytes:
    rows = [
        good(**{"ID": f"{prefix}1", "業務・案件名": "転出", "問題": "1. 窓口が多い\n2. 3月に混む"}),
        good(**{"ID": f"{prefix}2", "係名": "", "業務・案件名": "転居", "課題": "・手続きを洗い出す\n・10分短くする"}),
        good(**{"ID": f"{prefix}3", "係名": "税務係", "業務・案件名": "申告", "あるべき姿": "=D4&\"になる\""}),
        [str(sid), d["section"], d["title"], d["asis"], "転入した住民が、1か所の窓口で20分で手続きを終えている。",
         d["purpose"], "\n".join(d["problems"]), "① 手続きを洗い出す\n② 処理時間を3月に計測する", d["margin"]],
    ]
    return workbook(rows, merges=("B2:B3",))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_preview_explains_each_row_and_imports_drafts(server: str, browser: Any, width: int,
                                                          tmp_path: Any) -> None:
    data = sheet_data(title=f"転入手続き（{width}）")
    sid = httpx.post(server + "/api/v1/sheets", json=data).json()["id"]
    author = http_login(server, "madoguchi")
    assert author.post(f"/sheets/{sid}", data={**data, "op": "submit"}).status_code == 303
    author.close()
    upload = tmp_path / "台帳.xlsx"
    upload.write_bytes(the_towns_excel(sid, f"W{width}-", data))

    page = open_as(browser, server, "dxteam", "/import")
    page.set_viewport_size({"width": width, "height": 900})
    page.set_input_files("#file", str(upload))
    page.click("form[action='/import'] button[type=submit]")
    page.locator(".import-preview").wait_for()
    rows = page.locator(".import-preview tbody tr")
    assert [rows.nth(i).get_attribute("class") for i in range(4)] == ["imp-new", "imp-new", "imp-error", "imp-update"]
    assert "住民窓口係" in rows.nth(1).inner_text()  # the merged 係名 cell
    assert "あるべき姿（E列）" in rows.nth(2).inner_text()
    assert "変更：あるべき姿、課題" in rows.nth(3).inner_text()
    assert page.locator("input[name=status][value=draft]").is_checked()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"import-preview-{width}.png"), full_page=True)

    page.click(".import-preview form button[type=submit]")
    page.wait_for_url("**/import?created=*")
    assert "2 枚を新しく取り込み（下書き）、1 枚を更新しました" in page.locator(".flash").inner_text()
    page.context.close()
