"""From stored sheets to index entries (the database is the source of truth)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from coach.repository import SheetHead, StoredSheet
from coach.retrieval.store import Entry

if TYPE_CHECKING:
    from coach.retrieval.problem_tags import ProblemTags

CHUNK = 500  # sheets whose stored tags are read in one query


def ref_of(sheet: StoredSheet | SheetHead) -> str:
    """The sheet's ref in the index: an imported sheet's id in its source, else the database's id."""
    return sheet.external_id if sheet.external_id is not None else str(sheet.id)


def entry_of(stored: StoredSheet, tags: tuple[str, ...] = ()) -> Entry:
    return Entry(ref=ref_of(stored), source="import" if stored.external_id is not None else "db", db_id=stored.id,
                 organisation_id=stored.organisation_id, section=stored.section, title=stored.title,
                 status=stored.status, sheet=stored.sheet, tags=tags)


def entries_of(sheets: Iterable[StoredSheet], tags: ProblemTags | None = None) -> Iterator[Entry]:
    """Entries with their stored LLM problem tags (none asked here: only what is stored)."""
    it = iter(sheets)
    while chunk := list(islice(it, CHUNK)):
        known = tags.stored((s.id, s.sheet) for s in chunk) if tags else {}
        yield from (entry_of(s, known.get(s.id, ())) for s in chunk)
