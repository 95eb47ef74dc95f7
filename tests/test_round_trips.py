"""Issue #10: round trips to the database server per request. The light reads every request makes (its login session, the editor's access check) run as
one statement each; on PostgreSQL they run in autocommit, so no BEGIN goes before them and no ROLLBACK
(with psycopg's DEALLOCATE ALL) after them — under 50 typists every round trip to the database server
waits for a process that shares the two cores. The connection goes back to the pool as it came: a
transaction on it afterwards is still one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from coach.db import Organisation, init_db, make_engine, ping_when_rested, reading
from coach.migrate import prepare
from coach.repository import SheetRepository
from tests.conftest import empty_postgres, make_sheet


@pytest.fixture
def server_url() -> str:
    """PostgreSQL only: what is tested here does not exist on SQLite (no transaction for a read, no
    connection to ping: the file belongs to this process)."""
    return empty_postgres()


def _sessions(url: str, one_connection: bool = False) -> sessionmaker:
    if one_connection:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        if not url.startswith("sqlite"):
            ping_when_rested(engine, 5.0)
    else:
        engine = make_engine(url)
    prepare(engine, True)
    return sessionmaker(bind=engine, expire_on_commit=False)


def _organisations(sessions: sessionmaker) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Organisation)) or 0)


def test_a_light_read_reads_what_is_committed(database_url: str) -> None:
    sessions = _sessions(database_url)
    with sessions.begin() as s:
        s.add(Organisation(name="テスト町"))
    with reading(sessions) as conn:
        names = conn.execute(select(Organisation.name)).scalars().all()
    assert names == ["テスト町"]
    sessions.kw["bind"].dispose()


def test_on_postgresql_a_light_read_opens_no_transaction(server_url: str) -> None:
    sessions = _sessions(server_url)
    with reading(sessions) as conn:
        conn.execute(select(Organisation.id)).all()
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        # After a SELECT in a transaction psycopg reports INTRANS (a BEGIN was sent before it).
        assert dbapi.info.transaction_status == TransactionStatus.IDLE  # type: ignore[attr-defined]
    sessions.kw["bind"].dispose()


def test_the_connection_of_a_light_read_is_transactional_again_afterwards(database_url: str) -> None:
    """One pooled connection: a light read, then a write transaction that fails half-way on the same
    connection — nothing of it stays (autocommit did not outlive the read)."""
    sessions = _sessions(database_url, one_connection=True)
    with reading(sessions) as conn:
        conn.execute(select(Organisation.id)).all()
    with pytest.raises(RuntimeError), sessions.begin() as s:
        s.add(Organisation(name="途中で失敗する町"))
        s.flush()  # the INSERT reaches the server
        raise RuntimeError("the request fails after its first statement")
    assert _organisations(sessions) == 0
    with reading(sessions) as conn:  # and light reads keep working on it
        assert conn.execute(select(func.count()).select_from(Organisation)).scalar() == 0
    sessions.kw["bind"].dispose()


# A pooled connection is checked (pinged) on checkout only when it has rested: a busy server's
# connections come back within milliseconds, and each ping is a round trip (three per typing pause).

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _server_engine(url: str, clock: Clock) -> tuple[Any, list[int]]:
    """One pooled connection, pinged when rested for 5 s of `clock`; the list counts the pings."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        pings.append(1)
        return ping(dbapi_conn)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    ping_when_rested(engine, 5.0, clock=clock)
    return engine, pings


def _backend(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(url: str, pid: int) -> None:
    """What a restart of the database server does to a pooled connection (only this test's one)."""
    other = create_engine(url, poolclass=NullPool)
    with other.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    other.dispose()


def _select_one(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())


def test_a_connection_in_use_is_not_pinged_a_rested_one_is(server_url: str) -> None:
    clock = Clock()
    engine, pings = _server_engine(server_url, clock)
    _select_one(engine)
    assert len(pings) == 1  # a new connection is checked once
    for _ in range(5):
        clock.now += 1.0  # back in use within the second, as under load
        _select_one(engine)
    assert len(pings) == 1
    clock.now += 5.0
    _select_one(engine)
    assert len(pings) == 2
    engine.dispose()


def test_after_a_database_restart_a_rested_connection_is_replaced_before_use(server_url: str) -> None:
    clock = Clock()
    engine, _ = _server_engine(server_url, clock)
    _kill(server_url, _backend(engine))
    clock.now += 60.0  # the town's server was quiet while the database restarted
    assert _select_one(engine) == 1  # the ping found it dead; the pool connected again
    engine.dispose()


def test_a_connection_that_died_while_in_use_fails_one_request_and_the_next_reconnects(server_url: str) -> None:
    """The price of not pinging a busy connection: the request that meets a freshly dead one fails
    (the editor keeps what was typed and tries again); the pool then replaces it."""
    clock = Clock()
    engine, _ = _server_engine(server_url, clock)
    _kill(server_url, _backend(engine))
    clock.now += 0.5
    with pytest.raises(DBAPIError) as failed:
        _select_one(engine)
    assert failed.value.connection_invalidated
    assert _select_one(engine) == 1
    engine.dispose()


def test_on_postgresql_a_typing_pause_that_folds_writes_in_one_statement(server_url: str) -> None:
    """The usual typing pause (coach/fold.py): the sheet with its latest version, locked, then the
    version, the sheet's title and time and the outbox row in one statement (two UPDATEs as CTEs of the
    outbox's upsert); tests/test_fold.py checks that what is written equals the ORM path's."""
    repo = SheetRepository(init_db(make_engine(server_url)), timedelta(minutes=10))
    org = repo.ensure_organisation("サンプル町")
    sheet_id = repo.create(org, make_sheet(), author_id=7).id
    repo.autosave(sheet_id, org, make_sheet(asis="一回目"), author_id=7)  # a new autosave version
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(repo.engine, "before_cursor_execute", seen)
    stored = repo.autosave(sheet_id, org, make_sheet(asis="二回目", title="新しい題名"), author_id=7)
    event.remove(repo.engine, "before_cursor_execute", seen)
    assert len(statements) == 2, statements
    assert "FOR UPDATE" in statements[0] and statements[1].startswith("WITH written_version")
    latest = repo.get(sheet_id, org)
    assert (latest.version, latest.sheet.asis, latest.sheet.title) == (stored.version, "二回目", "新しい題名")
    repo.engine.dispose()
