"""The typing pause's write in SQL Core: fold an autosave into the writer's own latest autosave.

Every typing pause of every typist ends here (issue #10's load bench: ~70 % of all requests), and on
SQLite its transaction holds the one write lock, so the time it holds it is what the others queue for.
The ORM path (`SheetRepository.autosave`) loads two mapped objects, tracks their changes and flushes
them; for the usual case — the writer's own recent autosave is the latest version and the section did
not change — this does the same as three prepared statements and one read: the sheet with its latest
version (one join, locked), the version's new content, the sheet's title and time, then the outbox row.

Anything else (another author, an older base, a new section, a version outside the window, findings of
older rules) is not `foldable`, and the caller goes on with the ORM path in the same transaction: what
is written is the same either way (tests/test_fold.py compares both on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.orm import Session

from coach import stored_findings, stored_keywords
from coach.db import Section, SheetRow, VersionRow, now
from coach.findings import Finding
from coach.outbox import AUTOSAVE_DELAY, enqueue, queued, upsert_statement
from coach.sheet import Sheet

SHEETS = cast(Table, SheetRow.__table__)
VERSIONS = cast(Table, VersionRow.__table__)
SECTIONS = cast(Table, Section.__table__)


@lru_cache(maxsize=4)
def _read(dialect: str) -> Any:
    """The sheet, its section's name and its latest version, in one row; PostgreSQL locks the sheet's row
    (SQLite's BEGIN IMMEDIATE, taken before, already holds the database's write lock)."""
    stmt = (select(SHEETS.c.id, SHEETS.c.organisation_id, SHEETS.c.external_id, SHEETS.c.title, SHEETS.c.status,
                   SHEETS.c.version, SHEETS.c.created_at, SHEETS.c.updated_at, SECTIONS.c.name.label("section"),
                   VERSIONS.c.id.label("v_id"), VERSIONS.c.kind, VERSIONS.c.author_id,
                   VERSIONS.c.created_at.label("v_created_at"), VERSIONS.c.content, VERSIONS.c.findings,
                   VERSIONS.c.rules_version)
            .join(SECTIONS, SECTIONS.c.id == SHEETS.c.section_id)
            .join(VERSIONS, (VERSIONS.c.sheet_id == SHEETS.c.id) & (VERSIONS.c.number == SHEETS.c.version))
            .where(SHEETS.c.id == bindparam("sheet_id")))
    return stmt.with_for_update(of=SHEETS) if dialect == "postgresql" else stmt


_WRITE_VERSION = (update(VERSIONS).where(VERSIONS.c.id == bindparam("v_id"))
                  .values(content=bindparam("content"), updated_at=bindparam("at"), findings=bindparam("found"),
                          rules_version=bindparam("rules"), keywords=bindparam("words"),
                          keywords_version=bindparam("extractor")))
_WRITE_SHEET = (update(SHEETS).where(SHEETS.c.id == bindparam("s_id"))
                .values(title=bindparam("new_title"), updated_at=bindparam("at")))


def latest(s: Session, sheet_id: int) -> Row[Any] | None:
    """Inside the write transaction: the sheet and its latest version (None: no such sheet)."""
    conn = s.connection()  # Core on the session's connection: no ORM compile step
    return conn.execute(_read(conn.dialect.name), {"sheet_id": sheet_id}).one_or_none()


def foldable(head: Row[Any], stored: Sheet, sheet: Sheet, base_version: int | None, author_id: int | None,
             window: timedelta) -> bool:
    """The usual typing pause: the latest version (`stored`) is this writer's own autosave, recent, started
    from the version the page holds, and the section stays (so no section row is looked up or created)."""
    return (head.kind == "autosave" and head.author_id == author_id and base_version in (None, head.version)
            and now() - head.v_created_at <= window and stored.section == sheet.section)


@lru_cache(maxsize=1)
def _write_all_postgresql() -> Any:
    """The three writes as one statement: the version and the sheet are data-modifying CTEs of the outbox's
    upsert. PostgreSQL runs each exactly once, whether or not the statement reads what they return."""
    version = _WRITE_VERSION.returning(VERSIONS.c.id).cte("written_version")
    sheet = _WRITE_SHEET.returning(SHEETS.c.id).cte("written_sheet")
    return upsert_statement("postgresql").add_cte(version, sheet)


def fold(s: Session, head: Row[Any], sheet: Sheet, found: list[Finding]) -> datetime:
    """Write `sheet` over the latest version (with its findings and the keyword map's words) and move the
    sheet's title and time; its index update is due after AUTOSAVE_DELAY. Returns the time written.

    On PostgreSQL the three writes are one statement, so one round trip to the database server (each
    waits for a server process that, on a small machine, shares the cores with the workers: under 50
    typists the round trips were most of a typing pause's time). SQLite runs in this process: three."""
    at = now()
    conn = s.connection()
    version = {"v_id": head.v_id, "content": sheet.model_dump_json(), "at": at,
               "found": stored_findings.encode(found), "rules": stored_findings.RULES_VERSION,
               "words": stored_keywords.encode(stored_keywords.words(sheet)),
               "extractor": stored_keywords.KEYWORDS_VERSION}
    sheet_row = {"s_id": head.id, "new_title": sheet.title, "at": at}
    if conn.dialect.name == "postgresql":
        conn.execute(_write_all_postgresql(),
                     {**version, **sheet_row, **queued(head.id, head.organisation_id, head.version, at,
                                                       AUTOSAVE_DELAY, at)})
        return at
    conn.execute(_WRITE_VERSION, version)
    conn.execute(_WRITE_SHEET, sheet_row)
    enqueue(s, head.id, head.organisation_id, head.version, at, AUTOSAVE_DELAY)
    return at
