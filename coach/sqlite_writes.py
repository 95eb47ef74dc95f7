"""One writer at a time per SQLite engine, handed over in this process instead of by SQLite's busy handler.

SQLite lets one transaction write at a time. When a second connection wants to write, SQLite's busy
handler makes it sleep and retry — 1, 2, 5, 10 … then 100 ms at a time — so under twenty typists the
autosaves of one server process queued in those sleeps while the lock was mostly free (critique +
autosave p95 over 2 s at 50 typists, with the server's CPU half idle). Here a connection takes this
engine's gate before its first write (an explicit `BEGIN IMMEDIATE`, or the INSERT/UPDATE/DELETE that
makes pysqlite open its transaction) and gives it back right after its COMMIT or ROLLBACK, so the
next writer of this process starts at once. Other processes on the same file still meet SQLite's
own lock and busy handler, exactly as before.

A gate not obtained within `WAIT` seconds is skipped (with a warning): the write then waits on
SQLite as it always did, so a mistake here can slow a write but never block it for good.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("coach.db")
WAIT = 15.0  # seconds, as SQLite's busy_timeout
_WRITES = re.compile(r"\s*(BEGIN\s+IMMEDIATE|BEGIN\s+EXCLUSIVE|INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class GatedConnection(sqlite3.Connection):
    """pysqlite's connection, holding its engine's gate from its first write to the end of the transaction."""

    gate: threading.Lock  # set on the subclass made for each engine (`connection_class`)
    _held = False

    def take(self) -> None:
        if self._held:
            return
        if self.gate.acquire(timeout=WAIT):
            self._held = True
        else:
            log.warning("SQLite write gate not obtained in %.0f s; waiting on the database's own lock", WAIT)

    def give(self) -> None:
        if self._held:
            self._held = False
            self.gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give()


def connection_class() -> type[GatedConnection]:
    """A connection class with a gate of its own: pass it as pysqlite's `factory` for one engine."""
    return type("EngineConnection", (GatedConnection,), {"gate": threading.Lock()})


def install(engine: Engine) -> None:
    """Take the gate before any statement that writes (the engine's connections must be `GatedConnection`s)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _WRITES.match(statement):
            dbapi = conn.connection.dbapi_connection
            if isinstance(dbapi, GatedConnection):
                dbapi.take()

    @event.listens_for(engine, "after_cursor_execute")
    def _after_write(conn: Any, *_args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if isinstance(dbapi, GatedConnection) and not dbapi.in_transaction:  # autocommit: nothing to wait for
            dbapi.give()
