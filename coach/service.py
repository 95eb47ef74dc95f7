"""The critique service: runs the critics, applies the guard, and says which engine answered.

Rules answer instantly (`critique`). The LLM coach answers on demand (`deep`), merged with the
rules; whatever happens to the LLM, the rules' findings are always there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from coach.critics.rules import RuleCritic, plausible
from coach.findings import Critique, Finding
from coach.guard import guard
from coach.llm.critic import LLMCritic, LLMUnavailable
from coach.sheet import Sheet

log = logging.getLogger("coach.service")


class Critic(Protocol):
    name: str

    def critique(self, sheet: Sheet) -> list[Finding]: ...


@dataclass
class DeepResult:
    critique: Critique
    notice: str = ""  # Japanese, when the LLM could not help this time
    masked: list[str] = field(default_factory=list)  # kinds of personal data kept from the model
    added: int = 0  # findings the LLM added to the rules'
    rejected: int = 0  # LLM findings the guard removed
    invalid: int = 0  # LLM answers outside the schema
    llm_raw: list[Finding] = field(default_factory=list)  # what the model said, before the guard
    llm_kept: list[Finding] = field(default_factory=list)  # what passed the guard


def merge(rules: list[Finding], llm: list[Finding], sheet: Sheet | None = None) -> list[Finding]:
    """Rules first; the LLM adds only what the rules did not already say for that field and row,
    and (given the sheet) only where the rules' analysis saw a weak signal of that code.

    One defect yields one code (contract §2), so a field/row the rules already flagged keeps the
    rules' code, and a clean-sheet encouragement goes once anything is found.
    """
    coded = [f for f in rules if f.code is not None]
    taken = {(f.field, f.item) for f in coded}
    added = []
    for f in llm:
        if f.code is None or (f.field, f.item) in taken:
            continue
        if sheet is not None and not plausible(sheet, f):
            continue
        taken.add((f.field, f.item))
        added.append(f)
    if not coded and not added:
        return rules
    return coded + added


def _one_per_place(findings: list[Finding]) -> list[Finding]:
    """One finding per row and code: a second one at the same place says nothing new."""
    seen: set[tuple[str | None, str, int | None]] = set()
    out = []
    for f in findings:
        if f.code is not None and f.key() in seen:
            continue
        seen.add(f.key())
        out.append(f)
    return out


class CritiqueService:
    def __init__(self, critics: list[Critic] | None = None, llm: LLMCritic | None = None) -> None:
        self.critics: list[Critic] = critics if critics is not None else [RuleCritic()]
        self.llm = llm

    @property
    def engine(self) -> str:
        return "+".join(c.name for c in self.critics)

    def critique(self, sheet: Sheet) -> Critique:
        kept: list[Finding] = []
        rejected = rules_rejected = 0
        for critic in self.critics:
            result = guard(critic.critique(sheet), sheet, source=critic.name)
            kept.extend(result.kept)
            rejected += len(result.rejected)
            if critic.name == RuleCritic.name:
                rules_rejected += len(result.rejected)
        critique = Critique(findings=_one_per_place(kept), engine=self.engine)
        critique._rejected = rejected
        critique._rules_rejected = rules_rejected
        return critique

    def deep(self, sheet: Sheet, references: list[Sheet] | None = None) -> DeepResult:
        rules = self.critique(sheet)
        if self.llm is None:
            return DeepResult(rules, notice="AIコーチは設定されていません。ルールによる指摘を表示しています。")
        try:
            answer = self.llm.critique(sheet, references)
        except LLMUnavailable as exc:
            return DeepResult(rules, notice=exc.notice)
        checked = guard(answer.findings, sheet)
        if checked.rejected:
            log.warning("guard removed %d of %d LLM findings", len(checked.rejected), len(answer.findings))
        merged = merge(rules.findings, checked.kept, sheet)
        critique = Critique(findings=merged, engine=f"{self.engine}+{self.llm.name}",
                            prompt_version=self.llm.prompt_version)
        critique._rejected = rules.rejected + len(checked.rejected)
        critique._rules_rejected = rules.rules_rejected
        added = len([f for f in merged if f not in rules.findings])
        return DeepResult(critique, masked=answer.masked, added=added, rejected=len(checked.rejected),
                          invalid=answer.invalid, llm_raw=answer.findings, llm_kept=checked.kept)
