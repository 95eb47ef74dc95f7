"""The critique service: runs the critics, applies the guard, and says which engine answered."""

from __future__ import annotations

from typing import Protocol

from coach.critics.rules import RuleCritic
from coach.findings import Critique, Finding
from coach.guard import guard
from coach.sheet import Sheet


class Critic(Protocol):
    name: str

    def critique(self, sheet: Sheet) -> list[Finding]: ...


class CritiqueService:
    def __init__(self, critics: list[Critic] | None = None) -> None:
        self.critics: list[Critic] = critics if critics is not None else [RuleCritic()]

    def critique(self, sheet: Sheet) -> Critique:
        candidates: list[Finding] = []
        for critic in self.critics:
            candidates.extend(critic.critique(sheet))
        result = guard(candidates, sheet)
        critique = Critique(findings=result.kept, engine="+".join(c.name for c in self.critics))
        critique._rejected = len(result.rejected)
        return critique
