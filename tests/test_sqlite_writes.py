"""Writers of one process take turns at a gate instead of SQLite's busy handler (coach/sqlite_writes.py)."""

from __future__ import annotations

import threading
from pathlib import Path

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
