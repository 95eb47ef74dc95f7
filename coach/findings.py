"""Findings and critiques, as fixed by the contract (sections 2 and 3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from coach.sheet import SheetField

Code = Literal[
    "FIELD_EMPTY",
    "TOBE_MIRRORS_ASIS",
    "TOBE_VAGUE",
    "SOLUTION_IN_SHEET",
    "PROBLEM_NOT_GAP",
    "TASK_NOT_ACTIONABLE",
    "PURPOSE_MISSING",
]
CODES: tuple[Code, ...] = (
    "FIELD_EMPTY",
    "TOBE_MIRRORS_ASIS",
    "TOBE_VAGUE",
    "SOLUTION_IN_SHEET",
    "PROBLEM_NOT_GAP",
    "TASK_NOT_ACTIONABLE",
    "PURPOSE_MISSING",
)
Severity = Literal["error", "warning", "info"]

# How serious each code is: a property of the code, the one table everybody uses. The rules set
# it, the LLM cannot choose it (its answer's severity is ignored) and a reviewer's added finding
# takes it. A finding without a code (encouragement) is "info".
SEVERITY: dict[Code, Severity] = {
    "FIELD_EMPTY": "error",
    "TOBE_MIRRORS_ASIS": "error",
    "SOLUTION_IN_SHEET": "error",
    "PROBLEM_NOT_GAP": "error",
    "TASK_NOT_ACTIONABLE": "error",
    "TOBE_VAGUE": "warning",
    "PURPOSE_MISSING": "warning",
}


def severity_of(code: Code | None) -> Severity:
    return SEVERITY[code] if code is not None else "info"


# Which fields each code may point at (contract §2): the guard drops a finding elsewhere, the
# prompt tells the model, and a reviewer's added finding is checked against it.
FIELDS_OF: dict[Code, tuple[SheetField, ...]] = {
    "FIELD_EMPTY": ("asis", "tobe", "problems", "tasks"),
    "TOBE_MIRRORS_ASIS": ("tobe",),
    "TOBE_VAGUE": ("tobe",),
    "SOLUTION_IN_SHEET": ("tobe", "problems", "tasks"),
    "PROBLEM_NOT_GAP": ("problems",),
    "TASK_NOT_ACTIONABLE": ("tasks",),
    "PURPOSE_MISSING": ("purpose",),
}

def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many errors and warnings: the one count the lists, the queue, the review and exports show."""
    out = {"error": 0, "warning": 0}
    for f in findings:
        if f.code is not None and f.severity in out:
            out[f.severity] += 1
    return out


# Japanese names of the codes, for people.
CODE_LABELS: dict[str, str] = {
    "FIELD_EMPTY": "未記入",
    "TOBE_MIRRORS_ASIS": "現状の裏返し",
    "TOBE_VAGUE": "抽象的なあるべき姿",
    "SOLUTION_IN_SHEET": "シート内の解決手段",
    "PROBLEM_NOT_GAP": "問題が「やること」になっている",
    "TASK_NOT_ACTIONABLE": "課題が「状態・不満」になっている",
    "PURPOSE_MISSING": "目的が書かれていない",
}


class Finding(BaseModel):
    # Frozen: the rule critic remembers findings per field and hands the same objects to every caller
    # (coach/critics/rules.py); a change to one would change what everyone is told.
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code | None
    field: SheetField
    item: int | None = None
    severity: Severity
    evidence: str = Field(max_length=4000)
    message: str = Field(max_length=600)
    question: str = Field(default="", max_length=400)

    def key(self) -> tuple[str | None, str, int | None]:
        return (self.code, self.field, self.item)


class Critique(BaseModel):
    findings: list[Finding]
    engine: str
    prompt_version: str | None = None
    # How many findings the guard removed. Kept off the JSON so the contract's shape stays exact.
    _rejected: int = PrivateAttr(default=0)
    # How many of those were the rule critic's own (a bug whenever it is not 0).
    _rules_rejected: int = PrivateAttr(default=0)

    @property
    def rejected(self) -> int:
        return self._rejected

    @property
    def rules_rejected(self) -> int:
        return self._rules_rejected

    def for_field(self, field: str) -> list[Finding]:
        return [f for f in self.findings if f.field == field]

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.code is not None]
