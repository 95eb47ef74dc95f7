"""LLM problem tags of submitted sheets, stored (issue #14): one row a sheet, for what the tagger read
of it (`problem_digest` of title, AsIs and problems) and the tagger that read it (prompt version and
model). Tags that belong to other text or another tagger are not used: the sheet is asked again.

Tags are asked in the index worker (coach/retrieval/indexer.py) after the sheet's vector is updated:
never inside a save or a submit, never for a draft. The panel's query uses the query sheet's stored
tags when its text is the one that was tagged (a submitted sheet, the review page).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, now
from coach.sheet import Sheet

if TYPE_CHECKING:
    from coach.llm.tagger import ProblemTagger, TagAnswer
    from coach.settings import Settings

TEXT_BUDGET, ITEM_BUDGET, ITEMS_BUDGET = 600, 200, 8  # what is sent is short: a small model reads it fast


class ProblemTagRow(Base):
    __tablename__ = "sheet_problem_tags"
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int]  # the sheet's version when it was tagged (for people; `digest` decides)
    digest: Mapped[str] = mapped_column(String(64))  # problem_digest of the text the model read
    tagger: Mapped[str] = mapped_column(String(120))  # ProblemTagger.version: prompt version and model
    tags: Mapped[str] = mapped_column(Text)  # JSON list of concept names (coach/retrieval/concepts.py), maybe empty
    created_at: Mapped[datetime] = mapped_column(default=now)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def problem_fields(sheet: Sheet) -> dict[str, str]:
    """The fields that carry the problem: title, AsIs and the problems (ToBe and tasks are the wish)."""
    fields = {"title": sheet.title, "asis": _cut(sheet.asis, TEXT_BUDGET)}
    fields |= {f"problems.{i}": _cut(p, ITEM_BUDGET) for i, p in enumerate(sheet.problems[:ITEMS_BUDGET])}
    return fields


def problem_digest(sheet: Sheet) -> str:
    """Identifies what the tagger read of a sheet: stored tags belong to it and to nothing else."""
    return hashlib.sha256(json.dumps(problem_fields(sheet), ensure_ascii=False, sort_keys=True).encode()).hexdigest()


class ProblemTags:
    """The stored tags, and asking the tagger for a sheet that has none (for this text and tagger)."""

    def __init__(self, sessions: sessionmaker[Session], tagger: ProblemTagger) -> None:
        self._sessions = sessions
        self.tagger = tagger

    @property
    def version(self) -> str:
        return self.tagger.version

    @property
    def longest_answer(self) -> timedelta:
        """How long asking the tagger for one sheet can take (its deadline)."""
        return timedelta(seconds=self.tagger.deadline)

    def stored(self, sheets: Iterable[tuple[int, Sheet]]) -> dict[int, tuple[str, ...]]:
        """Sheet id → its stored tags, for the sheets whose tags were made from this text by this tagger."""
        wanted = {sheet_id: problem_digest(sheet) for sheet_id, sheet in sheets}
        if not wanted:
            return {}
        with self._sessions() as s:
            rows = s.scalars(select(ProblemTagRow).where(ProblemTagRow.sheet_id.in_(wanted),
                                                         ProblemTagRow.tagger == self.version))
            return {r.sheet_id: tuple(json.loads(r.tags)) for r in rows if r.digest == wanted[r.sheet_id]}

    def missing(self, sheets: Iterable[tuple[int, Sheet]], chunk: int = 500) -> list[int]:
        """The ids among `sheets` with no tags for their text from this tagger (e.g. after the model changed)."""
        out: list[int] = []
        batch: list[tuple[int, Sheet]] = []
        for item in [*sheets, None]:
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) >= chunk):
                known = self.stored(batch)
                out += [sheet_id for sheet_id, _ in batch if sheet_id not in known]
                batch = []
        return out

    def of(self, sheet_id: int | None, sheet: Sheet) -> tuple[str, ...]:
        return self.stored([(sheet_id, sheet)]).get(sheet_id, ()) if sheet_id is not None else ()

    def ask(self, sheet_id: int, version: int, sheet: Sheet) -> TagAnswer:
        """The tagger's answer for a sheet, stored when it answered (even with no tag). Never raises."""
        answer = self.tagger.tag(sheet)
        if answer.answered:
            self.save(sheet_id, version, sheet, answer.tags)
        return answer

    def save(self, sheet_id: int, version: int, sheet: Sheet, tags: tuple[str, ...]) -> None:
        with self._sessions.begin() as s:
            row = s.get(ProblemTagRow, sheet_id) or ProblemTagRow(sheet_id=sheet_id)
            row.version, row.digest, row.tagger = version, problem_digest(sheet), self.version
            row.tags, row.created_at = json.dumps(list(tags), ensure_ascii=False), now()
            s.add(row)


def tags_from_settings(settings: Settings, sessions: sessionmaker[Session]) -> ProblemTags | None:
    """The stored tags and their tagger when COACH_LLM_TAGS is on and a model is configured; else None
    (and nothing of this module is used)."""
    if not (settings.llm_enabled() and settings.llm_tags):
        return None
    from coach.llm.cache import DatabaseCache
    from coach.llm.client import tagger_from_settings

    tagger = tagger_from_settings(settings, DatabaseCache(sessions))
    return ProblemTags(sessions, tagger) if tagger else None
