"""Issue #9 item 5 over real HTTP: five clients save one sheet at once for a bounded time.

A real `coach serve` (uvicorn) on 127.0.0.1, on SQLite and on PostgreSQL. Each client keeps one
keep-alive connection and loops: read the sheet (or reuse the version it last saw), then PUT a
unique text from that version — by `base_version` in the body, by `If-Match`, or (one client, the
contract's old form) without any. The bar: zero 5xx, every 2xx save present afterwards as the
version it was acknowledged as (with its text), conflicts answered 409 with a Japanese reason, and
no connection dropped. `COACH_TEST_SAVE_SECONDS` sets the duration (5 s here, 20 s in `make bench`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from coach.db import init_db, make_engine
from coach.repository import SheetRepository
from tests.conftest import sheet_data
from tests.servers import free_port, wait_until_up

SECONDS = float(os.environ.get("COACH_TEST_SAVE_SECONDS", "5"))
CLIENTS = 5
MAX_PUTS = 5000  # per client: a bound on the count as well as on the time
MODES = ["body", "if-match", "body", "if-match", "none"]  # how each client says where it started


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: dict[int, str] = field(default_factory=dict)  # version number → the text saved
    conflict_reasons: set[str] = field(default_factory=set)
    local_ports: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def server(database_url: str, data_dir: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_DATABASE_URL": database_url,
           "COACH_LOAD_SAMPLES": "0"}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "coach", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/login")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        server_log = (tmp_path / "server.log").read_text(errors="replace")
        assert "Traceback" not in server_log, server_log[-3000:]


def client_loop(base: str, sid: int, n: int, mode: str, deadline: float, tally: Tally, lock: threading.Lock) -> None:
    seen: int | None = None
    with httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_connections=1)) as c:
        for i in range(MAX_PUTS):
            if time.monotonic() > deadline:
                return
            if seen is None or i % 2 == 0:  # half the time from a fresh read, half from the last answer
                r = c.get(f"/api/v1/sheets/{sid}")
                if r.status_code != 200:
                    with lock:
                        tally.statuses[r.status_code] += 1
                    continue
                seen = int(r.json()["version"])
            text = f"書き手{n}の{i}回目の保存"
            body = sheet_data(asis=text)
            headers = {}
            if mode == "body":
                body["base_version"] = seen
            elif mode == "if-match":
                headers["If-Match"] = f'"{seen}"'
            r = c.put(f"/api/v1/sheets/{sid}", json=body, headers=headers)
            stream = r.extensions.get("network_stream")
            port = stream.get_extra_info("client_addr")[1] if stream is not None else -1
            with lock:
                tally.statuses[r.status_code] += 1
                tally.local_ports.add(port)
                if r.status_code == 200:
                    version = int(r.json()["version"])
                    if version in tally.acknowledged:
                        tally.errors.append(f"version {version} acknowledged twice")
                    tally.acknowledged[version] = text
                    seen = version
                elif r.status_code == 409:
                    tally.conflict_reasons.add(r.json()["detail"])
                    seen = int(r.json()["latest_version"])


def test_five_clients_saving_one_sheet(server: str, database_url: str) -> None:
    sid = int(httpx.post(server + "/api/v1/sheets", json=sheet_data(), timeout=30).json()["id"])
    tally, lock = Tally(), threading.Lock()
    deadline = time.monotonic() + SECONDS
    threads = [threading.Thread(target=client_loop, args=(server, sid, n, MODES[n], deadline, tally, lock))
               for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 120)
    assert not any(t.is_alive() for t in threads)

    assert tally.errors == []
    assert not [s for s in tally.statuses if s >= 500], tally.statuses
    assert set(tally.statuses) <= {200, 409}, tally.statuses
    assert tally.statuses[200] >= CLIENTS and tally.statuses[409] > 0, tally.statuses  # real contention
    assert all("別の人がこのシートを先に保存しました" in reason for reason in tally.conflict_reasons)
    assert len(tally.local_ports) == CLIENTS, "a connection was dropped and reopened"

    repo = SheetRepository(init_db(make_engine(database_url)))
    org = repo.ensure_organisation("サンプル町")
    numbers = [v.number for v in repo.versions(sid, org)]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert len(numbers) == 1 + len(tally.acknowledged)  # every acknowledged save and nothing else
    for version, text in tally.acknowledged.items():
        assert repo.version(sid, org, version).asis == text
