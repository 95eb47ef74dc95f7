"""What the model must answer: the contract's finding, typed, with limits. Anything else is dropped."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coach.findings import Code
from coach.sheet import SheetField


class LLMFinding(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: Code
    field: SheetField
    item: int | None = Field(default=None, ge=0, le=19)
    # Kept as it was so the schema the model reads does not change, but ignored: severity is a
    # property of the code (coach.findings.SEVERITY), the model cannot choose it.
    severity: Literal["error", "warning"] = "warning"
    evidence: str = Field(min_length=1, max_length=400)
    message: str = Field(min_length=1, max_length=300)
    question: str = Field(default="", max_length=200)


class LLMCritique(BaseModel):
    """指摘の一覧 (findings of a curry-rice sheet)."""

    model_config = ConfigDict(extra="ignore")

    findings: list[LLMFinding] = Field(default_factory=list, max_length=12)
