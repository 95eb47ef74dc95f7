"""A write that waits for the database never stops the server (issue #10): a real uvicorn server on a
real SQLite file, another process's writer holding the write gate (`<database>.write-gate`,
coach/sqlite_writes.py), a DX action that writes waiting for it — and meanwhile /healthz and the login
page answer. Then the gate is let go and the action completes and is stored.

The class behind it (any route running SQL on the event loop) is caught by tests/loop_guard.py."""

from __future__ import annotations

import fcntl
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from coach import sqlite_writes
from coach.settings import Settings
from tests.conftest import PASSWORD, empty_sqlite, ensure_account
from tests.servers import free_port

SECTION = "待ち合わせ係"
LIGHT_TIMEOUT = 5.0  # seconds: a light request on a free event loop answers in milliseconds


@pytest.fixture
def server(data_dir: Path, schema_template: Path) -> Iterator[tuple[str, Any, Path]]:
    """The app on a real uvicorn server on 127.0.0.1, in a thread of this process, on a SQLite file."""
    from web.app import create_app

    url = empty_sqlite(data_dir, schema_template)
    app = create_app(Settings(data_dir=data_dir, database_url=url, load_samples=False))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{srv.config.port}", app, data_dir / "coach.db"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        app.state.services.repo._sessions.kw["bind"].dispose()


def dx_client(base: str, app: Any) -> httpx.Client:
    ensure_account(app, "dx-team", "dx", None)
    c = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    assert c.post("/login", data={"login": "dx-team", "password": PASSWORD, "csrf_token": token}).status_code == 303
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/admin").text).group(1)  # type: ignore[union-attr]
    c.headers["X-CSRF-Token"] = csrf
    return c


def waiting_in_gate(route: str) -> bool:
    """Some thread is inside the write gate's acquire, called from the route `route`."""
    for frame in sys._current_frames().values():
        names, gate = set(), False
        f: Any = frame
        while f is not None:
            names.add(f.f_code.co_name)
            gate = gate or (f.f_code.co_name == "acquire" and f.f_code.co_filename == sqlite_writes.__file__)
            f = f.f_back
        if gate and route in names:
            return True
    return False


def test_light_requests_answer_while_a_write_waits_for_the_database(
        server: tuple[str, Any, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base, app, db = server
    dx = dx_client(base, app)
    monkeypatch.setattr(sqlite_writes, "WAIT", 60.0)  # the writer waits for the gate, not past it
    fd = os.open(f"{db}.write-gate", os.O_RDWR | os.O_CREAT, 0o600)  # another process's writer holds it
    fcntl.flock(fd, fcntl.LOCK_EX)
    answers: list[httpx.Response] = []
    writer = threading.Thread(target=lambda: answers.append(dx.post("/admin/sections", data={"names": SECTION})))
    try:
        writer.start()
        deadline = time.monotonic() + 15
        while not waiting_in_gate("add_sections") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert waiting_in_gate("add_sections"), "the DX action never reached the write gate"

        with httpx.Client(base_url=base, timeout=LIGHT_TIMEOUT) as light:
            try:
                health, login = light.get("/healthz"), light.get("/login")
            except httpx.TimeoutException:
                pytest.fail("/healthz did not answer while a write waited for the database: "
                            "the write blocks the event loop")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert login.status_code == 200 and "ログイン" in login.text
        assert writer.is_alive() and not answers, "the write did not wait for the gate"
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        writer.join(timeout=30)
    assert not writer.is_alive()
    assert [a.status_code for a in answers] == [303]
    assert answers[0].headers["location"] == "/admin#sections"
    assert SECTION in app.state.services.repo.sections(app.state.services.organisation_id)
