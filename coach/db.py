"""The sheets' tables and the engine. The database is the source of truth; every save keeps a version.

The workspace's tables live next to their logic in coach/workspace/; coach/app.py knows them all.
This module imports none of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from coach import sqlite_writes
from coach.status import SheetStatus

SQLITE_POOL, SQLITE_OVERFLOW = 10, 60  # connections: the request thread pool (40) and the workers, with room


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    """A municipality. The product runs one by default but never assumes there is only one."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Section(Base):
    """A 係 inside an organisation."""

    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class SheetRow(Base):
    __tablename__ = "sheets"
    __table_args__ = (UniqueConstraint("organisation_id", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # The id a sheet had where it came from (`coach index FILE.jsonl`), else None.
    external_id: Mapped[str | None] = mapped_column(String(100), default=None)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=SheetStatus.DRAFT.value)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    section: Mapped[Section] = relationship(lazy="joined")
    versions: Mapped[list[VersionRow]] = relationship(back_populates="sheet", order_by="VersionRow.number")


class VersionRow(Base):
    """One saved state of a sheet. kind: create | save | autosave | restore | move."""

    __tablename__ = "sheet_versions"
    __table_args__ = (UniqueConstraint("sheet_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)  # the sheet as JSON
    # The account that wrote it (None: a program on this machine, or a version older than this column).
    # Only that person's own autosaves fold into it.
    author_id: Mapped[int | None] = mapped_column(default=None)
    # The rule findings of this content (JSON, coach/stored_findings.py) and the RULES_VERSION they were
    # computed with; None (a version older than these columns) or another version: recomputed when read.
    findings: Mapped[str | None] = mapped_column(Text, default=None)
    rules_version: Mapped[str | None] = mapped_column(String(40), default=None)
    # The keyword map's words of this content (JSON, coach/stored_keywords.py) and the extractor's version,
    # recomputed the same way when None or another version.
    keywords: Mapped[str | None] = mapped_column(Text, default=None)
    keywords_version: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    sheet: Mapped[SheetRow] = relationship(back_populates="versions")


class IndexOutboxRow(Base):
    """A pending update of the similar-sheet index for one sheet (coach/outbox.py), written in the same
    transaction as the save. One row per sheet: saving a queued sheet again only bumps `generation`.
    No foreign key: the row must outlive a deleted sheet, whose vector it then removes."""

    __tablename__ = "index_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(unique=True)
    organisation_id: Mapped[int] = mapped_column(index=True)
    version: Mapped[int]  # the sheet's version when it was last queued
    sheet_updated_at: Mapped[datetime]  # and its updated_at then (autosaves fold into one version)
    generation: Mapped[int] = mapped_column(default=1)  # +1 on every queueing: a drainer removes only what it saw
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    queued_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    next_attempt_at: Mapped[datetime] = mapped_column(default=now, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)  # a drainer's lease


def reading(sessions: sessionmaker[Session]) -> Connection:
    """A connection of the sessions' engine for a light read in SQL Core, without building an ORM session
    (the lookups every request makes: its session, the editor's access check, similar sheets' heads).

    Each such read is one statement, so on a database server it runs in autocommit: no BEGIN before it
    and no ROLLBACK after it, two round trips fewer per read (a typing pause makes two such reads).
    psycopg also forgets its prepared statements at every ROLLBACK and sends DEALLOCATE ALL, a third.
    SQLite opens no transaction for a read anyway."""
    engine = cast(Engine, sessions.kw["bind"])
    if engine.dialect.name == "sqlite":
        return engine.connect()
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # Writers of this process take turns at a gate (coach/sqlite_writes.py) instead of SQLite's busy
        # handler; readers never wait (WAL), so the pool is large enough for every thread that may read.
        in_memory = url in ("sqlite://", "sqlite:///:memory:")  # one connection: no pool to size
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15,
                                                  "factory": sqlite_writes.connection_class(make_url(url).database)},
                               **({} if in_memory else {"pool_size": SQLITE_POOL, "max_overflow": SQLITE_OVERFLOW}))
        sqlite_writes.install(engine)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer, in any process
            cur.execute("PRAGMA busy_timeout=15000")  # a writer waits its turn (as timeout=15 asks) instead of failing
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine, auto_migrate: bool = True) -> sessionmaker:
    """Bring the schema up to date (coach/migrate.py) and hand out sessions."""
    from coach import migrate

    migrate.prepare(engine, auto_migrate)
    return sessionmaker(engine, expire_on_commit=False)
