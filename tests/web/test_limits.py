"""Unauthenticated requests cannot stall everyone (issue #9 item 9): body limits before reading,
small error bodies, password hashing off the event loop. Host allow-list (DNS rebinding)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from coach.settings import Settings
from tests.conftest import LOOPBACK, PASSWORD, TOWN_PC, ensure_account, login_form_token, sheet_data
from tests.servers import free_port, wait_until_up
from tests.web.conftest import JAPANESE

KB = 1024


def _reason(r: Any) -> str:
    return str(r.json()["detail"]) if r.headers.get("content-type", "").startswith("application/json") else r.text


def test_a_300_kb_json_body_is_refused_with_413(client: TestClient) -> None:
    body = json.dumps(sheet_data(asis="あ" * (100 * KB)))  # ~300 KB of UTF-8
    started = time.monotonic()
    r = client.post("/api/v1/critique", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and JAPANESE.search(_reason(r)) and "KB" in _reason(r)
    assert time.monotonic() - started < 5  # refused, not parsed and critiqued


def test_a_streamed_body_without_length_is_cut_off(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * (16 * KB)

    r = client.post("/api/v1/critique", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and JAPANESE.search(_reason(r))


def test_forms_have_the_same_limit(client: TestClient) -> None:
    person = TestClient(client.app, client=TOWN_PC)
    r = person.post("/login", data={"login": "x" * (300 * KB), "password": "p", "csrf_token": login_form_token(person)})
    assert r.status_code == 413 and "大きすぎ" in r.text


def test_uploads_may_be_larger(dx: TestClient) -> None:
    r = dx.post("/import", files={"file": ("big.csv", b"a" * (1024 * KB), "text/csv")})
    assert r.status_code != 413  # within the upload route's 5 MB; what the file says is another matter
    r = dx.post("/import", files={"file": ("huge.csv", b"a" * (6 * 1024 * KB), "text/csv")})
    assert r.status_code == 413 and "5 MB" in r.text


def test_many_unknown_keys_get_a_small_error_body(client: TestClient) -> None:
    huge = {f"k{i}": 1 for i in range(100_000)}
    r = client.post("/api/v1/sheets", json=huge)
    assert 400 <= r.status_code < 500 and len(r.content) < 4 * KB and JAPANESE.search(_reason(r))
    many = {**sheet_data(), **{f"k{i}": 1 for i in range(20_000)}}  # under the size limit: every key is wrong
    r = client.post("/api/v1/sheets", json=many)
    assert r.status_code == 422 and len(r.content) < 8 * KB
    body = r.json()
    assert len(body["errors"]) == 20 and "ほか 19,980 件" in body["detail"]


def test_password_hashing_runs_off_the_event_loop(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    seen: list[bool] = []

    def on_loop() -> bool:
        try:
            asyncio.get_running_loop()
            return True
        except RuntimeError:
            return False

    for name in ("authenticate", "set_password"):
        original = getattr(accounts, name)

        def spy(*args: Any, _original: Any = original) -> Any:
            seen.append(on_loop())
            return _original(*args)

        monkeypatch.setattr(accounts, name, spy)
    ensure_account(client.app, "madoguchi")
    person = TestClient(client.app, client=TOWN_PC)
    assert person.post("/login", data={"login": "madoguchi", "password": PASSWORD,
                                       "csrf_token": login_form_token(person)}, follow_redirects=False).status_code == 303
    session = accounts.session(person.cookies["coach_session"])
    r = person.post("/account/password", data={"current": PASSWORD, "new": "another-pass-1", "again": "another-pass-1",
                                               "csrf_token": session.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert seen and not any(seen)


# -- a real server: Content-Length and chunked bodies as uvicorn hands them over -------------------

@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    from web.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until_up(f"http://127.0.0.1:{port}/login")
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _raw(address: str, head: str, body_parts: list[bytes]) -> str:
    """Send a request as bytes and read the answer until the server closes (it says Connection: close)."""
    host, port = address.split(":")
    data = b""
    with socket.create_connection((host, int(port)), timeout=10) as s:
        try:
            s.sendall(head.encode())
            for part in body_parts:
                s.sendall(part)
        except OSError:
            pass  # the server may answer and close before everything was sent
        try:
            while chunk := s.recv(65536):
                data += chunk
        except OSError:
            pass
    return data.decode("utf-8", "replace")


def test_a_declared_length_over_the_limit_is_refused_before_reading(served: str) -> None:
    head = (f"POST /api/v1/critique HTTP/1.1\r\nHost: {served}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * KB}\r\nConnection: close\r\n\r\n")
    started = time.monotonic()
    answer = _raw(served, head, [b"{"])  # only one byte of the promised 200 MB ever comes
    assert answer.startswith("HTTP/1.1 413") and "大きすぎ" in answer
    assert time.monotonic() - started < 5


def test_a_chunked_body_over_the_limit_is_refused(served: str) -> None:
    head = (f"POST /api/v1/critique HTTP/1.1\r\nHost: {served}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    chunk = b"x" * (32 * KB)
    parts = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(12)] + [b"0\r\n\r\n"]
    answer = _raw(served, head, parts)
    assert answer.startswith("HTTP/1.1 413") and "大きすぎ" in answer


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io", "testserver"])
def test_unknown_hosts_are_refused(tmp_path: Any, host: str) -> None:
    from web.app import create_app

    settings = Settings(data_dir=tmp_path, load_samples=False, allowed_hosts="localhost,127.0.0.1,::1")
    c = TestClient(create_app(settings), client=LOOPBACK)
    r = c.get("/api/v1/sheets/1", headers={"host": host})
    assert r.status_code == 400 and "ホスト" in r.json()["detail"]
    r = c.get("/login", headers={"host": host})
    assert r.status_code == 400 and "ホスト" in r.text


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST:1"])
def test_loopback_names_are_allowed_by_default(tmp_path: Any, host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.app import create_app

    monkeypatch.delenv("COACH_ALLOWED_HOSTS", raising=False)
    c = TestClient(create_app(Settings(data_dir=tmp_path, load_samples=False)), client=LOOPBACK)
    assert c.get("/login", headers={"host": host}).status_code == 200


def test_health_probes_answer_on_any_host_and_nothing_else_does(tmp_path: Any) -> None:
    """A container's health check or a load balancer probes by IP; the probes reveal nothing."""
    from web.app import create_app

    settings = Settings(data_dir=tmp_path, load_samples=False, allowed_hosts="coach.town.lg.jp")
    c = TestClient(create_app(settings), client=LOOPBACK)
    assert c.get("/healthz", headers={"host": "10.0.0.7:8000"}).json() == {"status": "ok"}
    assert c.get("/readyz", headers={"host": "10.0.0.7:8000"}).status_code in (200, 503)
    for path in ("/version", "/healthz/../login", "/healthzx", "/login"):
        assert c.get(path, headers={"host": "10.0.0.7:8000"}).status_code == 400, path
