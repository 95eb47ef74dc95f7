"""Reading an uploaded table (.xlsx or .csv) without trusting it.

Every file is treated as hostile until read: before any XML is parsed the zip's directory is
checked (member count, declared uncompressed sizes, compression ratio); the XML parser refuses
DTDs and entities (defusedxml, which openpyxl picks up); the sheet is streamed (openpyxl's
read-only mode) and a pre-scan bounds the cells per row and stops at the row limit; CSV is read
row by row up to the same limit. Whatever the parser raises on a broken file is turned into one
Japanese reason, here, in one place. Callers run `read_table` off the event loop (`in_pool`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import logging
import posixpath
import struct
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import defusedxml.ElementTree as SafeET
from openpyxl import load_workbook
from openpyxl.xml import DEFUSEDXML

from coach.errors import BadInput, FieldError
from coach.workspace.worksheet import Layout, Table

log = logging.getLogger("coach.upload")

MAX_BYTES = 5 * 1024 * 1024  # the upload itself
MAX_ROWS = 2000  # sheet rows below the header
MAX_COLUMNS = 60  # columns read; the format needs 9, headers further right are ignored
MAX_CELLS_PER_ROW = 200  # cells one row may hold in the file (the row limit does not bound a wide row)
MAX_ROW_ELEMENTS = 20 * 2000  # rows in the file, empty (formatted) ones included
MAX_OTHER_SHEETS = 10 * 1024 * 1024  # the workbook's other sheets together (openpyxl scans each once)
MAX_PARTS = 1000  # members of the .xlsx zip (a workbook with a few sheets has ~15)
MAX_UNCOMPRESSED = 50 * 1024 * 1024  # all members together, as declared by the zip
MAX_WHOLE_PART = 10 * 1024 * 1024  # a part openpyxl parses into memory at once (styles, workbook, …)
MAX_RATIO = 100  # uncompressed / compressed, for a member over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
STREAMED = ("xl/worksheets/", "xl/sharedStrings.xml")  # parts openpyxl reads as a stream
SHEETS_TITLE = "シート"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

assert DEFUSEDXML, "defusedxml must be installed: openpyxl then refuses entities and DTDs"

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="upload")  # at most two files in memory at once
T = TypeVar("T")


async def in_pool(fn: Callable[..., T], *args: Any) -> T:
    """Run parsing (and an import built on it) in the upload pool, never on the event loop."""
    return await asyncio.wrap_future(_pool.submit(fn, *args))


def _refuse(reason: str) -> BadInput:
    return BadInput([FieldError("file", None, reason)])


NOT_XLSX = "Excel ファイル（.xlsx）として読み取れません。中身が Excel でないか、壊れています。"


def read_table(filename: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header row and the rows below it, as text. Raises BadInput with a Japanese reason."""
    table = read(filename, data)
    return table.headers, table.rows


def read(filename: str, data: bytes) -> Table:
    """The table with the cells whose value is missing (formulas without a saved result, errors)."""
    name = filename.lower()
    layout = Layout(MAX_ROWS + 2, MAX_COLUMNS)
    if len(data) > MAX_BYTES:
        raise _refuse(f"ファイルが大きすぎます（{len(data) / 1024 / 1024:.1f} MB）。"
                      f"{MAX_BYTES // 1024 // 1024} MB までにしてください。")
    if not data:
        raise _refuse("ファイルが空です。")
    if name.endswith(".xlsx"):
        rows = _guarded(lambda d: _read_xlsx(d, layout), data, NOT_XLSX)
    elif name.endswith(".csv"):
        rows = _guarded(_read_csv, data, "CSV として読み取れません。形式を確認してください。")
    else:
        raise _refuse("Excel（.xlsx）か CSV（.csv）のファイルを選んでください。")
    while rows and not any(rows[-1]):  # trailing empty rows (a stale used range pads them out)
        rows.pop()
    if len(rows) > MAX_ROWS + 1:
        raise too_many_rows()
    return Table(rows[0], rows[1:], layout.missing) if rows else Table([], [])


def too_many_rows() -> BadInput:
    return _refuse(f"行が多すぎます。一度に取り込めるのは {MAX_ROWS} 行までです。")


def _guarded(read: Callable[[bytes], list[list[str]]], data: bytes, reason: str) -> list[list[str]]:
    """The one place a parser's failure on a broken or hostile file becomes a 4xx reason."""
    try:
        return read(data)
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a parser on an uploaded file is the file's
        log.info("unreadable upload: %s: %s", type(exc).__name__, str(exc)[:200])
        raise _refuse(reason) from exc


# -- .xlsx ------------------------------------------------------------------------------------------

def _read_xlsx(data: bytes, layout: Layout) -> list[list[str]]:
    _check_member_count(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    check_zip(archive)
    part = _sheet_part(archive)
    others = sum(m.file_size for m in archive.infolist() if m.filename.startswith(STREAMED[0]) and m.filename != part)
    if others > MAX_OTHER_SHEETS:
        raise _refuse(f"取り込む「{SHEETS_TITLE}」以外のシートが大きすぎます。取り込むシートだけを新しいブックに"
                      "コピーして保存し直してください。")
    _scan_sheet(archive.open(part), layout)  # before openpyxl, which streams every sheet once as it loads
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb[SHEETS_TITLE] if SHEETS_TITLE in wb.sheetnames else wb.worksheets[0]
        if ws._worksheet_path.lstrip("/") != part:  # type: ignore[union-attr]
            raise _refuse(NOT_XLSX)
        rows = ws.iter_rows(min_row=1, max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True)
        table = [["" if v is None else str(v) for v in row] for row in rows]
        layout.fill(table)
        return table
    finally:
        wb.close()


def _sheet_part(archive: zipfile.ZipFile) -> str:
    """The zip member of the sheet to import: 「シート」 if there is one, else the first sheet."""
    root = SafeET.fromstring(archive.read("_rels/.rels"))
    book = next((r.get("Target", "") for r in root if r.get("Type", "").endswith("/officeDocument")), "")
    book = book.lstrip("/") or "xl/workbook.xml"
    sheets = SafeET.fromstring(archive.read(book)).findall(f"{{{MAIN}}}sheets/{{{MAIN}}}sheet")
    if not sheets:
        raise _refuse("ブックにシートがありません。")
    chosen = next((s for s in sheets if s.get("name") == SHEETS_TITLE), sheets[0])
    folder, name = posixpath.split(book)
    rels = SafeET.fromstring(archive.read(posixpath.join(folder, "_rels", name + ".rels")))
    target = next(r.get("Target", "") for r in rels if r.get("Id") == chosen.get(f"{{{REL}}}id"))
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))


def _check_member_count(data: bytes) -> None:
    """The member count from the zip's end record, before the whole directory is read into objects."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise _refuse(NOT_XLSX)
    (count,) = struct.unpack("<H", data[end + 10:end + 12])
    if count > MAX_PARTS:  # 0xFFFF (zip64) included: a workbook never has that many parts
        raise _too_many_parts(count)


def _too_many_parts(count: int) -> BadInput:
    return _refuse(f"Excel ファイルの中の部品が多すぎます（{count:,} 個）。"
                   "シートだけを新しいブックにコピーして保存し直してください。")


def check_zip(archive: zipfile.ZipFile) -> None:
    """Refuse a zip bomb from its directory alone, before anything is inflated."""
    members = archive.infolist()
    if len(members) > MAX_PARTS:
        raise _too_many_parts(len(members))
    total = 0
    for m in members:
        total += m.file_size
        whole = not m.filename.startswith(STREAMED)
        if (total > MAX_UNCOMPRESSED or (whole and m.file_size > MAX_WHOLE_PART)
                or (m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1))):
            raise _refuse(f"Excel ファイルを展開すると大きすぎます（{m.filename} が "
                          f"{m.file_size / 1024 / 1024:.0f} MB）。シートだけを新しいブックにコピーして"
                          "保存し直してください。")


def _scan_sheet(source: Any, layout: Layout) -> None:
    """Stream the sheet once, cheaply: bound its cells per row and its rows, and keep only what
    `layout` notes (merged ranges, cells without a value; coach/workspace/worksheet.py)."""
    cells = values = rows = filled = 0
    with source:
        for _event, element in SafeET.iterparse(source, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag in ("v", "is"):
                values += 1
                layout.value(element)
            elif tag == "c":
                cells += 1
                if cells > MAX_CELLS_PER_ROW:
                    raise _refuse(f"1行のセルが多すぎます（{MAX_CELLS_PER_ROW:,} 個まで）。")
                layout.cell(element)
            elif tag == "row":
                rows += 1
                filled += values > 0
                if filled > MAX_ROWS + 1 or (values and _row_number(element, rows) > MAX_ROWS + 1):
                    raise too_many_rows()
                if rows > MAX_ROW_ELEMENTS:
                    raise _refuse(f"シートの行（空の行を含む）が多すぎます（{MAX_ROW_ELEMENTS:,} 行まで）。"
                                  "使っていない行を削除してください。")
                cells = values = 0
                layout.row(element)
            elif tag == "mergeCell":
                layout.merge(element.get("ref") or "")
            if tag in ("c", "row", "v", "is", "mergeCell"):
                element.clear()


def _row_number(element: Any, counted: int) -> int:
    r = element.get("r") or ""
    return int(r) if r.isdigit() and len(r) < 10 else counted


# -- .csv -------------------------------------------------------------------------------------------

def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    if "\x00" in text:
        raise _refuse("CSV として読み取れません（テキストのファイルではありません）。")
    try:
        return list(itertools.islice(_csv_rows(text), MAX_ROWS + 2))
    except csv.Error as exc:
        raise _refuse(f"CSV として読み取れません（{exc}）。") from exc


def _csv_rows(text: str) -> Iterator[list[str]]:
    for row in csv.reader(io.StringIO(text)):
        yield row[:MAX_COLUMNS]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp932"):  # Excel in Japan saves CSV as Shift_JIS (cp932)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse("文字コードを読み取れません。UTF-8 か Shift_JIS の CSV にしてください。")
