"""The index outbox: updates of the similar-sheet index that are still to be made.

A save writes its sheet and a row here in one transaction (`enqueue`), so typing never waits for the
embedding or the vector store, and a store that is down loses nothing: the row stays until a drainer
(coach/retrieval/indexer.py) has brought the index in step. One row per sheet, so a hundred autosaves
make one index update. Drainers claim rows atomically — `FOR UPDATE SKIP LOCKED` on PostgreSQL, one
conditional UPDATE under SQLite's write lock — with a lease, so several server processes can drain
together and a drainer that dies leaves its rows to the others once the lease ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from coach.db import IndexOutboxRow, SheetRow, now

T = cast(Table, IndexOutboxRow.__table__)
MAX_ERROR = 500  # characters of the last error kept for operators
# An autosave's index update waits this long, folding the next ones in. A draft's vector serves only the
# DX team's and its own section's panels (other sections see submitted sheets), and a save, submit or
# any other change is indexed at once: 30 s instead of 5 s took most of the index worker's share of
# the server's time under 50 typists (README, load bench round 3).
AUTOSAVE_DELAY = timedelta(seconds=30)


@dataclass(frozen=True)
class Pending:
    """A claimed row: the drainer reads the sheet as the database has it now, whatever version was queued."""

    id: int
    sheet_id: int
    organisation_id: int
    generation: int
    attempts: int
    claimed_until: datetime | None = None  # this drainer's lease: its release touches the row only while it holds it


@dataclass(frozen=True)
class Backoff:
    """Seconds before retrying after the n-th failed attempt: first, 2×first, 4×first … at most cap."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap, self.first * 2 ** max(attempts - 1, 0)))


def enqueue(s: Session, sheet_id: int, organisation_id: int, version: int, updated_at: datetime,
            delay: timedelta = timedelta(0)) -> None:
    """Queue an index update for a sheet, inside the caller's transaction (coalesced: one row per sheet).

    A row already queued keeps its place, its attempts and its backoff; only what it was queued for and
    its generation change, so a drainer holding it knows to look again.

    `delay`: the update is due that much later (autosaves, `AUTOSAVE_DELAY`): a person typing is
    re-indexed every half minute, not on every pause. A row already due keeps its earlier time, so
    continuous typing cannot postpone it for ever; a save without delay makes a waiting row due now.
    While a drainer holds the row, the time is what this save asks for (it is due again after that)."""
    conn = s.connection()  # Core on the session's connection: no ORM compile step
    conn.execute(upsert_statement(conn.dialect.name), queued(sheet_id, organisation_id, version, updated_at, delay))


def queued(sheet_id: int, organisation_id: int, version: int, updated_at: datetime, delay: timedelta,
           at: datetime | None = None) -> dict[str, Any]:
    """The parameters of `upsert_statement` (queued `at`, now unless given). Their names are no column's:
    `fold` runs the statement with two UPDATEs as CTEs, and Core adds a parameter named like a column of
    an UPDATE's table to what that UPDATE sets."""
    at = at or now()
    return {"q_sheet": sheet_id, "q_org": organisation_id, "q_version": version, "q_updated": updated_at,
            "at": at, "due": at + delay}


@lru_cache(maxsize=4)
def upsert_statement(dialect: str) -> Any:
    """enqueue's statement, built once per dialect (it runs on every save; its values are parameters)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    at: Any = bindparam("at")
    stmt = insert(T).values(sheet_id=bindparam("q_sheet"), organisation_id=bindparam("q_org"),
                            version=bindparam("q_version"), sheet_updated_at=bindparam("q_updated"),
                            generation=1, attempts=0, queued_at=at, updated_at=at, next_attempt_at=bindparam("due"))
    held = T.c.claimed_until.is_not(None) & (T.c.claimed_until >= at)
    sooner = T.c.last_error.is_(None) & (stmt.excluded.next_attempt_at < T.c.next_attempt_at)
    return stmt.on_conflict_do_update(
        index_elements=[T.c.sheet_id],
        set_={"version": stmt.excluded.version, "sheet_updated_at": stmt.excluded.sheet_updated_at,
              "organisation_id": stmt.excluded.organisation_id, "generation": T.c.generation + 1,
              "updated_at": stmt.excluded.updated_at,
              "next_attempt_at": case((held | sooner, stmt.excluded.next_attempt_at), else_=T.c.next_attempt_at)},
    )


class Outbox:
    def __init__(self, sessions: sessionmaker[Session], lease: timedelta = timedelta(seconds=120),
                 backoff: Backoff = Backoff()) -> None:
        self._sessions = sessions
        self.lease = lease
        self.backoff = backoff

    def queue(self, sheet_ids: Iterable[int]) -> int:
        """Queue sheets that exist (a program asked for them to be indexed, e.g. `coach index`)."""
        n = 0
        with self._sessions.begin() as s:
            for sheet_id in sorted(set(sheet_ids)):
                row = s.get(SheetRow, sheet_id)
                if row is not None:
                    enqueue(s, row.id, row.organisation_id, row.version, row.updated_at)
                    n += 1
        return n

    def claim(self, limit: int = 50, due_only: bool = True) -> list[Pending]:
        """Take up to `limit` rows nobody holds (and, with `due_only`, whose backoff has passed)."""
        at = now()
        free = or_(T.c.claimed_until.is_(None), T.c.claimed_until < at)
        ready = select(T.c.id).where(free)
        if due_only:
            ready = ready.where(T.c.next_attempt_at <= at)
        ready = ready.order_by(T.c.next_attempt_at, T.c.id).limit(limit).with_for_update(skip_locked=True)
        stmt = (update(T).where(T.c.id.in_(ready.scalar_subquery()), free)
                .values(claimed_until=at + self.lease, attempts=T.c.attempts + 1)
                .returning(T.c.id, T.c.sheet_id, T.c.organisation_id, T.c.generation, T.c.attempts,
                           T.c.claimed_until))
        with self._sessions.begin() as s:
            return [Pending(*row) for row in s.execute(stmt).all()]

    def done(self, item: Pending) -> None:
        """The index holds the sheet as it was when claimed. A save since then (a newer generation) keeps
        the row, released at once, so the newer text is indexed too."""
        with self._sessions.begin() as s:
            gone = _rows(s.execute(delete(T).where(T.c.id == item.id, T.c.generation == item.generation)))
            if not gone:  # due when the save made meanwhile asked (enqueue), now for an explicit save
                s.execute(update(T).where(T.c.id == item.id, *_still_held(item))
                          .values(claimed_until=None, attempts=0, last_error=None))

    def release(self, item: Pending) -> None:
        """Give the row back untouched, due at once (this drainer had no time left for it): the next
        claim, this drainer's or another's, takes it as if this one never had."""
        with self._sessions.begin() as s:
            s.execute(update(T).where(T.c.id == item.id, *_still_held(item))
                      .values(claimed_until=None, attempts=T.c.attempts - 1))

    def failed(self, item: Pending, error: str) -> None:
        """Keep the row, say why, and wait longer after each failure in a row."""
        with self._sessions.begin() as s:
            s.execute(update(T).where(T.c.id == item.id, *_still_held(item)).values(
                claimed_until=None, last_error=error[:MAX_ERROR],
                next_attempt_at=now() + self.backoff.delay(item.attempts)))

    def seen(self) -> dict[int, int]:
        """Row id → generation of every committed row: taken before a full rebuild reads the sheets."""
        with self._sessions() as s:
            return {int(i): int(g) for i, g in s.execute(select(T.c.id, T.c.generation))}

    def forget_seen(self, seen: dict[int, int]) -> int:
        """After a full rebuild: the rows it saw before reading the sheets are satisfied, unless a save
        queued them again since (a newer generation). A save still uncommitted when `seen` was taken,
        whose text the rebuild may have missed, is not in `seen`, so its row stays."""
        if not seen:
            return 0
        free = or_(T.c.claimed_until.is_(None), T.c.claimed_until < now())
        stmt = delete(T).where(T.c.id == bindparam("rid"), T.c.generation == bindparam("gen"), free)
        with self._sessions.begin() as s:
            return _rows(s.connection().execute(stmt, [{"rid": i, "gen": g} for i, g in seen.items()]))

    def count(self) -> int:
        with self._sessions() as s:
            return int(s.scalar(select(func.count()).select_from(T)) or 0)

    def rows(self) -> list[IndexOutboxRow]:
        """Every pending row, oldest first (for tests and operators)."""
        with self._sessions() as s:
            return list(s.scalars(select(IndexOutboxRow).order_by(IndexOutboxRow.queued_at, IndexOutboxRow.id)))


def _still_held(item: Pending) -> list[Any]:
    """Only while this drainer's lease is the row's: one whose lease ran out must not free another's claim."""
    return [] if item.claimed_until is None else [T.c.claimed_until == item.claimed_until]


def _rows(result: object) -> int:
    """How many rows a DELETE or UPDATE touched."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
