"""No SQL on the event loop (issue #10): a statement run by a thread that is running an asyncio loop
stops the whole process — other typists' pauses, /healthz, static files — until it returns.

A class-level SQLAlchemy listener (every engine, SQLite and PostgreSQL) notes each statement executed
on a thread with a running loop whose stack passes through the web app (`web/`): in the app that is
uvicorn's or TestClient's loop thread, while FastAPI's worker threads and our background threads have
no running loop. The autouse fixture in tests/conftest.py fails the test that caused one, naming the
statement and the endpoint. Test scaffolding that drives something from a loop of its own, outside
`web/`, is not counted.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WEB = str(Path(__file__).resolve().parent.parent / "web") + "/"
ROUTES = WEB + "routes/"
MIDDLEWARE = {WEB + "envelope.py", WEB + "limits.py"}  # around every request: never the one to name


@dataclass(frozen=True)
class OnLoop:
    statement: str  # its first line, shortened
    endpoint: str  # web/routes/x.py:line name (the outermost frame in web/routes/, else the innermost in web/)
    via: str  # the innermost frame in web/, when it is not the endpoint


_found: list[OnLoop] = []
_lock = threading.Lock()
_installed = False


def _where(frame: traceback.FrameSummary) -> str:
    return f"{frame.filename.removeprefix(str(Path(WEB).parent) + '/')}:{frame.lineno} {frame.name}"


def _on_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # a worker thread, a background thread, a plain test: fine
    web = [f for f in traceback.extract_stack() if f.filename.startswith(WEB)]
    if not web:
        return  # a test's own loop, not the app's requests
    routes = [f for f in web if f.filename.startswith(ROUTES)]
    handlers = [f for f in web if f.filename not in MIDDLEWARE]  # e.g. an error page in web/app.py
    endpoint = routes[0] if routes else handlers[0] if handlers else web[-1]
    head = " ".join(statement.split())[:90]
    found = OnLoop(head, _where(endpoint), "" if web[-1] is endpoint else _where(web[-1]))
    with _lock:
        _found.append(found)


def install() -> None:
    global _installed
    if not _installed:
        event.listen(Engine, "before_cursor_execute", _on_execute)
        _installed = True


def take() -> list[OnLoop]:
    """What was noted since the last call (and forget it)."""
    with _lock:
        found = list(dict.fromkeys(_found))
        _found.clear()
    return found


def report(found: list[OnLoop]) -> str:
    """One line per endpoint: where, through which function, and its first statement."""
    by_endpoint: dict[str, list[OnLoop]] = {}
    for f in found:
        by_endpoint.setdefault(f.endpoint.split(":")[0] + " " + f.endpoint.split(" ")[-1], []).append(f)
    lines = [f"SQL ran on the event loop in {len(by_endpoint)} endpoint(s); run it in a worker thread "
             "(a plain `def` endpoint with FormDep, or one `await run_in_threadpool(...)`):"]
    for hits in list(by_endpoint.values())[:8]:
        first = hits[0]
        lines.append(f"  {first.endpoint}{f' via {first.via}' if first.via else ''}: {first.statement}"
                     f"{f' (+{len(hits) - 1} more statements)' if len(hits) > 1 else ''}")
    if len(by_endpoint) > 8:
        lines.append(f"  … and {len(by_endpoint) - 8} more endpoints")
    return "\n".join(lines)
