"""Excel and CSV in and out: the sheets (one row per sheet) and the summary (まとめシート).

Export → import gives the same sheets: list fields are one cell with one item per line. Text that
a spreadsheet would run as a formula is written as plain text (xlsx) or with a leading ' (CSV);
so is text that already starts with ', and import removes exactly the ' export added, so the CSV
round trip is lossless. Control characters a spreadsheet cannot hold are dropped on export.
Reading the file safely is coach/workspace/upload.py's job. Import never writes anything itself: it
returns a plan to preview.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from coach.cleaning import clean_text
from coach.errors import BadInput, FieldError, from_validation_error
from coach.list_markers import items_of
from coach.repository import StoredSheet
from coach.sheet import FIELDS, HEADER_FIELDS, LABELS, LIST_FIELDS, TEXT_FIELDS, Sheet, SheetWrite
from coach.sheet_changes import changed_fields, labels
from coach.status import SheetStatus
from coach.workspace import upload
from coach.workspace.worksheet import Cell, Table

COLUMNS = [("id", "ID"), ("section", "係名"), ("title", "業務・案件名"), ("asis", "現状"), ("tobe", "あるべき姿"),
           ("purpose", "目的"), ("problems", "問題"), ("tasks", "課題"), ("margin", "欄外メモ")]
REQUIRED = ("section", *FIELDS)
MAX_BYTES = upload.MAX_BYTES
MAX_ROWS = upload.MAX_ROWS
# What makes a spreadsheet run a cell as a formula: these first (also after leading white space or
# line breaks, and in their full-width forms, which Japanese input produces), or a tab or CR first.
FORMULA_CHARS = "=+-@＝＋－＠"
ESCAPE = "'"
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but tab and line breaks (openpyxl's rule)
SHEETS_TITLE, SUMMARY_TITLE = "シート", "まとめ"
# The state the DX team gives the sheets an import creates (updated sheets keep theirs): a draft by
# default, so the section reads what the import made of its Excel before it goes to review.
IMPORT_STATES = {s.value: s.label for s in (SheetStatus.DRAFT, SheetStatus.SUBMITTED)}


# -- out ------------------------------------------------------------------------------------------

def sheet_row(external_id: str, sheet: Sheet) -> list[str]:
    return [external_id, sheet.section, sheet.title, sheet.asis, sheet.tobe, sheet.purpose,
            "\n".join(sheet.problems), "\n".join(sheet.tasks), sheet.margin]


def to_csv(headers: list[str], rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel in Japan opens it without garbling."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for row in rows:
        w.writerow([_csv_safe(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _csv_safe(value: Any) -> Any:
    return csv_escape(printable(value)) if isinstance(value, str) else value


def printable(text: str) -> str:
    """Stored text without the control characters no spreadsheet can hold."""
    return ILLEGAL.sub("", text)


def _needs_escape(text: str) -> bool:
    return text[:1] in ("\t", "\r", ESCAPE) or text.lstrip()[:1] in tuple(FORMULA_CHARS)


def csv_escape(text: str) -> str:
    """A leading ' when a spreadsheet would run the text, or when it already starts with '."""
    return ESCAPE + text if _needs_escape(text) else text


def csv_unescape(text: str) -> str:
    """Exactly what csv_escape added, nothing else: a ' a person typed before plain text stays."""
    if text.startswith(ESCAPE) and _needs_escape(text[1:]):
        return text[1:]
    return text


def to_xlsx(tables: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for title, headers, rows in tables:
        ws = wb.create_sheet(title)
        ws.append(headers)
        for row in rows:
            ws.append([printable(v) if isinstance(v, str) else v for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="F6EAD8")
        for line in ws.iter_rows(min_row=2):
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        for col, header in zip(ws.columns, headers, strict=False):
            ws.column_dimensions[col[0].column_letter].width = 14 if len(header) <= 4 else 24
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- in ---------------------------------------------------------------------------------------------

@dataclass
class ImportRow:
    line: int
    external_id: str
    values: dict[str, Any]
    sheet: Sheet | None = None
    errors: list[str] = field(default_factory=list)
    action: str = "new"  # new | update | same | error
    target_id: int | None = None
    changes: list[str] = field(default_factory=list)  # the fields an update changes (coach/sheet_changes.py)

    @property
    def changed_labels(self) -> str:
        return labels(self.changes)


def read_table(filename: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and rows of an uploaded file; for CSV, the ' export added is taken off again."""
    table = read_file(filename, data)
    return table.headers, table.rows


def read_file(filename: str, data: bytes) -> Table:
    """As read_table, with the cells whose value is missing (coach/workspace/worksheet.py) for `parse`."""
    table = upload.read(filename, data)
    if filename.lower().endswith(".csv"):
        table.rows = [[csv_unescape(v) for v in r] for r in table.rows]
    return table


def _key(header: str) -> str | None:
    h = unicodedata.normalize("NFKC", header).strip().lower()
    for name, label in COLUMNS:
        if h in (name, unicodedata.normalize("NFKC", label).lower()):
            return name
    aliases = {"係": "section", "業務名": "title", "案件名": "title", "欄外": "margin"}
    return aliases.get(h)


def columns_of(headers: list[str]) -> dict[str, int]:
    where: dict[str, int] = {}
    for i, h in enumerate(headers):
        k = _key(h)
        if k and k not in where:
            where[k] = i
    missing = [LABELS.get(k, k) for k in REQUIRED if k not in where]
    if missing:
        found = "、".join(h for h in headers if h.strip()) or "（なし）"
        raise BadInput([FieldError("file", None, f"列が足りません：{'、'.join(missing)}。1行目に見出しが必要です"
                                                 f"（見つかった見出し：{found}）。")])
    return where


def parse(headers: list[str], rows: list[list[str]], missing: dict[Cell, str] | None = None) -> list[ImportRow]:
    """Rows as sheets to import, or the reasons they cannot be (`missing`: see coach/workspace/worksheet.py)."""
    where = columns_of(headers)
    out = []
    for n, row in enumerate(rows, start=2):  # line 1 is the header, as the spreadsheet numbers it
        unread = unreadable_cells(n, where, missing or {})
        if not any(c.strip() for c in row) and not unread:
            continue

        def cell(k: str, row: list[str] = row) -> str:
            i = where.get(k)
            return clean_text(row[i]) if i is not None and i < len(row) else ""  # the one cleaning rule

        values: dict[str, Any] = {k: cell(k) for k in (*HEADER_FIELDS, *TEXT_FIELDS, "margin")}
        for k in LIST_FIELDS:
            values[k] = items_of(cell(k))
        item = ImportRow(line=n, external_id=cell("id").strip()[:100], values=values)
        item.errors.extend(unread.values())
        try:
            item.sheet = SheetWrite.model_validate(values).sheet()
        except ValidationError as exc:
            for e in from_validation_error(exc).errors:
                where_in = f"{e.item + 1}行目の" if e.item is not None else ""
                if e.field not in unread:  # the formula is the reason, said once
                    item.errors.append(f"{LABELS.get(e.field, e.field)}：{where_in}{e.reason}")
        if item.errors:
            item.action, item.sheet = "error", None
        if item.sheet is not None and not item.sheet.section.strip():
            item.action, item.sheet = "error", None
            item.errors.append("係名：必須の項目です。")
        out.append(item)
    if not out:
        raise BadInput([FieldError("file", None, "取り込むシートの行がありません（見出しの行だけです）。")])
    return out


def unreadable_cells(line: int, where: dict[str, int], missing: dict[Cell, str]) -> dict[str, str]:
    """Field → the reason its cell on `line` has no value to import, in Japanese, naming the column."""
    out = {}
    for key, column in where.items():
        why = missing.get((line, column))
        if why is None:
            continue
        label = f"{LABELS.get(key, key)}（{get_column_letter(column + 1)}列）"
        out[key] = (f"{label}：数式の結果がエラー（{why}）です。Excel で数式を直してから取り込んでください。" if why else
                    f"{label}：数式の計算結果がファイルに保存されていません。Excel で開いて保存し直すか、"
                    "値として貼り付けてから取り込んでください。")
    return out


def import_state(value: str) -> str:
    """The state chosen in the preview, checked: a 4xx with the reason in Japanese otherwise."""
    if value not in IMPORT_STATES:
        choices = "」か「".join(IMPORT_STATES.values())
        raise BadInput([FieldError("status", None, f"取り込んだシートの状態は「{choices}」から選んでください。")])
    return value


def plan(rows: list[ImportRow], find: Callable[[str], StoredSheet | None],
         may_update: Callable[[StoredSheet], bool]) -> list[ImportRow]:
    """Decide per row: a new sheet, an update of the sheet with that ID, or nothing to change.

    An ID that is one of our own sheet numbers counts only when the section matches too, so a
    file from another system whose IDs happen to be small numbers never overwrites our sheets.
    A sheet the importer may not update (a section's draft, see coach/workspace/permissions.py) is an error.
    """
    seen: dict[str, int] = {}
    for row in rows:
        if row.sheet is None:
            continue
        if row.external_id and row.external_id in seen:
            row.action = "error"
            row.errors.append(f"ID「{row.external_id}」が {seen[row.external_id]} 行目と重なっています。")
            row.sheet = None
            continue
        if row.external_id:
            seen[row.external_id] = row.line
        target = find(row.external_id) if row.external_id else None
        if target is not None and (target.external_id == row.external_id or target.section == row.sheet.section):
            row.target_id = target.id
            row.changes = changed_fields(target.sheet, row.sheet)
            row.action = "update" if row.changes else "same"
            if row.action == "update" and not may_update(target):
                row.action, row.sheet = "error", None
                row.errors.append(f"ID「{row.external_id}」のシートは係が書いている途中（下書き）か、受理されて"
                                  "変更できない状態のため、取り込みでは書き換えられません。レビュー待ちか差し戻し前の"
                                  "提出済みのシートだけを更新できます（受理されたシートは係が「改訂する」を押してから）。")
        else:
            row.action = "new"
    return rows
