"""What export writes and import reads back: stored control characters, formula-looking text,
the CSV round trip (a property over arbitrary text), and an import that points at a draft."""

from __future__ import annotations

import csv
import io
import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from coach.sheet import Sheet
from coach.workspace import exchange
from tests.conftest import section_staff, sheet_data
from tests.workspace.crafted import HEADERS

CONTROL = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")


def stored_with_control_characters(dx: TestClient) -> None:
    """Text written straight through the repository, as rows stored before the boundary refused it."""
    services = dx.app.state.services  # type: ignore[attr-defined]
    dirty = sheet_data(title="制御\x00文字\x07", asis="現状\x1bです\x0b" + CONTROL, problems=["問題\x08\x00"])
    services.repo.create(services.organisation_id, Sheet.model_validate(dirty), status="submitted")


def test_export_survives_stored_control_characters(dx: TestClient) -> None:
    stored_with_control_characters(dx)
    r = dx.get("/export/sheets.xlsx")
    assert r.status_code == 200
    row = [c.value for c in load_workbook(io.BytesIO(r.content))["シート"][2]]
    assert row[2] == "制御文字" and row[3] == "現状です" and row[6] == "問題"
    text = dx.get("/export/sheets.csv").content.decode("utf-8-sig")
    assert not set(CONTROL) & set(text)
    assert "制御文字" in text and "現状です" in text
    assert dx.get("/export/summary.csv").status_code == 200


NEEDS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "＝１＋１", "＋1", "－1", "＠x", " =1", "\n=1",
         "\u3000=1", " \n @x", "'=1+1 と書く", "'plain"]
PLAIN = ["1+1=2", "住民が=を書く", "a-b", "", "メール a@b"]


@pytest.mark.parametrize("text", NEEDS)
def test_text_a_spreadsheet_would_run_is_neutralised_in_csv(text: str) -> None:
    data = exchange.to_csv(["x"], [[text]])
    cell = next(iter(csv.reader(io.StringIO(data.decode("utf-8-sig")))), None)
    cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert cell == ["x"] and cells[1][0] == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_harmless_text_is_written_as_it_is(text: str) -> None:
    cells = list(csv.reader(io.StringIO(exchange.to_csv(["x"], [[text]]).decode("utf-8-sig"))))
    assert cells[1][0] == text


def test_a_quote_typed_by_a_person_in_their_own_csv_stays() -> None:
    data = ("\ufeff" + ",".join(HEADERS) + "\r\n" + ",住民窓口係,'見出し,a,b,c,d,e,'メモ\r\n").encode()
    headers, rows = exchange.read_table("a.csv", data)
    assert rows[0][2] == "'見出し" and rows[0][8] == "'メモ"


def test_xlsx_cells_stay_text() -> None:
    book = exchange.to_xlsx([("シート", ["x"], [[t] for t in NEEDS])])
    sheet = load_workbook(io.BytesIO(book))["シート"]
    assert [(c.value, c.data_type) for (c,) in sheet.iter_rows(min_row=2)] == [(t.replace("\r", "\n"), "s") for t in NEEDS]


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=CONTROL), max_size=60)
TRICKY = st.sampled_from(["'", "''", "=", "'=", "'＝", "＝", "+", "-", "@", " ", "\n", "\t", "\r", " '", "\u3000"])
CELL = st.one_of(TEXT, st.tuples(TRICKY, TRICKY, TEXT).map("".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(CELL, min_size=1, max_size=4))
def test_csv_export_then_import_gives_back_exactly_the_text(cells: list[str]) -> None:
    headers = [f"h{i}" for i in range(len(cells))]
    _, rows = exchange.read_table("a.csv", exchange.to_csv(headers, [cells]))
    got = rows[0] if rows else []
    assert [*got, *[""] * (len(cells) - len(got))] == cells


def test_csv_round_trip_keeps_a_leading_quote_through_the_app(client: TestClient, dx: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = client.app.state.services  # type: ignore[attr-defined]
    services.repo.create(services.organisation_id, Sheet.model_validate(
        sheet_data(asis="'=1+1 は計算しない", tobe="＝全角で始まる", margin="'そのまま")), status="submitted")
    body = dx.get("/export/sheets.csv").content
    services.repo.create(services.organisation_id, Sheet.model_validate(sheet_data(section="別の係")),
                         status="submitted")
    r = dx.post("/import", files={"file": ("sheets.csv", body, "text/csv")})
    rows = BeautifulSoup(r.text, "html.parser").select(".import-preview tbody tr")
    assert [tr["class"][0] for tr in rows] == ["imp-same"]


def test_an_import_never_rewrites_a_draft(client: TestClient, dx: TestClient) -> None:
    staff = section_staff(client.app, "住民窓口係")
    draft = staff.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    submitted = staff.post("/api/v1/sheets", json=sheet_data(title="提出済み")).json()["id"]
    staff.post(f"/sheets/{submitted}", data={**sheet_data(title="提出済み"), "op": "submit"})
    services = client.app.state.services  # type: ignore[attr-defined]
    assert services.repo.get(draft, 1).status == "draft" and services.repo.get(submitted, 1).status == "submitted"
    text = ",".join(HEADERS) + "\r\n"
    for sid, title in ((draft, "書き換え"), (submitted, "提出済み・更新")):
        text += f"{sid},住民窓口係,{title},{sheet_data()['asis']},{sheet_data()['tobe']},{sheet_data()['purpose']},a,b,\r\n"
    r = dx.post("/import", files={"file": ("a.csv", text.encode(), "text/csv")})
    page = BeautifulSoup(r.text, "html.parser")
    assert [tr["class"][0] for tr in page.select(".import-preview tbody tr")] == ["imp-error", "imp-update"]
    assert "下書き" in page.select_one(".imp-error .row-errors").text  # type: ignore[union-attr]
    token = re.search(r'action="/import/([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    assert dx.post(f"/import/{token}", follow_redirects=False).status_code == 303
    assert services.repo.get(draft, 1).title == sheet_data()["title"]  # the draft is untouched
    assert services.repo.get(draft, 1).version == 1
    assert services.repo.get(submitted, 1).title == "提出済み・更新"
