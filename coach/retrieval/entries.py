"""From stored sheets to index entries (the database is the source of truth)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from coach.repository import StoredSheet
from coach.retrieval.store import Entry

if TYPE_CHECKING:
    from coach.retrieval.problem_tags import ProblemTags

CHUNK = 500  # sheets whose stored tags are read in one query


def entry_of(stored: StoredSheet, tags: tuple[str, ...] = ()) -> Entry:
    if stored.external_id is not None:
        return Entry(ref=stored.external_id, source="import", db_id=stored.id, organisation_id=stored.organisation_id,
                     section=stored.section, title=stored.title, status=stored.status, sheet=stored.sheet, tags=tags)
    return Entry(ref=str(stored.id), source="db", db_id=stored.id, organisation_id=stored.organisation_id,
                 section=stored.section, title=stored.title, status=stored.status, sheet=stored.sheet, tags=tags)


def entries_of(sheets: Iterable[StoredSheet], tags: ProblemTags | None = None) -> Iterator[Entry]:
    """Entries with their stored LLM problem tags (none asked here: only what is stored)."""
    it = iter(sheets)
    while chunk := list(islice(it, CHUNK)):
        known = tags.stored((s.id, s.sheet) for s in chunk) if tags else {}
        yield from (entry_of(s, known.get(s.id, ())) for s in chunk)
