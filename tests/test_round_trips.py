"""Issue #10: round trips to PostgreSQL per typing pause (under 50 typists each waits for a server
process that shares the two cores). The light reads every request makes (its login session, the
editor's access check) are one statement each and run in autocommit: no BEGIN before them, no ROLLBACK
(with psycopg's DEALLOCATE ALL) after them; the connection goes back to the pool as it came. The
autosave's three writes are one statement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import sessionmaker

from coach.db import Organisation, init_db, make_engine, reading
from coach.migrate import prepare
from coach.repository import SheetRepository
from tests.conftest import empty_postgres, make_sheet


@pytest.fixture
def server_url() -> str:
    """PostgreSQL only: what is tested here does not exist on SQLite (its driver opens no transaction for
    a read, and its writes are statements in this process, not round trips)."""
    return empty_postgres()


def _sessions(url: str, one_connection: bool = False) -> sessionmaker:
    engine = create_engine(url, pool_size=1, max_overflow=0) if one_connection else make_engine(url)
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
