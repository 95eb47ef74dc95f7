"""Excel/CSV in and out: good files, broken rows, wrong columns, huge files, fakes; export → import round trip."""

from __future__ import annotations

import io
import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from coach.errors import BadInput
from coach.settings import Settings
from coach.workspace import exchange
from tests.conftest import LOOPBACK, logged_in, sheet_data

HEADERS = ["ID", "係名", "業務・案件名", "現状", "あるべき姿", "目的", "問題", "課題", "欄外メモ"]


def row(**overrides: str) -> list[str]:
    d = sheet_data()
    values = {"ID": "", "係名": d["section"], "業務・案件名": d["title"], "現状": d["asis"], "あるべき姿": d["tobe"],
              "目的": d["purpose"], "問題": "\n".join(d["problems"]), "課題": "\n".join(d["tasks"]),
              "欄外メモ": d["margin"], **overrides}
    return [values[h] for h in HEADERS]


def xlsx(headers: list[str], rows: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_good_xlsx_parses_into_sheets() -> None:
    headers, rows = exchange.read_table("シート.xlsx", xlsx(HEADERS, [row(), row(**{"係名": "税務係"})]))
    parsed = exchange.parse(headers, rows)
    assert [r.action for r in parsed] == ["new", "new"]
    assert parsed[0].sheet is not None and parsed[0].sheet.tasks == sheet_data()["tasks"]
    assert parsed[1].sheet is not None and parsed[1].sheet.section == "税務係"


def test_csv_from_excel_in_shift_jis_and_utf8_both_read() -> None:
    text = ",".join(HEADERS) + "\r\n" + ",".join(f'"{c}"' for c in row()) + "\r\n"
    for data in (text.encode("cp932"), text.encode("utf-8-sig"), text.encode("utf-8")):
        headers, rows = exchange.read_table("a.CSV", data)
        assert exchange.parse(headers, rows)[0].sheet.asis == sheet_data()["asis"]  # type: ignore[union-attr]


def test_broken_rows_get_row_level_reasons_in_japanese_and_the_rest_still_parses() -> None:
    rows = [row(), row(**{"係名": ""}), row(**{"現状": "あ" * 4001}), row(**{"問題": "\n".join(["x"] * 21)}), row()]
    parsed = exchange.parse(HEADERS, rows)
    assert [r.action for r in parsed] == ["new", "error", "error", "error", "new"]
    assert [r.line for r in parsed] == [2, 3, 4, 5, 6]  # as the spreadsheet numbers its rows
    assert parsed[1].errors == ["係名：空にはできません。入力してください。"]
    assert parsed[2].errors == ["現状：4,000文字以内で入力してください（今は 4,001 文字）。"]
    assert "問題" in parsed[3].errors[0] and "20" in parsed[3].errors[0]


def test_wrong_columns_say_which_are_missing_and_what_was_found() -> None:
    with pytest.raises(BadInput) as err:
        exchange.parse(["名前", "現状", "メモ"], [["a", "b", "c"]])
    reason = err.value.errors[0].reason
    assert "列が足りません" in reason and "係名" in reason and "あるべき姿" in reason and "名前、現状、メモ" in reason


def test_english_headers_and_reordered_columns_are_fine() -> None:
    headers = ["tasks", "problems", "purpose", "tobe", "asis", "title", "section"]
    d = sheet_data()
    values = ["\n".join(d["tasks"]), "\n".join(d["problems"]), d["purpose"], d["tobe"], d["asis"], d["title"],
              d["section"]]
    assert exchange.parse(headers, [values])[0].sheet.title == d["title"]  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("fake.xlsx", b"this is a plain text file renamed", "Excel ファイル（.xlsx）として読み取れません"),
    ("fake.xlsx", b"PK\x03\x04 not really a zip", "Excel ファイル（.xlsx）として読み取れません"),
    ("a.pdf", b"%PDF-1.4", "Excel（.xlsx）か CSV（.csv）"),
    ("a.csv", b"", "ファイルが空です"),
    ("a.csv", "係名".encode("utf-16"), "読み取れません"),
    ("huge.csv", b"a" * (exchange.MAX_BYTES + 1), "大きすぎます"),
])
def test_files_that_are_not_what_they_claim(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(BadInput) as err:
        exchange.read_table(name, data)
    assert reason in err.value.errors[0].reason


def test_too_many_rows_is_refused_before_parsing() -> None:
    text = ",".join(HEADERS) + "\n" + ("a,b,c,d,e,f,g,h,i\n" * (exchange.MAX_ROWS + 1))
    with pytest.raises(BadInput) as err:
        exchange.read_table("a.csv", text.encode())
    assert "2000 行まで" in err.value.errors[0].reason
    with pytest.raises(BadInput):
        exchange.read_table("a.xlsx", xlsx(HEADERS, [["x"] * 9] * (exchange.MAX_ROWS + 2)))


def test_formula_like_text_stays_text_both_ways() -> None:
    evil = "=HYPERLINK(\"http://evil\",\"x\")"
    data = exchange.to_csv(HEADERS, [row(**{"現状": evil, "欄外メモ": "-RPA?"})])
    assert b"'=HYPERLINK" in data
    headers, rows = exchange.read_table("a.csv", data)
    assert exchange.parse(headers, rows)[0].sheet.asis == evil  # type: ignore[union-attr]
    book = exchange.to_xlsx([("シート", HEADERS, [row(**{"現状": evil})])])
    cell = load_workbook(io.BytesIO(book))["シート"]["D2"]
    assert cell.data_type == "s" and cell.value == evil  # a string, never a formula


# -- through the app ------------------------------------------------------------------------------

def token_of(page: str) -> str:
    found = re.search(r'action="/import/([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_import_previews_writes_nothing_then_confirms(client: TestClient, dx: TestClient) -> None:
    data = xlsx(HEADERS, [row(ID="A-1"), row(**{"ID": "A-2", "係名": ""}), row(**{"ID": "A-3", "係名": "税務係"})])
    r = dx.post("/import", files={"file": ("まとめ.xlsx", data, "application/octet-stream")})
    assert r.status_code == 200
    page = BeautifulSoup(r.text, "html.parser")
    assert [tr["class"][0] for tr in page.select(".import-preview tbody tr")] == ["imp-new", "imp-error", "imp-new"]
    assert "係名：空にはできません" in page.select_one(".imp-error .row-errors").text
    assert "2 枚を取り込む" in page.select_one(".import-preview form button").text
    services = dx.app.state.services
    assert services.repo.count() == 0  # nothing written before the confirmation
    done = dx.post(f"/import/{token_of(r.text)}", follow_redirects=False)
    assert done.status_code == 303 and services.repo.count() == 2
    assert "2 枚を新しく取り込み（下書き）、0 枚を更新しました" in dx.get(done.headers["location"]).text
    assert services.repo.find(1, "A-3").section == "税務係"  # type: ignore[union-attr]
    assert services.repo.find(1, "A-3").status == "draft"  # type: ignore[union-attr]  # the default (see the preview)
    twice = dx.post(f"/import/{token_of(r.text)}")  # a confirmation is used once
    assert twice.status_code == 409 and "すでに取り込み済みです" in twice.text and services.repo.count() == 2

    again = dx.post("/import", files={"file": ("まとめ.xlsx", data, "application/octet-stream")})
    assert [tr["class"][0] for tr in BeautifulSoup(again.text, "html.parser").select("tbody tr")] == \
        ["imp-same", "imp-error", "imp-same"]


def test_an_import_never_rewrites_an_accepted_sheet(client: TestClient, dx: TestClient) -> None:
    first = dx.post("/import", files={"file": ("a.xlsx", xlsx(HEADERS, [row(ID="A-1")]), "application/octet-stream")})
    dx.post(f"/import/{token_of(first.text)}", data={"status": "submitted"})  # imported as submitted
    assert dx.app.state.services.reviews.get(dx.app.state.services.repo.find(1, "A-1").id).state == "waiting"
    services = dx.app.state.services
    stored = services.repo.find(1, "A-1")
    assert dx.post(f"/review/{stored.id}/decision", data={"decision": "accept"}).status_code == 200
    changed = xlsx(HEADERS, [row(**{"ID": "A-1", "あるべき姿": "住民が自宅で手続きを終えている。"})])
    r = dx.post("/import", files={"file": ("a.xlsx", changed, "application/octet-stream")})
    page = BeautifulSoup(r.text, "html.parser")
    assert [tr["class"][0] for tr in page.select(".import-preview tbody tr")] == ["imp-error"]
    assert "受理" in page.select_one(".imp-error .row-errors").text and "改訂する" in r.text


def test_a_bad_file_is_explained_on_the_page(dx: TestClient) -> None:
    r = dx.post("/import", files={"file": ("台帳.xlsx", b"not excel at all", "application/octet-stream")})
    assert r.status_code == 422 and "台帳.xlsx：Excel ファイル（.xlsx）として読み取れません" in r.text


def test_another_persons_pending_import_cannot_be_confirmed(client: TestClient, dx: TestClient) -> None:
    r = dx.post("/import", files={"file": ("a.xlsx", xlsx(HEADERS, [row()]), "application/octet-stream")})
    other = logged_in(client.app, "dx2", "dx", None)
    assert other.post(f"/import/{token_of(r.text)}").status_code == 404  # as if it did not exist
    assert other.post("/import/..%2F..%2Fetc").status_code == 404
    assert dx.post(f"/import/{token_of(r.text)}", follow_redirects=False).status_code == 303  # still there for its owner


def test_export_then_import_gives_the_same_sheets(client: TestClient, dx: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from web.app import create_app

    sheets = [sheet_data(), sheet_data(section="税務係", title="申告", asis="=SUM(A1) と書く人もいる", problems=[],
                                       tasks=["一"], margin=""),
              sheet_data(section="議事係", title="会議録", asis="改行も\n残る", problems=["a", "b"])]
    for s in sheets:
        client.post("/api/v1/sheets", json=s)
    xlsx_file = dx.get("/export/sheets.xlsx")
    assert xlsx_file.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in xlsx_file.headers["content-disposition"]
    csv_file = dx.get("/export/sheets.csv")
    assert csv_file.content.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    book = load_workbook(io.BytesIO(xlsx_file.content))
    assert book.sheetnames == ["まとめ", "シート"] and book["まとめ"]["B1"].value == "係名"

    for name, body in (("sheets.xlsx", xlsx_file.content), ("sheets.csv", csv_file.content)):
        fresh = create_app(Settings(data_dir=tmp_path / name, load_samples=False))
        with TestClient(fresh, client=LOOPBACK):
            other_dx = logged_in(fresh, "dxteam", "dx", None)
            r = other_dx.post("/import", files={"file": (name, body, "application/octet-stream")})
            other_dx.post(f"/import/{token_of(r.text)}")
            got = sorted((s.sheet for s in fresh.state.services.repo.list(1)), key=lambda s: s.section)
        want = sorted((client.app.state.services.repo.get(i, 1).sheet for i in (1, 2, 3)), key=lambda s: s.section)
        assert got == want, name


def test_summary_csv_lists_every_case(staff: TestClient, dx: TestClient) -> None:
    sid = staff.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    staff.post(f"/sheets/{sid}", data={**sheet_data(), "op": "submit"})
    dx.post(f"/review/{sid}/stage", data={"stage": "壁打ち", "on": "2026-05-01"})
    text = dx.get("/export/summary.csv").content.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.startswith("ID,係名,業務・案件名,状態,段階")
    assert "住民窓口係" in first and "レビュー待ち" in first and "壁打ち" in first and "2026-05-01" in first
