"""Writers of one process take turns at a gate instead of SQLite's busy handler (coach/sqlite_writes.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import event, text

from coach.db import init_db, make_engine
from coach.repository import SheetRepository
from tests.conftest import make_sheet


def test_concurrent_writers_of_one_process_never_meet_the_busy_lock(tmp_path: Path) -> None:
    """With SQLite's own waiting switched off (busy_timeout=0), any two writers of this process that
    met inside SQLite would fail with 'database is locked'. Through the gate none does."""
    engine = make_engine(f"sqlite:///{tmp_path / 'coach.db'}")

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    repo = SheetRepository(init_db(engine))
    org = repo.ensure_organisation("町")
    ids = [repo.create(org, make_sheet(title=f"題{n}")).id for n in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(ids))

    def typist(n: int, sheet_id: int) -> None:
        start.wait(timeout=30)
        for i in range(25):  # bounded
            try:
                if i % 5 == 4:
                    repo.save(sheet_id, org, make_sheet(title=f"題{n}", asis=f"窓口で{i}分待つ。"))
                else:
                    repo.autosave(sheet_id, org, make_sheet(title=f"題{n}", asis=f"窓口で{i}分待つ。"), author_id=n)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=typist, args=(n, s)) for n, s in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert all(repo.get(s, org).sheet.asis == "窓口で24分待つ。" for s in ids)
    engine.dispose()


def test_the_gate_is_held_by_a_write_transaction_only_until_it_ends(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'coach.db'}")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.commit()
        gate = conn.connection.dbapi_connection.gate  # type: ignore[union-attr]
        conn.execute(text("SELECT count(*) FROM t"))
        assert not gate.locked()  # reading never takes it
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert gate.locked()  # a write holds it until the transaction ends
        conn.rollback()
        assert not gate.locked()
        conn.execute(text("INSERT INTO t VALUES (2)"))
        conn.commit()
        assert not gate.locked()
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with other.connect() as conn:
        assert conn.connection.dbapi_connection.gate is not gate  # type: ignore[union-attr]
    engine.dispose()
    other.dispose()


CHILD = r"""
import json, sys, threading
from sqlalchemy import event, text
import coach.sqlite_writes as gate
from coach.db import make_engine

gate.WAIT = 2.0  # both waits short: a process starved by the other fails within the test's bounds
engine = make_engine(f"sqlite:///{sys.argv[1]}")

@event.listens_for(engine, "connect")
def _short(dbapi_conn, _record):
    dbapi_conn.execute("PRAGMA busy_timeout=2000")

ok, errors = [0], []
import time
until = time.monotonic() + 4.0
def writer(n):
    for i in range(5000):  # bounded in count and seconds: sustained contention, as under many typists
        if time.monotonic() > until:
            return
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # as the repository's saves do
                conn.execute(text("INSERT INTO t (who) VALUES (:w)"), {"w": f"{sys.argv[2]}-{n}-{i}"})
                conn.execute(text("UPDATE c SET n = n + 1"))
                time.sleep(0.003)  # a save's own work inside its transaction
            ok[0] += 1
            time.sleep(0.01)  # the next pause
        except Exception as exc:
            errors.append(type(exc).__name__)
threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join(60)
print(json.dumps({"ok": ok[0], "errors": errors}))
"""


def test_two_processes_on_one_file_both_get_their_turns(tmp_path: Path) -> None:
    """With the gate only inside each process, one process's writers handed it to each other and the other
    process's writers starved in SQLite's busy handler until they failed (found in review)."""
    import json
    import subprocess
    import sys

    db = tmp_path / "coach.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
        conn.execute(text("CREATE TABLE c (n INTEGER)"))
        conn.execute(text("INSERT INTO c VALUES (0)"))
    engine.dispose()
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(db), name], stdout=subprocess.PIPE, text=True)
             for name in ("a", "b")]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert [r["errors"] for r in results] == [[], []]
    a, b = (r["ok"] for r in results)
    assert min(a, b) >= 0.25 * max(a, b), (a, b)  # both processes got their turns
    check = make_engine(f"sqlite:///{db}")
    with check.connect() as conn:
        assert conn.execute(text("SELECT n FROM c")).scalar() == a + b
    check.dispose()


def test_a_thread_writing_through_a_second_connection_does_not_wait_on_its_own_gate(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """It used to wait the gate's 15 s and then SQLite's 15 s; now it meets only SQLite's lock (as before the gate)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'coach.db'}")

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    with engine.connect() as first:
        first.execute(text("CREATE TABLE t (x INTEGER)"))
        first.commit()
        first.execute(text("INSERT INTO t VALUES (1)"))  # holds the gate and SQLite's lock
        with engine.connect() as second:
            from sqlalchemy.exc import OperationalError

            with pytest.raises(OperationalError, match="locked"):  # at once: no wait on the gate
                second.execute(text("INSERT INTO t VALUES (2)"))
            second.rollback()
        first.commit()
    engine.dispose()
    said = [r.getMessage() for r in caplog.records if r.name == "coach.db"]
    assert any("second connection" in m for m in said) and not any("not obtained" in m for m in said)
