"""Confirming an import happens once: four confirmations at the same moment over real HTTP, on
SQLite and on PostgreSQL, write the rows once; the others are told it was already imported."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from coach.settings import Settings
from tests.conftest import PASSWORD, ensure_account
from tests.servers import free_port
from tests.workspace import crafted

ROWS = 3


@pytest.fixture
def server(database_url: str, data_dir: Path) -> Iterator[tuple[str, object]]:
    """The app on a real uvicorn server on 127.0.0.1, in a thread of this process."""
    from web.app import create_app

    app = create_app(Settings(data_dir=data_dir, database_url=database_url, load_samples=False))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        threading.Event().wait(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def dx_client(base: str, app: object) -> httpx.Client:
    ensure_account(app, "dx-team", "dx", None)
    c = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    assert c.post("/login", data={"login": "dx-team", "password": PASSWORD, "csrf_token": token}).status_code in (200, 303)
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/import").text).group(1)  # type: ignore[union-attr]
    c.headers["X-CSRF-Token"] = csrf
    return c


def test_four_concurrent_confirms_import_once(server: tuple[str, object]) -> None:
    base, app = server
    dx = dx_client(base, app)
    preview = dx.post("/import", files={"file": ("台帳.xlsx", crafted.pack(crafted.good_parts(rows=ROWS)))})
    assert preview.status_code == 200, preview.text[:300]
    token = re.search(r'action="/import/([^"]+)"', preview.text).group(1)  # type: ignore[union-attr]
    clients = [httpx.Client(base_url=base, timeout=60, cookies=dx.cookies, headers=dx.headers) for _ in range(4)]
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def confirm(c: httpx.Client) -> None:
        start.wait(timeout=10)
        answers.append(c.post(f"/import/{token}"))

    threads = [threading.Thread(target=confirm, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == 4
    assert app.state.services.repo.count() == ROWS  # type: ignore[attr-defined]
    codes = sorted(a.status_code for a in answers)
    assert codes.count(303) == 1, codes
    for a in answers:
        if a.status_code != 303:
            assert 400 <= a.status_code < 500 and "すでに取り込み済みです" in a.text, (a.status_code, a.text[:300])
    again = dx.post(f"/import/{token}")  # later, once more: the same calm answer
    assert 400 <= again.status_code < 500 and "すでに取り込み済みです" in again.text
    assert app.state.services.repo.count() == ROWS  # type: ignore[attr-defined]
