"""When two sheets say the same thing: equal once the differences nobody can see are set aside.

A save or an import that changes nothing visible must not make a new version or mark a sheet 更新.
What nobody can see: what the cleaning rule removes (CR LF or CR for LF, control characters), NFC,
white space at the end of a line or of a text, white space around a list row, and blank list rows
(the editor always offers one).
"""

from __future__ import annotations

import unicodedata

from coach.cleaning import clean_text
from coach.sheet import LIST_FIELDS, Sheet

_TEXTS = ("section", "title", "asis", "tobe", "purpose", "margin")


def canonical_text(text: str) -> str:
    """The text as a reader sees it: cleaned, composed kana (NFC), no white space at line ends or
    around the text (so no blank lines at either end)."""
    lines = [line.rstrip() for line in unicodedata.normalize("NFC", clean_text(text)).split("\n")]
    return "\n".join(lines).strip()


def canonical(sheet: Sheet, items_as_lines: bool = False) -> tuple[tuple[str, ...], ...]:
    """The sheet's visible content. With `items_as_lines`, a list item written over several lines
    counts as one item per line: the form a spreadsheet export gives it (one item per line in a cell)."""
    texts = tuple(canonical_text(getattr(sheet, name)) for name in _TEXTS)
    lists = []
    for name in LIST_FIELDS:
        items = [canonical_text(item) for item in getattr(sheet, name)]
        if items_as_lines:
            items = [line for item in items for line in item.split("\n")]
        lists.append(tuple(item.strip() for item in items if item.strip()))
    return (texts, *lists)


def same_content(a: Sheet, b: Sheet, items_as_lines: bool = False) -> bool:
    return canonical(a, items_as_lines) == canonical(b, items_as_lines)


def is_blank(sheet: Sheet) -> bool:
    """Nothing written in the sheet's own fields yet (a brand-new sheet has only its names)."""
    texts, problems, tasks = canonical(sheet)
    return not any(texts[2:5]) and not problems and not tasks
