"""Moving a solution out of the sheet into the margin (欄外メモ), where solutions belong."""

from __future__ import annotations

import re

from coach.sheet import LIST_FIELDS, MAX_TEXT, Sheet

_LEFTOVER = re.compile(r"^[ \t\u3000]*[、。，．]+|[\s、，・]+$")
# A line left with nothing but its bullet (the whole bulleted sentence moved).
_BARE_BULLET = re.compile(r"[\s]*(?:[・●○■□◆◇▼▽★☆※\-–—*]|[①-⑳]|[(（]?\d{1,2}[).)）．])?[\s]*")
_ENDS = "。．.!！?？"
_COMMAS = "、，,"


def _remove(text: str, evidence: str) -> str:
    """Take the evidence (a sentence or a clause) out of a text, keeping the rest as written.

    A clause takes its comma with it (「A、B、C。」 without B is 「A、C。」); a last clause leaves the
    sentence's full stop to the clause before it (without C: 「A、B。」); a whole sentence takes
    its own full stop.
    """
    at = text.find(evidence)
    if at < 0:
        return text
    start, end = at, at + len(evidence)
    after = text[end] if end < len(text) else ""
    before = text[:start].rstrip(" \t\u3000")
    if after in _COMMAS:
        end += 1  # a clause with the comma that closed it
    elif before.endswith(tuple(_COMMAS)):
        start = len(before) - 1  # the last clause: its comma goes, the full stop stays
    elif after and after in _ENDS:
        end += 1  # a whole sentence with its full stop
    rest = text[:start] + text[end:]
    lines = [_LEFTOVER.sub("", line) for line in rest.split("\n")]
    return "\n".join(line for line in lines if not _BARE_BULLET.fullmatch(line)).strip()


def move_to_margin(sheet: Sheet, field: str, item: int | None, evidence: str) -> Sheet:
    """Return a new sheet with `evidence` moved from field[item] to the end of the margin."""
    if not evidence.strip():
        return sheet
    update: dict[str, object] = {}
    if field in LIST_FIELDS:
        items = list(getattr(sheet, field))
        if item is None or not 0 <= item < len(items) or evidence not in items[item]:
            return sheet
        remaining = _remove(items[item], evidence)
        if remaining:
            items[item] = remaining
        else:
            del items[item]
        update[field] = items
    elif field in ("tobe", "asis", "purpose"):
        text = getattr(sheet, field)
        if evidence not in text:
            return sheet
        update[field] = _remove(text, evidence)
    else:
        return sheet
    margin = sheet.margin.rstrip()
    line = evidence.strip()
    if line not in margin.split("\n"):
        margin = f"{margin}\n{line}" if margin else line
    update["margin"] = margin[:MAX_TEXT]
    return sheet.model_copy(update=update)
