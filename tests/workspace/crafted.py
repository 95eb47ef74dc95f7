"""Hostile uploads, generated in code (zipfile + XML strings): no binary fixtures.

`good_parts()` is the smallest workbook Excel and openpyxl accept; every crafted file starts from
it and breaks one thing, the way an attacker would. The benchmark reuses the big ones.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET = "xl/worksheets/sheet1.xml"
HEADERS = ["ID", "係名", "業務・案件名", "現状", "あるべき姿", "目的", "問題", "課題", "欄外メモ"]

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""

ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""

WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/>
</Relationships>"""

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>
</styleSheet>"""


def workbook_xml(sheets: str = '<sheet name="シート" sheetId="1" r:id="rId1"/>', doctype: str = "",
                 body_prefix: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}\n'
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{body_prefix}<sheets>{sheets}</sheets></workbook>')


def _column(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cells(row: int, values: list[str]) -> str:
    inner = "".join(f'<c r="{_column(i)}{row}" t="inlineStr"><is><t>{_escape(v)}</t></is></c>'
                    for i, v in enumerate(values, start=1))
    return f'<row r="{row}">{inner}</row>'


def sheet_xml(rows: str, doctype: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}\n'
            f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>')


def good_row(row: int) -> str:
    return cells(row, ["", "住民窓口係", "転入", "窓口で40分", "20分で済む", "安心のため", "窓口が多い", "数える", ""])


def good_parts(rows: int = 1) -> dict[str, str | bytes]:
    body = cells(1, HEADERS) + "".join(good_row(r) for r in range(2, rows + 2))
    return {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": ROOT_RELS, "xl/workbook.xml": workbook_xml(),
            "xl/_rels/workbook.xml.rels": WORKBOOK_RELS, "xl/styles.xml": STYLES, SHEET: sheet_xml(body)}


def pack(parts: dict[str, str | bytes], compression: int = zipfile.ZIP_DEFLATED, level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression, compresslevel=level if compression == zipfile.ZIP_DEFLATED else None) as z:
        for name, body in parts.items():
            z.writestr(name, body.encode("utf-8") if isinstance(body, str) else body)
    return out.getvalue()


ALIASES = {"sheet": SHEET, "workbook": "xl/workbook.xml", "styles": "xl/styles.xml",
           "content_types": "[Content_Types].xml"}


def with_parts(**changes: str | bytes | None) -> Callable[[], bytes]:
    """A good workbook with some parts replaced (None removes a part), named as in ALIASES."""
    def build() -> bytes:
        parts = good_parts()
        for key, body in changes.items():
            name = ALIASES[key]
            if body is None:
                parts.pop(name, None)
            else:
                parts[name] = body
        return pack(parts)
    return build


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lolololololololololol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>")
XXE = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def entity_in_sheet() -> bytes:
    body = cells(1, HEADERS) + '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return with_parts(sheet=sheet_xml(body, LAUGHS))()


def entity_in_workbook() -> bytes:
    return with_parts(workbook=workbook_xml('<sheet name="&lol9;" sheetId="1" r:id="rId1"/>', LAUGHS))()


def external_entity_in_sheet() -> bytes:
    body = cells(1, HEADERS) + '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    return with_parts(sheet=sheet_xml(body, XXE))()


def entity_in_styles() -> bytes:
    styles = STYLES.replace("<styleSheet", LAUGHS + "<styleSheet", 1).replace('val="Calibri"', 'val="&lol9;"')
    return with_parts(styles=styles)()


def too_many_parts(count: int = 20000) -> bytes:
    parts = good_parts()
    parts.update({f"xl/media/x{i}.bin": b"" for i in range(count)})
    return pack(parts, zipfile.ZIP_STORED)


def expanding_part(name: str, megabytes: int) -> bytes:
    """One part that inflates to `megabytes` of XML white space: ~4.5 KB per MB on the wire."""
    parts = good_parts()
    if name == "xl/styles.xml":
        head, tail = STYLES.split("<fonts", 1)
        tail = "<fonts" + tail
    else:
        head, tail = sheet_xml(cells(1, HEADERS)).split("<sheetData>", 1)
        head += "<sheetData>"
    del parts[name]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for other, body in parts.items():
            z.writestr(other, body)
        with z.open(name, "w", force_zip64=True) as f:
            f.write(head.encode())
            chunk = b" " * (1024 * 1024)
            for _ in range(megabytes):
                f.write(chunk)
            f.write(tail.encode())
    return out.getvalue()


def many_rows_sheet(rows: int = 1_000_000) -> bytes:
    """A sheet with `rows` rows (one short cell each, no references): ~3 MB on the wire."""
    parts = good_parts()
    del parts[SHEET]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body.encode("utf-8") if isinstance(body, str) else body)
        with z.open(SHEET, "w", force_zip64=True) as f:
            f.write(sheet_xml(cells(1, HEADERS) + "<!--ROWS-->").split("<!--ROWS-->")[0].encode())
            chunk = []
            for r in range(2, rows + 2):
                chunk.append(f"<row><c><v>{r}</v></c></row>")
                if len(chunk) == 10000:
                    f.write("".join(chunk).encode())
                    chunk = []
            f.write(("".join(chunk) + "</sheetData></worksheet>").encode())
    return out.getvalue()


def wide_row_sheet(columns: int) -> bytes:
    """Row 2 has `columns` cells: the row limit alone does not bound it."""
    wide = "".join(f'<c r="{_column(i)}2"><v>1</v></c>' for i in range(1, columns + 1))
    return with_parts(sheet=sheet_xml(cells(1, HEADERS) + f'<row r="2">{wide}</row>'))()


def huge_dimension() -> bytes:
    """A declared used range of the whole grid with one real row: must not be padded out."""
    body = '<dimension ref="A1:XFD1048576"/><sheetData>' + cells(1, HEADERS) + good_row(2) + "</sheetData>"
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             f'<worksheet xmlns="{MAIN}">{body}</worksheet>')
    return with_parts(sheet=sheet)()


def merged_sheet(ref: str, count: int) -> bytes:
    """A good row, then `count` merged ranges `ref` (Excel writes <mergeCells> after <sheetData>)."""
    merges = f'<mergeCells count="{count}">' + f'<mergeCell ref="{ref}"/>' * count + "</mergeCells>"
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"><sheetData>'
             f"{cells(1, HEADERS)}{good_row(2)}</sheetData>{merges}</worksheet>")
    return with_parts(sheet=sheet)()


def truncated() -> bytes:
    data = pack(good_parts(rows=20))
    return data[: len(data) // 2]


# name → builder. Every one must be answered 4xx with a Japanese reason, never 5xx.
CRAFTED: dict[str, Callable[[], bytes]] = {
    "entity expansion in the sheet": entity_in_sheet,
    "entity expansion in workbook.xml": entity_in_workbook,
    "entity expansion in styles.xml": entity_in_styles,
    "external entity (XXE) in the sheet": external_entity_in_sheet,
    "malformed sheet XML": with_parts(sheet=sheet_xml(cells(1, HEADERS))[:-20]),
    "malformed workbook.xml": with_parts(workbook="<workbook><sheets><sheet"),
    "malformed styles.xml": with_parts(styles="<styleSheet><fonts>"),
    "workbook with no sheets": with_parts(workbook=workbook_xml("")),
    "missing sheet part": with_parts(sheet=None),
    "missing workbook.xml": with_parts(workbook=None),
    "missing content types": with_parts(content_types=None),
    "cell reference ZZZZZZZ…": with_parts(sheet=sheet_xml(
        cells(1, HEADERS) + '<row r="2"><c r="' + "Z" * 40 + '2"><v>1</v></c></row>')),
    "row number beyond the grid": with_parts(sheet=sheet_xml(
        cells(1, HEADERS) + '<row r="99999999999999999999"><c r="A99999999999999999999"><v>1</v></c></row>')),
    "shared string that does not exist": with_parts(sheet=sheet_xml(
        cells(1, HEADERS) + '<row r="2"><c r="A2" t="s"><v>999</v></c></row>')),
    "number cell that is not a number": with_parts(sheet=sheet_xml(
        cells(1, HEADERS) + '<row r="2"><c r="A2" t="n"><v>abc</v></c></row>')),
    "sheet XML in an unknown encoding": with_parts(sheet=(
        '<?xml version="1.0" encoding="x-no-such"?>' + sheet_xml(cells(1, HEADERS)).split("?>", 1)[1])),
    "not a zip": lambda: b"this is a plain text file renamed to .xlsx",
    "zip header then garbage": lambda: b"PK\x03\x04" + b"\x00" * 200,
    "truncated zip": truncated,
    "zip with a huge member count": too_many_parts,
    "styles part that expands to 200 MB": lambda: expanding_part("xl/styles.xml", 200),
    "sheet part that expands to 200 MB": lambda: expanding_part(SHEET, 200),
    "a million rows": many_rows_sheet,
    "the whole grid merged 20,000 times over": lambda: merged_sheet("A1:XFD1048576", 20_000),
    "30,000 one-cell merged ranges (openpyxl parses each slowly)": lambda: merged_sheet("C2:C2", 30_000),
}
