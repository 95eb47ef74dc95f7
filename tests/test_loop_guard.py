"""The guard of tests/loop_guard.py itself: it names a route that runs SQL on the event loop, and
leaves alone the same statement in a worker thread, from a test's own coroutine, or in a route of
pages.py the coordinator's branch converts."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine, create_engine

from tests import loop_guard

ROUTES = '''
async def {name}(engine):
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT  1")

def plain(engine):
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 2")
'''


def routes(filename: str, name: str = "comment") -> dict[str, Any]:
    """An `async def` route and a plain one, compiled as if they were in `filename` (the guard goes by
    the files on the stack)."""
    namespace: dict[str, Any] = {}
    exec(compile(ROUTES.format(name=name), filename, "exec"), namespace)
    return namespace


def engine() -> Engine:
    loop_guard.install()
    loop_guard.take()  # whatever came before
    return create_engine("sqlite://")


def test_a_statement_on_the_loop_is_named_by_route_and_statement() -> None:
    db = engine()
    asyncio.run(routes(loop_guard.ROUTES + "review.py")["comment"](db))
    found = loop_guard.take()
    assert [(f.endpoint, f.statement) for f in found] == [("web/routes/review.py:4 comment", "SELECT 1")]
    assert "web/routes/review.py:4 comment: SELECT 1" in loop_guard.report(found)


def test_worker_threads_and_a_tests_own_loop_are_left_alone() -> None:
    db = engine()
    plain = routes(loop_guard.ROUTES + "review.py")["plain"]

    async def scaffolding() -> None:
        await asyncio.to_thread(plain, db)  # a route's work in a worker thread
        with db.connect() as conn:  # the test's own coroutine, outside web/
            conn.exec_driver_sql("SELECT 3")

    asyncio.run(scaffolding())
    plain(db)  # no loop at all
    assert loop_guard.take() == []

