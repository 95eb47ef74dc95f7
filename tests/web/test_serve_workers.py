"""`coach serve --workers N` for real (issue #10 item 4): two uvicorn workers on 127.0.0.1 over
PostgreSQL and a Chroma server, the fake OpenAI-compatible model on 127.0.0.1; every request on a
new connection, so the login, the job's start, its stream and its cancel land on either worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from coach.cli import main
from coach.db import make_engine
from tests.conftest import PASSWORD, POSTGRES
from tests.llm.conftest import Script, tool_reply
from tests.servers import free_port, wait_until_up
from tests.web.test_deep import DATA, EXTRA

ROUNDS = 4  # deep critiques asked, each streamed on a fresh connection


@pytest.fixture
def served(database_url: str, data_dir: Path, tmp_path: Path, chroma_server: str,
           stub_llm: tuple[str, Script]) -> Iterator[tuple[str, Script]]:
    if database_url != POSTGRES:
        pytest.skip("several workers are tested on PostgreSQL (SQLite is covered by the two-instance tests)")
    base_url, script = stub_llm
    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_DATABASE_URL": database_url,
           "COACH_LOAD_SAMPLES": "0", "COACH_AUTO_MIGRATE": "true", "COACH_CHROMA_URL": chroma_server,
           "COACH_LLM_BASE_URL": base_url, "COACH_LLM_MODEL": "stub", "COACH_LLM_TIMEOUT": "20"}
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "coach", "serve", "--port", str(port), "--workers", "2"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + "/healthz", tries=600)
            _account(database_url)
            yield base, script
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    server_log = log_path.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-3000:]


def _account(url: str) -> None:
    from sqlalchemy.orm import sessionmaker

    from coach.repository import SheetRepository
    from coach.workspace.accounts import Accounts

    engine = make_engine(url)
    try:
        sessions = sessionmaker(engine, expire_on_commit=False)
        org = SheetRepository(sessions).ensure_organisation("サンプル町")
        Accounts(sessions).create(org, "madoguchi", "窓口さん", "staff", PASSWORD, "住民窓口係")
    finally:
        engine.dispose()


def _fresh(base: str, cookies: httpx.Cookies | None = None) -> httpx.Client:
    """A client that opens a new connection for every request (no keep-alive)."""
    return httpx.Client(base_url=base, timeout=30, cookies=cookies,
                        limits=httpx.Limits(max_keepalive_connections=0))


def _login(base: str) -> tuple[httpx.Cookies, str]:
    with _fresh(base) as c:
        page = BeautifulSoup(c.get("/login").text, "html.parser")
        r = c.post("/login", data={"login": "madoguchi", "password": PASSWORD,
                                   "csrf_token": page.select_one("input[name=csrf_token]")["value"]})
        assert r.status_code == 303 and "coach_session" in c.cookies, r.text[:500]
        editor = BeautifulSoup(c.get("/").text, "html.parser")
        csrf = json.loads(editor.select_one("body")["hx-headers"])["X-CSRF-Token"]
        return c.cookies, csrf


def test_login_and_deep_critiques_across_two_workers(served: tuple[str, Script]) -> None:
    base, script = served
    cookies, csrf = _login(base)
    headers = {"X-CSRF-Token": csrf}
    with _fresh(base, cookies) as c:
        sid = int(c.post("/api/v1/sheets", json=DATA, headers=headers).json()["id"])
        for n in range(ROUNDS):
            script.steps.append(("sleep", 1.5, tool_reply(json.dumps(EXTRA, ensure_ascii=False))))
            data = {**DATA, "asis": f"{DATA['asis']}（{n}回目）"}  # a new question each time: no cached answer
            started = BeautifulSoup(c.post(f"/sheets/{sid}/deep", data=data,
                                           headers={**headers, "HX-Request": "true"}).text, "html.parser")
            events, done = [], []
            with c.stream("GET", started.select_one("#deep")["sse-connect"]) as stream:
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        events.append(line.split(":", 1)[1].strip())
                    elif line.startswith("data:") and events[-1:] == ["done"]:
                        done.append(line[5:])
            assert events[-1] == "done", events
            page = BeautifulSoup("\n".join(done), "html.parser")
            assert [e["data-code"] for e in page.select("#deep [data-source=llm]")] == ["TOBE_VAGUE"], page.text
        # and one cancelled: whichever worker takes the cancel, the stream then says so
        script.steps.append(("sleep", 3, tool_reply(json.dumps(EXTRA, ensure_ascii=False))))
        started = BeautifulSoup(c.post(f"/sheets/{sid}/deep", data={**DATA, "asis": "取り消す回"},
                                       headers={**headers, "HX-Request": "true"}).text, "html.parser")
        cancelled = c.post(started.select_one("#deep button")["hx-post"], headers={**headers, "HX-Request": "true"})
        assert 'data-state="cancelled"' in cancelled.text
        r = c.get(started.select_one("#deep")["sse-connect"])
        assert "event: done" in r.text and 'data-state="cancelled"' in r.text
    assert len(script.requests) >= ROUNDS


def test_workers_refuse_the_embedded_chroma(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COACH_CHROMA_URL", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "COACH_CHROMA_URL" in err and "Chroma サーバー" in err and "not safe in several processes" in err


def test_sqlite_workers_are_told_what_to_expect(capsys: pytest.CaptureFixture[str]) -> None:
    from coach.serve import notes, problems
    from coach.settings import Settings

    settings = Settings(chroma_url="http://127.0.0.1:8001")
    assert problems(settings, 2) == [] and problems(settings, 0) != []
    assert any("WAL" in line and "PostgreSQL" in line for line in notes(settings, 2))
    assert notes(settings, 1) == []


def test_sqlite_waits_for_a_writer_instead_of_failing(data_dir: Path) -> None:
    from sqlalchemy import text

    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data_dir / 'w.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
    engine.dispose()
