"""Workbooks as a town's Excel really holds them, built in code (openpyxl, then the sheet XML edited).

openpyxl cannot compute formulas: it writes a formula cell as `<f>…</f><v/>` (no cached value), the
way a file looks that no spreadsheet has recalculated. Excel saves the result next to the formula
(`<c t="str"><f>…</f><v>結果</v></c>` for text, `<c><f>…</f><v>2</v></c>` for a number,
`<c t="e"><f>…</f><v>#REF!</v></c>` for an error); `cached` writes that into the XML afterwards.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape

from openpyxl import Workbook

HEADERS = ["ID", "係名", "業務・案件名", "現状", "あるべき姿", "目的", "問題", "課題", "欄外メモ"]
SHEET = "xl/worksheets/sheet1.xml"


def good(**overrides: str) -> list[str]:
    values = {"ID": "", "係名": "住民窓口係", "業務・案件名": "転入",
              "現状": "転入の届出は窓口で受け付け、1件あたり平均40分。",
              "あるべき姿": "転入した住民が、1か所の窓口で手続きを済ませている。",
              "目的": "住民が町での暮らしを安心して始められるようにするため。",
              "問題": "手続きごとに担当課が分かれている", "課題": "手続きを洗い出す", "欄外メモ": "", **overrides}
    return [values[h] for h in HEADERS]


def workbook(rows: list[list[str]], merges: tuple[str, ...] = (),
             cached: dict[str, tuple[str, str]] | None = None) -> bytes:
    """HEADERS then `rows` on a sheet named シート; text starting with = is a formula (as Excel stores
    it); `merges` are ranges like "B2:B4"; `cached` maps a cell ("D2") to (type, value) as Excel saves
    the formula's last result: type "str" (text), "n" (a number) or "e" (an error such as #REF!)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "シート"
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    for ref in merges:
        ws.merge_cells(ref)
    out = io.BytesIO()
    wb.save(out)
    return with_cached_values(out.getvalue(), cached or {})


def with_cached_values(data: bytes, cached: dict[str, tuple[str, str]]) -> bytes:
    """Write each formula cell's result into the sheet XML, as Excel does when it saves."""
    source = zipfile.ZipFile(io.BytesIO(data))
    xml = source.read(SHEET).decode()
    for ref, (kind, value) in cached.items():
        found = re.search(rf'<c r="{ref}"[^>]*><f>(.*?)</f><v ?/?>(?:</v>)?</c>', xml)
        assert found, f"no formula cell {ref} to give a cached value"
        kind_attr = "" if kind == "n" else f' t="{kind}"'
        cell = f'<c r="{ref}"{kind_attr}><f>{found.group(1)}</f><v>{escape(value)}</v></c>'
        xml = xml[:found.start()] + cell + xml[found.end():]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for member in source.infolist():
            z.writestr(member.filename, xml.encode() if member.filename == SHEET else source.read(member))
    return out.getvalue()
