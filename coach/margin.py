"""Moving a solution out of the sheet into the margin (欄外メモ), where solutions belong."""

from __future__ import annotations

import re

from coach.sheet import MAX_TEXT, Sheet

_LEFTOVER = re.compile(r"^[\s、。，．・]+|[\s、，・]+$")


def _remove(text: str, evidence: str) -> str:
    """Take the evidence out of a text, with the sentence ending that belonged to it."""
    at = text.find(evidence)
    if at < 0:
        return text
    end = at + len(evidence)
    if end < len(text) and text[end] in "。．.!！?？":
        end += 1
    rest = text[:at] + text[end:]
    lines = [_LEFTOVER.sub("", line) for line in rest.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def move_to_margin(sheet: Sheet, field: str, item: int | None, evidence: str) -> Sheet:
    """Return a new sheet with `evidence` moved from field[item] to the end of the margin."""
    if not evidence.strip():
        return sheet
    update: dict[str, object] = {}
    if field in ("problems", "tasks"):
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
