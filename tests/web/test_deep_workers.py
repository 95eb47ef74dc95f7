"""The AI coach's jobs with several workers (issue #10 item 4): two app instances on one database
stand for two `coach serve` processes. A job started in one is streamed and cancelled from the other."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.settings import Settings
from tests.conftest import TOWN_PC, logged_in
from tests.web.test_deep import DATA, EXTRA, with_llm


@pytest.fixture
def two(database_url: str, data_dir: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """The same person's browser, talking to worker A and worker B of one service."""
    from web.app import create_app

    settings = Settings(data_dir=data_dir, database_url=database_url, load_samples=False)
    first, second = create_app(settings), create_app(settings)
    a = logged_in(first, "madoguchi", "staff", "住民窓口係")
    b = TestClient(second, client=TOWN_PC, cookies=dict(a.cookies), headers=dict(a.headers))
    yield a, b
    for app in (first, second):
        app.state.services.repo._sessions.kw["bind"].dispose()


def _start(c: TestClient, sid: int) -> BeautifulSoup:
    r = c.post(f"/sheets/{sid}/deep", data=DATA, headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text
    return BeautifulSoup(r.text, "html.parser")


def _stream(c: TestClient, url: str, on_progress: Any = None) -> tuple[list[str], BeautifulSoup]:
    events: list[str] = []
    done: list[str] = []
    with c.stream("GET", url) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
                if events[-1] == "progress" and on_progress is not None:
                    on_progress()
            elif line.startswith("data:") and events[-1:] == ["done"]:
                done.append(line[5:])
    return events, BeautifulSoup("\n".join(done), "html.parser")


def test_a_job_started_on_one_worker_streams_from_another(two: tuple[TestClient, TestClient]) -> None:
    a, b = two
    gate = threading.Event()
    with_llm(a, json.dumps(EXTRA, ensure_ascii=False), gate=gate)
    sid = int(a.post("/api/v1/sheets", json=DATA).json()["id"])
    url = _start(a, sid).select_one("#deep")["sse-connect"]
    events, done = _stream(b, url, on_progress=gate.set)  # worker B never ran it: it reads the job's row
    assert events[0] == "progress" and events[-1] == "done"
    assert [e["data-code"] for e in done.select("#deep [data-source=llm]")] == ["TOBE_VAGUE"]
    assert "RPA" not in done.text  # the guard's work is in the stored result, not redone


def test_a_job_started_on_one_worker_is_cancelled_from_another(two: tuple[TestClient, TestClient]) -> None:
    a, b = two
    gate = threading.Event()
    with_llm(a, json.dumps(EXTRA, ensure_ascii=False), gate=gate)
    sid = int(a.post("/api/v1/sheets", json=DATA).json()["id"])
    started = _start(a, sid)
    cancel_url = started.select_one("#deep button")["hx-post"]
    cancelled = BeautifulSoup(b.post(cancel_url, headers={"HX-Request": "true"}).text, "html.parser")
    assert cancelled.select_one("#deep [data-state=cancelled]") is not None
    gate.set()
    events, done = _stream(a, started.select_one("#deep")["sse-connect"])  # the runner's own worker
    assert events == ["done"] and done.select_one("#deep [data-state=cancelled]") is not None
    assert done.select("[data-source=llm]") == []


def test_a_job_whose_worker_died_fails_after_its_deadline(two: tuple[TestClient, TestClient]) -> None:
    a, b = two
    with_llm(a, json.dumps(EXTRA, ensure_ascii=False))
    sid = int(a.post("/api/v1/sheets", json=DATA).json()["id"])
    before = a.get(f"/api/v1/sheets/{sid}").json()
    services = a.app.state.services  # type: ignore[attr-defined]
    who = services.accounts.by_login("madoguchi")
    # A row the worker wrote before it died: nobody will ever finish it, and its deadline has passed.
    job_id = services.jobs.open(sid, who.organisation_id, who.id, seconds=0)
    events, done = _stream(b, f"/sheets/{sid}/deep/{job_id}/events")
    assert events[-1] == "done"
    failed = done.select_one("#deep [data-state=failed]")
    assert failed is not None and "下書きはそのまま" in failed.text
    assert b.get(f"/api/v1/sheets/{sid}").json() == before  # the draft is untouched


def test_a_job_of_another_sheet_is_not_streamed(two: tuple[TestClient, TestClient]) -> None:
    a, b = two
    with_llm(a, json.dumps(EXTRA, ensure_ascii=False))
    sid = int(a.post("/api/v1/sheets", json=DATA).json()["id"])
    other = int(a.post("/api/v1/sheets", json=DATA).json()["id"])
    url = _start(a, sid).select_one("#deep")["sse-connect"]
    events, done = _stream(b, url.replace(f"/sheets/{sid}/", f"/sheets/{other}/"))
    assert events == ["done"] and done.select("[data-source=llm]") == []
    assert done.select_one("#deep button[value=deep]") is not None  # the idle panel: ask again
