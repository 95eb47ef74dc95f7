"""Issue #10: the editor's typing requests run in a small lane of their own (web/lanes.py).

Which pool each request's blocking work uses is recorded from `anyio.to_thread.run_sync`; and a
real server on 127.0.0.1 is sent more typing pauses at once than the lane has threads: no more than
the lane's threads work at a time, every pause is answered and stored, and a page outside the lane
is answered while the lane is full.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import httpx
import pytest
import uvicorn
from anyio import CapacityLimiter
from fastapi.testclient import TestClient

import web.routes.pages
from coach.settings import Settings
from tests.conftest import PASSWORD, TOWN_PC, ensure_account, logged_in, make_sheet
from tests.servers import free_port, wait_until_up
from web.auth import UNSAFE
from web.lanes import _TYPING, TYPING_THREADS

PAUSES = 3 * TYPING_THREADS  # typing pauses sent at once


def _form(i: int, base: int) -> dict[str, Any]:
    form = {k: v for k, v in make_sheet(section="住民窓口係").model_dump().items() if k not in ("problems", "tasks")}
    return {**form, "problems": ["窓口で待つ時間が長い"], "tasks": [f"受付の流れを見直す{i}"], "base_version": str(base)}


@pytest.fixture
def limiters(monkeypatch: pytest.MonkeyPatch) -> list[CapacityLimiter | None]:
    """The limiter of every hop to a worker thread, in order (None: anyio's general pool)."""
    seen: list[CapacityLimiter | None] = []
    hop = anyio.to_thread.run_sync

    async def recording(*args: Any, limiter: CapacityLimiter | None = None, **kwargs: Any) -> Any:
        seen.append(limiter)
        return await hop(*args, limiter=limiter, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    return seen


def test_the_editors_requests_use_the_lane_and_other_pages_the_general_pool(
        client: TestClient, limiters: list[CapacityLimiter | None]) -> None:
    app = client.app
    staff = logged_in(app, "madoguchi", "staff", "住民窓口係")
    services = app.state.services
    stored = services.repo.create(services.organisation_id, make_sheet(section="住民窓口係"))
    sid = stored.id
    typing = {
        "editor page": lambda: staff.get(f"/sheets/{sid}"),
        "typing pause": lambda: staff.post(f"/sheets/{sid}/check", data=_form(0, stored.version),
                                           headers={"HX-Request": "true"}),
        "similar refresh": lambda: staff.post(f"/sheets/{sid}/similar", data=_form(0, stored.version + 1),
                                              headers={"HX-Request": "true"}),
        "explicit save": lambda: staff.post(f"/sheets/{sid}", data={**_form(1, stored.version + 1), "op": "save"},
                                            follow_redirects=False),
    }
    for name, send in typing.items():
        limiters.clear()
        r = send()
        assert r.status_code in (200, 303), (name, r.status_code, r.text[:300])
        assert limiters, name  # the database is never read on the event loop
        assert len(limiters) == 1, (name, limiters)  # one hop: session, CSRF check and the work together
        assert all(isinstance(x, CapacityLimiter) and x.total_tokens == TYPING_THREADS for x in limiters), (
            name, limiters)
    latest = services.repo.get(sid, services.organisation_id)
    assert latest.sheet.tasks == ["受付の流れを見直す1"]  # the save is stored
    for path in ("/", f"/sheets/{sid}/history"):  # other pages keep the general pool
        limiters.clear()
        r = staff.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert limiters and all(x is None for x in limiters), (path, limiters)


def _typing_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route in the editor's lane, the sheet's id left as `{sheet_id}`."""
    out = []
    for route in app.router.routes:
        for inner in getattr(getattr(route, "original_router", None), "routes", [route]):
            if getattr(inner, "endpoint", None) in _TYPING:
                out += [(m, inner.path) for m in sorted(inner.methods)]
    return out


def test_the_lanes_one_hop_checks_login_and_csrf_before_any_work(
        client: TestClient, limiters: list[CapacityLimiter | None], monkeypatch: pytest.MonkeyPatch) -> None:
    """The session lookup and the CSRF check run inside the route's own hop (web/lanes.py): they must
    still refuse a forged token or a missing login on every unsafe route of the lane before its work."""
    app = client.app
    services = app.state.services
    stored = services.repo.create(services.organisation_id, make_sheet(section="住民窓口係"))
    unsafe = [path for method, path in _typing_routes(app) if method in UNSAFE]
    assert {"/sheets/{sheet_id}", "/sheets/{sheet_id}/check", "/sheets/{sheet_id}/similar"} <= set(unsafe), unsafe
    worked: list[str] = []
    for name in ("_check_and_autosave", "_submit", "_editor"):
        original = getattr(web.routes.pages, name)
        monkeypatch.setattr(web.routes.pages, name,
                            lambda *a, _n=name, _f=original, **k: worked.append(_n) or _f(*a, **k))
    monkeypatch.setattr(web.routes.pages, "similar_for", lambda *a, **k: worked.append("similar") or [])
    forged = logged_in(app, "madoguchi", "staff", "住民窓口係", csrf_header=False)
    stranger = TestClient(app, client=TOWN_PC)
    data = {**_form(9, stored.version), "op": "save"}
    for path in unsafe:
        url = path.format(sheet_id=stored.id)
        for headers in ({"X-CSRF-Token": "forged"}, {"X-CSRF-Token": "forged", "HX-Request": "true"}, {}):
            r = forged.post(url, data={**data, "csrf_token": "forged"}, headers=headers, follow_redirects=False)
            assert r.status_code == 403, (url, headers, r.status_code)
        r = stranger.post(url, data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), (url, r.status_code)
        r = stranger.post(url, data=data, headers={"HX-Request": "true"})
        assert r.status_code == 401, (url, r.status_code)
    assert worked == [], worked
    assert services.repo.get(stored.id, services.organisation_id).version == stored.version  # nothing written
    r = stranger.get(f"/sheets/{stored.id}", follow_redirects=False)  # the editor page itself needs a login
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[str, Any]]:
    from web.app import create_app

    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/login")
    yield base, app
    server.should_exit = True
    thread.join(timeout=10)


def _login(base: str, app: Any, login: str) -> httpx.Client:
    from bs4 import BeautifulSoup

    ensure_account(app, login, "staff", "住民窓口係")
    c = httpx.Client(base_url=base, timeout=30)
    token = BeautifulSoup(c.get("/login").text, "html.parser").select_one("input[name=csrf_token]")
    assert token is not None
    r = c.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": str(token["value"])})
    assert r.status_code == 303, r.text[:300]
    session = app.state.services.accounts.session(c.cookies.get("coach_session"))
    c.headers.update({"X-CSRF-Token": str(session.csrf), "HX-Request": "true"})
    return c


def test_typing_pauses_beyond_the_lane_wait_their_turn_and_other_pages_do_not(
        served: tuple[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    base, app = served
    services = app.state.services
    org = services.organisation_id
    sheets = [services.repo.create(org, make_sheet(section="住民窓口係", title=f"窓口{i}")) for i in range(PAUSES)]
    clients = [_login(base, app, f"typist{i}") for i in range(PAUSES)]
    dx = _login(base, app, "reader")
    inside = threading.Semaphore(0)  # one release per pause that reached the critic
    release = threading.Event()
    lock = threading.Lock()
    busy = {"now": 0, "most": 0}
    pause = web.routes.pages._check_and_autosave  # noqa: SLF001 — looked up by the route at each call

    def held(*args: Any) -> Any:
        with lock:
            busy["now"] += 1
            busy["most"] = max(busy["most"], busy["now"])
        inside.release()
        try:
            release.wait(30)  # bounded: the test releases it as soon as it has looked
            return pause(*args)
        finally:
            with lock:
                busy["now"] -= 1

    monkeypatch.setattr(web.routes.pages, "_check_and_autosave", held)
    answers: list[httpx.Response] = []

    def type_once(i: int) -> None:
        answers.append(clients[i].post(f"/sheets/{sheets[i].id}/check", data=_form(i, sheets[i].version)))

    threads = [threading.Thread(target=type_once, args=(i,)) for i in range(PAUSES)]
    for t in threads:
        t.start()
    try:
        for _ in range(TYPING_THREADS):  # the lane is full
            assert inside.acquire(timeout=30)
        page = dx.get("/")  # a page outside the lane is answered meanwhile
        assert page.status_code == 200
        with lock:
            assert busy["most"] == TYPING_THREADS, busy
    finally:
        release.set()
        for t in threads:
            t.join(timeout=60)
    assert busy["most"] == TYPING_THREADS, busy
    assert len(answers) == PAUSES and all(r.status_code == 200 for r in answers), [r.status_code for r in answers]
    assert all(r.headers["X-Coach-Autosave"] == "saved" for r in answers)
    for i, stored in enumerate(sheets):
        assert services.repo.get(stored.id, org).sheet.tasks == [f"受付の流れを見直す{i}"]
    for c in [*clients, dx]:
        c.close()
