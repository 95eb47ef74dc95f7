"""Issue #10: the rule critic remembers each field's findings by the texts they depend on
(coach/critics/rules.py). Remembered findings must be exactly what a fresh analysis gives, for every
sheet of the eval sets and for the sheets a writer passes through while typing them; and a typing
pause that changes one field must not analyse the others again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coach.critics import rules
from coach.critics.rules import RuleCritic
from coach.evaluation import DEFAULT_SETS, load
from coach.sheet import Sheet

ROOT = Path(__file__).resolve().parents[2]
STEP = 40  # characters revealed per typing pause in the progressions below


def _eval_sheets() -> list[Sheet]:
    return [row.sheet for name in DEFAULT_SETS for row in load(ROOT / name)]


def _typed(sheet: Sheet) -> list[Sheet]:
    """The sheet as its writer passes through it: each field revealed STEP characters at a time, in order."""
    out = []
    current = sheet.model_copy(update={"asis": "", "tobe": "", "purpose": "", "problems": [""], "tasks": [""]})
    for field in ("asis", "tobe", "purpose"):
        full: str = getattr(sheet, field)
        for end in range(STEP, len(full) + STEP, STEP):
            current = current.model_copy(update={field: full[:end]})
            out.append(current)
    for field in ("problems", "tasks"):
        rows: list[str] = getattr(sheet, field)
        for i, row in enumerate(rows):
            for end in range(STEP, len(row) + STEP, STEP):
                current = current.model_copy(update={field: [*rows[:i], row[:end]]})
                out.append(current)
    return out


def _fresh(sheet: Sheet) -> list[Any]:
    rules.forget()
    return [f.model_dump() for f in RuleCritic().critique(sheet)]


def test_remembered_findings_are_the_fresh_ones_for_every_eval_sheet_and_its_typing() -> None:
    sheets = _eval_sheets()
    assert len(sheets) > 300
    typed = [s for sheet in sheets[::4] for s in _typed(sheet)]
    every = [*sheets, *typed]
    fresh = [_fresh(s) for s in every]
    critic = RuleCritic()
    for _ in range(2):  # filled, then answered from what was remembered
        warm = [[f.model_dump() for f in critic.critique(s)] for s in every]
        assert warm == fresh
    rules.forget()


def test_a_pause_that_changes_one_field_analyses_only_that_field(monkeypatch: pytest.MonkeyPatch) -> None:
    rules.forget()
    sheet = _eval_sheets()[0]
    critic = RuleCritic()
    first = critic.critique(sheet)
    calls: list[str] = []
    for name in ("sentences", "purpose_defect", "item_names_means", "is_placeholder"):
        original = getattr(rules, name)
        monkeypatch.setattr(rules, name, lambda *a, _n=name, _f=original, **k: calls.append(_n) or _f(*a, **k))
    assert critic.critique(sheet) == first and calls == []  # the same sheet: nothing analysed again
    first.append(first[0])  # a caller's list is its own: the remembered findings are not changed
    assert critic.critique(sheet) != first
    changed = sheet.model_copy(update={"tasks": [*sheet.tasks[:-1], sheet.tasks[-1] + "を見直す"]})
    critic.critique(changed)
    assert "purpose_defect" not in calls  # the purpose and the ToBe were not read again
    assert calls.count("is_placeholder") == 1  # only the changed row
    rules.forget()


def test_a_remembered_finding_cannot_be_changed_by_a_caller() -> None:
    """The same Finding objects go to every caller: changing one in place would change what the next
    writer of the same text is told, so a Finding is frozen."""
    import pydantic

    rules.forget()
    sheet = _eval_sheets()[0]
    found = RuleCritic().critique(sheet)
    with pytest.raises(pydantic.ValidationError):
        found[0].severity = "info"  # type: ignore[misc]
    assert RuleCritic().critique(sheet) == found
    rules.forget()
