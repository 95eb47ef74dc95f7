"""One writer at a time per SQLite engine, handed over in this process instead of by SQLite's busy handler.

SQLite lets one transaction write at a time. When a second connection wants to write, SQLite's busy
handler makes it sleep and retry — 1, 2, 5, 10 … then 100 ms at a time — so under twenty typists the
autosaves of one server process queued in those sleeps while the lock was mostly free (critique +
autosave p95 over 2 s at 50 typists, with the server's CPU half idle). Here a connection takes this
engine's gate before its first write (an explicit `BEGIN IMMEDIATE`, or the INSERT/UPDATE/DELETE that
makes pysqlite open its transaction) and gives it back right after its COMMIT or ROLLBACK, so the
next writer starts at once. Processes on the same file take turns through a file lock beside the
database (`Gate`), so no process's writers are left to the busy handler while another's hand over.

A gate not obtained within `WAIT` seconds is skipped (with a warning): the write then waits on
SQLite as it always did, so a mistake here can slow a write but never block it for good.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: writers take turns within each process only
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("coach.db")
WAIT = 15.0  # seconds, as SQLite's busy_timeout
_WRITES = re.compile(r"\s*(BEGIN\s+IMMEDIATE|BEGIN\s+EXCLUSIVE|INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class Gate:
    """One writer at a time: among this process's threads (a lock), and among the processes that share
    the database file (an `flock` on `<database>.write-gate`, which the kernel frees when a process
    ends). Without the file lock, a process whose writers handed the gate to each other would keep
    SQLite's lock almost all the time and leave the writers of another process to its busy handler."""

    POLL = 0.002  # seconds between tries for the file lock (one thread per process tries)

    def __init__(self, path: str | None) -> None:
        self._lock = threading.Lock()
        self._path = path if path and fcntl is not None else None
        self._fd: int | None = None
        self._pid = 0
        self.owner: int | None = None  # the thread that holds it

    def locked(self) -> bool:
        return self._lock.locked()

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            return False
        if not self._lock_file(deadline):
            self._lock.release()
            return False
        self.owner = threading.get_ident()
        return True

    def release(self) -> None:
        self.owner = None
        if self._fd is not None and fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            except OSError:
                pass
        self._lock.release()

    def _lock_file(self, deadline: float) -> bool:
        """Under the thread lock: the file lock, polled until `deadline` (flock itself has no timeout)."""
        if self._path is None or fcntl is None:
            return True
        try:
            if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        return False
                    time.sleep(self.POLL)
        except OSError as exc:  # the folder is read-only, say: this process's writers still take turns
            log.warning("SQLite write gate file %s not usable (%s); turns are kept within this process only",
                        self._path, exc)
            self._path = None
            return True


class GatedConnection(sqlite3.Connection):
    """pysqlite's connection, holding its engine's gate from its first write to the end of the transaction."""

    gate: Gate  # set on the subclass made for each engine (`connection_class`)
    _held = False
    _skipped = False  # this transaction went on without the gate: its later writes must not wait again

    def take(self) -> None:
        if self._held or self._skipped:
            return
        if self.gate.owner == threading.get_ident():  # this thread writes through another connection
            log.error("a thread that holds the SQLite write gate writes through a second connection; "
                      "this write waits on the database's own lock", stack_info=True)
            self._skipped = True
        elif self.gate.acquire(timeout=WAIT):
            self._held = True
        else:
            log.warning("SQLite write gate not obtained in %.0f s; waiting on the database's own lock", WAIT)
            self._skipped = True

    def give(self) -> None:
        self._skipped = False
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


def connection_class(database: str | None = None) -> type[GatedConnection]:
    """A connection class with a gate of its own: pass it as pysqlite's `factory` for one engine.
    `database`: the file's path (None for an in-memory database: no other process can share it)."""
    path = f"{database}.write-gate" if database and database != ":memory:" else None
    return type("EngineConnection", (GatedConnection,), {"gate": Gate(path)})


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
