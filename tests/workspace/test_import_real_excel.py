"""Importing the Excel a town really has: formulas (cached values), merged 係名 cells, numbered and
bulleted list cells, the state imported sheets get, and what an update changes (issue #11, item 11)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.workspace import exchange
from tests.conftest import sheet_data
from tests.workspace.excel_files import HEADERS, good, workbook


def preview(dx: TestClient, data: bytes, name: str = "台帳.xlsx") -> tuple[int, BeautifulSoup]:
    r = dx.post("/import", files={"file": (name, data, "application/octet-stream")})
    assert r.status_code < 500, r.text[:300]
    return r.status_code, BeautifulSoup(r.text, "html.parser")


def row_of(page: BeautifulSoup, line: int) -> BeautifulSoup:
    for tr in page.select(".import-preview tbody tr"):
        if tr.select_one("td").text.strip() == str(line):  # type: ignore[union-attr]
            return tr
    raise AssertionError(f"no preview row for line {line}")


def token_of(page: BeautifulSoup) -> str:
    form = page.select_one(".import-preview form")
    assert form is not None
    return str(form["action"]).rsplit("/", 1)[-1]


# -- formulas -------------------------------------------------------------------------------------

def test_formula_cells_bring_the_value_excel_saved_with_them(dx: TestClient) -> None:
    data = workbook([good(**{"係名": "=係一覧!A2", "業務・案件名": '="転入"&"届"', "目的": "=1+1"})],
                    cached={"B2": ("str", "税務係"), "C2": ("str", "転入届"), "F2": ("n", "2")})
    headers, rows = exchange.read_table("台帳.xlsx", data)
    sheet = exchange.parse(headers, rows)[0].sheet
    assert sheet is not None and (sheet.section, sheet.title, sheet.purpose) == ("税務係", "転入届", "2")


def test_a_formula_without_a_saved_value_is_an_error_on_its_row_naming_the_column(dx: TestClient) -> None:
    data = workbook([good(), good(**{"あるべき姿": "=D3&\"になる\"", "欄外メモ": "=A1"}), good()])
    status, page = preview(dx, data)
    assert status == 200
    assert [tr["class"][0] for tr in page.select(".import-preview tbody tr")] == ["imp-new", "imp-error", "imp-new"]
    reasons = [li.text for li in row_of(page, 3).select(".row-errors li")]
    assert any(r.startswith("あるべき姿（E列）：") and "数式" in r and "保存" in r for r in reasons), reasons
    assert any(r.startswith("欄外メモ（I列）：") for r in reasons), reasons
    assert not any("空にはできません" in r for r in reasons), reasons  # the formula is the reason, once


def test_a_formula_whose_saved_result_is_an_error_is_not_imported_as_text(dx: TestClient) -> None:
    data = workbook([good(**{"現状": "=VLOOKUP(A2,台帳!A:B,2,FALSE)"})], cached={"D2": ("e", "#N/A")})
    _, page = preview(dx, data)
    reasons = [li.text for li in row_of(page, 2).select(".row-errors li")]
    assert any(r.startswith("現状（D列）：") and "#N/A" in r for r in reasons), reasons


def test_a_formula_that_saved_an_empty_text_is_just_empty(dx: TestClient) -> None:
    data = workbook([good(**{"欄外メモ": '=IF(A2="","",A2)'})], cached={"I2": ("str", "")})
    _, page = preview(dx, data)
    assert row_of(page, 2)["class"][0] == "imp-new"


# -- merged cells ---------------------------------------------------------------------------------

def test_a_merged_section_cell_applies_to_every_row_it_spans() -> None:
    rows = [good(**{"業務・案件名": "転入"}), good(**{"係名": "", "業務・案件名": "転出"}),
            good(**{"係名": "", "業務・案件名": "転居"}), good(**{"係名": "税務係", "業務・案件名": "申告"})]
    headers, table = exchange.read_table("台帳.xlsx", workbook(rows, merges=("B2:B4",)))
    parsed = exchange.parse(headers, table)
    assert [r.action for r in parsed] == ["new"] * 4, [r.errors for r in parsed]
    assert [r.sheet.section for r in parsed if r.sheet] == ["住民窓口係"] * 3 + ["税務係"]


def test_a_merged_range_over_rows_with_nothing_else_adds_no_rows() -> None:
    """A template often merges 係名 over blank rows kept for later: those stay blank, not errors."""
    headers, table = exchange.read_table("台帳.xlsx", workbook([good()], merges=("B2:B9", "H1:I1")))
    parsed = exchange.parse(headers, table)
    assert [r.line for r in parsed] == [2] and parsed[0].action == "new"


def test_merged_cells_through_the_preview(dx: TestClient) -> None:
    data = workbook([good(), good(**{"係名": "", "業務・案件名": "転出"})], merges=("B2:B3",))
    _, page = preview(dx, data)
    assert [tr["class"][0] for tr in page.select(".import-preview tbody tr")] == ["imp-new", "imp-new"]
    assert row_of(page, 3).select("td")[2].text == "住民窓口係"


# -- list cells -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "item"), [
    ("1. 窓口が多い", "窓口が多い"), ("1.窓口が多い", "窓口が多い"), ("１．窓口が多い", "窓口が多い"),
    ("12. 窓口が多い", "窓口が多い"), ("・窓口が多い", "窓口が多い"), ("･ 窓口が多い", "窓口が多い"),
    ("①窓口が多い", "窓口が多い"), ("⑳ 窓口が多い", "窓口が多い"), ("(1)窓口が多い", "窓口が多い"),
    ("（２） 窓口が多い", "窓口が多い"), ("1)窓口が多い", "窓口が多い"), ("3）窓口が多い", "窓口が多い"),
    ("■窓口が多い", "窓口が多い"), ("□ 窓口が多い", "窓口が多い"), ("●窓口が多い", "窓口が多い"),
    ("- 窓口が多い", "窓口が多い"), ("-窓口が多い", "窓口が多い"), ("－窓口が多い", "窓口が多い"),
    ("  ・ 窓口が多い", "窓口が多い"), ("⑴窓口が多い", "窓口が多い"),
])
def test_a_leading_list_marker_is_taken_off(line: str, item: str) -> None:
    parsed = exchange.parse(list(HEADERS), [good(**{"問題": line, "課題": f"{line}\n{line}"})])[0]
    assert parsed.sheet is not None, parsed.errors
    assert parsed.sheet.problems == [item] and parsed.sheet.tasks == [item, item]


@pytest.mark.parametrize("line", [
    "3月に窓口が混む", "1.5倍に増えた", "10分かかる", "2025年度から紙で受け付けている", "-5%の削減を目指す",
    "1日に3回集計する", "(株)委託先に頼んでいる", "（注）窓口は2か所", "3.11の経験を活かす", "1件40分",
    "・・・と言われる", "ー", "1、2回目の来庁",
])
def test_numbers_and_signs_that_are_content_stay(line: str) -> None:
    parsed = exchange.parse(list(HEADERS), [good(**{"課題": line})])[0]
    assert parsed.sheet is not None, parsed.errors
    assert parsed.sheet.tasks == [line]


def test_markers_in_a_numbered_cell_from_excel_leave_one_numbering() -> None:
    cell = "1. 手続きを洗い出す\n2. 処理時間を3月に計測する\n\n3. 10分短くする"
    headers, table = exchange.read_table("台帳.xlsx", workbook([good(**{"課題": cell})]))
    sheet = exchange.parse(headers, table)[0].sheet
    assert sheet is not None and sheet.tasks == ["手続きを洗い出す", "処理時間を3月に計測する", "10分短くする"]


# -- the state of imported sheets -----------------------------------------------------------------

def test_imported_sheets_are_drafts_unless_the_dx_team_chooses_submitted(dx: TestClient) -> None:
    repo = dx.app.state.services.repo  # type: ignore[attr-defined]
    _, page = preview(dx, workbook([good(ID="A-1")]))
    chosen = page.select_one(".import-preview input[name=status][checked]")
    assert chosen is not None and chosen["value"] == "draft"
    labels = [label.text for label in page.select(".import-preview fieldset label")]
    assert any("下書き" in t for t in labels) and any("提出済み" in t for t in labels)
    assert dx.post(f"/import/{token_of(page)}", follow_redirects=False).status_code == 303
    assert repo.find(1, "A-1").status == "draft"

    _, page = preview(dx, workbook([good(**{"ID": "B-1", "係名": "税務係"})]))
    done = dx.post(f"/import/{token_of(page)}", data={"status": "submitted"}, follow_redirects=False)
    assert done.status_code == 303 and repo.find(1, "B-1").status == "submitted"


def test_an_unknown_state_is_refused_in_japanese_and_the_preview_stays_usable(dx: TestClient) -> None:
    repo = dx.app.state.services.repo  # type: ignore[attr-defined]
    _, page = preview(dx, workbook([good(ID="A-1")]))
    bad = dx.post(f"/import/{token_of(page)}", data={"status": "accepted"})
    assert bad.status_code == 422 and "取り込んだシートの状態" in bad.text and "下書き" in bad.text
    assert repo.count() == 0
    assert dx.post(f"/import/{token_of(page)}", data={"status": "submitted"}, follow_redirects=False).status_code == 303


# -- what an update changes -----------------------------------------------------------------------

def test_the_preview_names_the_fields_an_update_changes(client: TestClient, dx: TestClient) -> None:
    sid = client.post("/api/v1/sheets", json={**sheet_data(), "problems": ["・窓口が多い"]}).json()["id"]
    client.app.state.services.repo.set_status(sid, 1, "submitted")  # type: ignore[attr-defined]
    export = dx.get("/export/sheets.xlsx").content
    _, page = preview(dx, export, "書き出し.xlsx")
    assert row_of(page, 2)["class"][0] == "imp-same"  # the marker taken off on import is no change either

    d = sheet_data()
    edited = [[str(sid), d["section"], d["title"], d["asis"], "窓口が1か所になっている", d["purpose"],
               "・窓口が多い", "1. 手続きを洗い出す\n2. 処理時間を3月に計測する\n3. 窓口を減らす", d["margin"]]]
    _, page = preview(dx, workbook(edited))
    tr = row_of(page, 2)
    assert tr["class"][0] == "imp-update"
    assert re.sub(r"\s+", "", tr.select_one(".changes").text) == "変更：あるべき姿、課題"  # type: ignore[union-attr]
