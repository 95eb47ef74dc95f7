"""Someone else saved first: what the editor tells the person whose save was refused.

Their text stays in the form (nothing is saved over the other person's version); the notice says
which fields the other save changed, links to that version and the history, and offers to save
the form as a new version after all (both versions stay in the history).
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.repository import SheetNotFound, SheetRepository, VersionConflict
from coach.workspace.diff import diff


@dataclass(frozen=True)
class Conflict:
    sheet_id: int
    base: int  # the version the form was opened at
    latest: int  # the version someone else saved since
    changed: list[str]  # Japanese labels of the fields that changed between the two

    @property
    def reason(self) -> str:
        return (f"別の人がこのシートを先に保存しました（第{self.latest}版）。"
                "あなたの入力はこの画面に残っていて、失われていません。")


def conflict_of(repo: SheetRepository, organisation_id: int, exc: VersionConflict) -> Conflict:
    try:
        old = repo.version(exc.sheet_id, organisation_id, exc.base)
        new = repo.version(exc.sheet_id, organisation_id, exc.latest)
        changed = [d.label for d in diff(old, new) if d.changed]
    except SheetNotFound:  # a base that never existed: nothing to compare with
        changed = []
    return Conflict(exc.sheet_id, exc.base, exc.latest, changed)
