"""Which fields of a sheet a write would change, compared as a person reads them.

The one comparison for "is this a change?" in the import (and wherever else a write is compared
with what is stored): invisible differences are not changes — line breaks (CR LF, CR), control
characters the cleaning rule drops, composed or decomposed kana (NFC), white space around a text or
an item, and the list markers an import takes off (coach/list_markers.py). So a file just exported
and imported again changes nothing.
"""

from __future__ import annotations

from coach.list_markers import items_of
from coach.sameness import canonical_text
from coach.sheet import LABELS, LIST_FIELDS, Sheet

FIELDS = ("section", "title", "asis", "tobe", "purpose", "problems", "tasks", "margin")


def _text(value: str) -> str:
    return canonical_text(value)  # the one rule for "the same text" (coach/sameness.py)


def comparable(sheet: Sheet, field: str) -> str | list[str]:
    """The field as it is compared: normalised text, or the normalised items of a list."""
    if field in LIST_FIELDS:
        return items_of(_text("\n".join(getattr(sheet, field))))
    return _text(getattr(sheet, field))


def changed_fields(before: Sheet, after: Sheet) -> list[str]:
    """The fields (in the sheet's order) whose content differs; empty when nothing visible changed."""
    return [f for f in FIELDS if comparable(before, f) != comparable(after, f)]


def labels(fields: list[str]) -> str:
    """「あるべき姿、課題」: the fields' Japanese names, for a person."""
    return "、".join(LABELS.get(f, f) for f in fields)
