"""The sheet XML's own facts (coach/workspace/worksheet.py), from hand-written XML: cells and rows without a
reference are counted as openpyxl counts them, and only a formula with no saved result is missing."""

from __future__ import annotations

from coach.workspace import upload
from tests.workspace import crafted

MAIN = crafted.MAIN


def table_of(rows_xml: str, merges: str = "") -> upload.Table:
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"><sheetData>'
             f"{crafted.cells(1, crafted.HEADERS)}{rows_xml}</sheetData>{merges}</worksheet>")
    return upload.read("台帳.xlsx", crafted.with_parts(sheet=sheet)())


def test_cells_and_rows_without_a_reference_are_placed_as_openpyxl_places_them() -> None:
    plain = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in ("", "住民窓口係", "転入"))
    table = table_of(f"<row>{plain}<c><f>A9</f><v/></c></row><row>{plain}<c><f>A9</f></c></row>")
    assert table.rows[0][1] == "住民窓口係" and table.rows[1][2] == "転入"
    assert table.missing == {(2, 3): "", (3, 3): ""}


def test_only_a_formula_without_a_result_or_an_error_value_is_missing() -> None:
    table = table_of('<row r="2">'
                     '<c r="B2" t="str"><f>""</f><v></v></c>'  # a formula whose result is an empty text
                     '<c r="C2"><f>1+1</f><v>2</v></c>'  # a number it saved
                     '<c r="D2" t="e"><v>#DIV/0!</v></c>'  # an error value, formula or not
                     '<c r="E2"><f>A9</f><v></v></c>'  # no saved result
                     '<c r="F2"><v>3</v></c></row>')
    assert table.rows[0][1:6] == ["", "2", "#DIV/0!", "", "3"]
    assert table.missing == {(2, 3): "#DIV/0!", (2, 4): ""}


def test_a_merged_range_carries_a_missing_result_to_the_rows_it_fills() -> None:
    row3 = crafted.cells(3, ["", "", "転出", "a", "b", "c", "d", "e"])
    table = table_of('<row r="2"><c r="B2"><f>A9</f><v/></c><c r="C2" t="inlineStr"><is><t>転入</t></is></c></row>'
                     + row3, '<mergeCells count="1"><mergeCell ref="B2:B3"/></mergeCells>')
    assert table.missing == {(2, 1): "", (3, 1): ""}
