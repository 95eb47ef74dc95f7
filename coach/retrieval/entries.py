"""From stored sheets to index entries (the database is the source of truth)."""

from __future__ import annotations

from coach.repository import StoredSheet
from coach.retrieval.store import Entry


def entry_of(stored: StoredSheet) -> Entry:
    if stored.external_id is not None:
        return Entry(ref=stored.external_id, source="import", db_id=stored.id, organisation_id=stored.organisation_id,
                     section=stored.section, title=stored.title, status=stored.status, sheet=stored.sheet)
    return Entry(ref=str(stored.id), source="db", db_id=stored.id, organisation_id=stored.organisation_id,
                 section=stored.section, title=stored.title, status=stored.status, sheet=stored.sheet)
