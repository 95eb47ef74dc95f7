"""What a worksheet says beyond its values: merged ranges, and formula cells without a saved result.

openpyxl's streaming mode (the only one coach/upload.py uses on an uploaded file) gives each cell's
value, and for a formula the result Excel saved with it (`data_only`). It does not give merged
ranges, and it gives "" both for a formula nobody calculated and for an empty cell. So the
pre-scan of the sheet XML in coach/upload.py hands each `<c>`, `<row>` and `<mergeCell>` element to
a `Layout` as it streams past; afterwards the layout fills the merged ranges into the rows (the
top-left value applies to every cell of the range, as a person reads it) and lists the cells whose
value is missing, so the import can say so on that row. Everything kept is bounded by the grid that
is read (rows × columns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from coach.errors import BadInput, FieldError

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
TEXT_RESULTS = ("str", "s", "inlineStr")  # a formula whose saved result is text may be empty
MAX_MERGED = 5000  # merged ranges in the sheet (openpyxl builds an object for each, slowly: ~0.2 ms)
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
Cell = tuple[int, int]  # (row as the spreadsheet numbers it, column index from 0)


@dataclass
class Table:
    """An uploaded table: the header row, the rows below it, and why some cells have no value
    (`missing`: "" for a formula without a saved result, else the error it saved, e.g. "#REF!")."""

    headers: list[str]
    rows: list[list[str]]
    missing: dict[Cell, str] = field(default_factory=dict)


def _cell_ref(ref: str) -> Cell | None:
    found = _REF.fullmatch(ref)
    if found is None:
        return None
    column = 0
    for letter in found.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(found.group(2)), column - 1


class Layout:
    def __init__(self, max_rows: int, max_columns: int) -> None:
        self.max_rows, self.max_columns = max_rows, max_columns
        self.missing: dict[Cell, str] = {}
        self.merged: list[tuple[int, int, int, int]] = []  # first row, first column, last row, last column
        self._area = self._merges = 0
        self._row = 0  # the row counter and column counter, kept as openpyxl keeps them
        self._column = -1
        self._pending: list[tuple[int | None, int, str]] = []  # this row's cells: (row if given, column, why)
        self._value: str | None = None  # the current cell's saved value (its `<v>` is cleared before the `<c>`)

    # -- fed by the scan, element by element ------------------------------------------------------

    def value(self, element: Any) -> None:
        """A `<v>` (or `<is>`) element inside the cell that ends next."""
        self._value = (element.text or "")[:20] if element.tag.rsplit("}", 1)[-1] == "v" else "inline"

    def cell(self, element: Any) -> None:
        """A `<c>` element, before it is cleared (its `<f>`, if any, is still there)."""
        where = _cell_ref(element.get("r") or "")
        self._column = where[1] if where else self._column + 1
        why = self._why_missing(element, self._value or "")
        self._value = None
        if why is not None and self._column < self.max_columns:
            self._pending.append((where[0] if where else None, self._column, why))

    def row(self, element: Any) -> None:
        """The end of a `<row>` element: its cells now know their row number."""
        r = element.get("r") or ""
        self._row = int(r) if r.isdigit() and len(r) < 10 else self._row + 1
        for row, column, why in self._pending:
            if (row or self._row) <= self.max_rows:
                self.missing[(row or self._row, column)] = why
        self._pending.clear()
        self._column = -1

    def merge(self, ref: str) -> None:
        """A `<mergeCell ref="B2:B4">`, clipped to the grid that is read; refused when the ranges
        together cover more than that grid (ranges of a real sheet never overlap), or when there
        are more than MAX_MERGED of them."""
        self._merges += 1
        if self._merges > MAX_MERGED:
            raise BadInput([FieldError("file", None, f"結合されたセルの範囲が多すぎます（{MAX_MERGED:,} 個まで）。"
                                                     "使っていないセルの結合を解除して保存し直してください。")])
        first, _, last = ref.partition(":")
        start, end = _cell_ref(first), _cell_ref(last)
        if start is None or end is None:
            return
        top, bottom = min(start[0], end[0]), min(max(start[0], end[0]), self.max_rows)
        left, right = min(start[1], end[1]), min(max(start[1], end[1]), self.max_columns - 1)
        if top < 1 or top > bottom or left > right:
            return
        self._area += (bottom - top + 1) * (right - left + 1)
        if self._area > self.max_rows * self.max_columns:
            raise BadInput([FieldError("file", None, "結合されたセルが多すぎるか、重なっています。"
                                                     "セルの結合を解除して保存し直してください。")])
        self.merged.append((top, left, bottom, right))

    @staticmethod
    def _why_missing(element: Any, value: str) -> str | None:
        kind = element.get("t", "n")
        if kind == "e":
            return value or "#N/A"
        if element.find(f"{MAIN}f") is not None and not value and kind not in TEXT_RESULTS:
            return ""
        return None

    # -- applied to the rows openpyxl read --------------------------------------------------------

    def fill(self, rows: list[list[str]]) -> None:
        """Give every cell of a merged range the top-left cell's value (and its missing reason), in
        the rows that hold something of their own: a range over blank rows adds no rows."""
        own = [any(v.strip() for v in row) for row in rows]
        for top, left, bottom, right in self.merged:
            if top > len(rows) or left >= len(rows[top - 1]):
                continue
            value, why = rows[top - 1][left], self.missing.get((top, left))
            for r in range(top, min(bottom, len(rows)) + 1):
                if not own[r - 1]:
                    continue
                line = rows[r - 1]
                line.extend([""] * (right + 1 - len(line)))
                for c in range(left, right + 1):
                    line[c] = value
                    if why is not None:
                        self.missing[(r, c)] = why
                    else:
                        self.missing.pop((r, c), None)
