"""A readable diff between two versions of a sheet, field by field, for people who do not read patches.

Japanese has no spaces, so text is compared by character and the result is merged into runs:
("same", "…"), ("del", "…"), ("ins", "…"). List fields are matched row by row first.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from coach.sheet import EVERY_FIELD, LABELS, Sheet

FIELDS = EVERY_FIELD
Run = tuple[str, str]


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    rows: list[list[Run]]  # one row for text fields, one per item for lists
    changed: bool


def text_runs(old: str, new: str) -> list[Run]:
    runs: list[Run] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("same", old[i1:i2]))
            continue
        if op in ("delete", "replace"):
            runs.append(("del", old[i1:i2]))
        if op in ("insert", "replace"):
            runs.append(("ins", new[j1:j2]))
    return _tidy(runs)


def _tidy(runs: list[Run]) -> list[Run]:
    """Short equal islands inside a change read as noise: fold them into the change."""
    out: list[Run] = []
    for i, (kind, text) in enumerate(runs):
        between = 0 < i < len(runs) - 1 and runs[i - 1][0] != "same" and runs[i + 1][0] != "same"
        if kind == "same" and between and len(text) <= 2:
            out += [("del", text), ("ins", text)]
        else:
            out.append((kind, text))
    merged: list[Run] = []
    dels, ins = "", ""
    for kind, text in out + [("same", "")]:
        if kind == "del":
            dels += text
        elif kind == "ins":
            ins += text
        else:
            if dels:
                merged.append(("del", dels))
            if ins:
                merged.append(("ins", ins))
            dels, ins = "", ""
            if text:
                merged.append(("same", text))
    return merged


def list_rows(old: list[str], new: list[str]) -> list[list[Run]]:
    rows: list[list[Run]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [[("same", t)] for t in old[i1:i2]]
        elif op == "replace" and i2 - i1 == j2 - j1:
            rows += [text_runs(a, b) for a, b in zip(old[i1:i2], new[j1:j2], strict=True)]
        else:
            rows += [[("del", t)] for t in old[i1:i2]]
            rows += [[("ins", t)] for t in new[j1:j2]]
    return rows


def diff(old: Sheet, new: Sheet) -> list[FieldDiff]:
    out = []
    for name in FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if isinstance(a, list):
            rows = list_rows(a, b)
        else:
            rows = [text_runs(a or "", b or "")]
        changed = a != b
        out.append(FieldDiff(name, LABELS.get(name, name), rows, changed))
    return out
