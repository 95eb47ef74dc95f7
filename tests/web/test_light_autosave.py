"""Typing never waits for the vector index: autosave stores the draft and queues the index update."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coach.outbox import Backoff
from coach.settings import Settings
from tests.conftest import LOOPBACK, logged_in, make_sheet, sheet_data
from tests.retrieval.conftest import CHROMA
from tests.servers import free_port, wait_until_up

PHONE = "ごみの分別の問い合わせ電話がひっきりなしにかかり、窓口の受付が止まる。"


WORKER = "coach-index-worker"  # the background drainer's thread (coach/retrieval/indexer.py) may use the store


class Counter:
    """Counts every use of the vector store and of the embedding function (the slow, fallible part)
    made outside the background index worker."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, app: Any) -> None:
        self.calls: list[str] = []
        store = app.state.services.similar.store
        for name in ("collection", "upsert", "count", "query", "get"):
            monkeypatch.setattr(store, name, self._wrap(name, getattr(store, name)))
        monkeypatch.setattr(store.ef, "embed_query", self._wrap("embed_query", store.ef.embed_query))

    def _wrap(self, name: str, fn: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name != WORKER:
                self.calls.append(name)
            return fn(*args, **kwargs)

        return counted


def test_autosave_does_not_touch_the_store(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    staff = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
    r = staff.post("/sheets", data={"section": "住民窓口係", "title": "転入"}, follow_redirects=False)
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    counter = Counter(monkeypatch, client.app)
    for n in range(5):
        data = sheet_data(asis=f"転入の届出は窓口で受け付け、1件あたり平均{40 + n}分かかっている。")
        r = staff.post(f"/sheets/{sid}/check", data=data, headers={"HX-Request": "true"})
        assert r.status_code == 200 and "自動保存しました" in r.text
    assert counter.calls == []
    assert staff.get(f"/api/v1/sheets/{sid}").json()["asis"].endswith("平均44分かかっている。")


def test_saves_queue_one_row_per_sheet_and_the_worker_drains_it(db_app: Any) -> None:
    staff = logged_in(db_app, "madoguchi", "staff", "住民窓口係")
    services = db_app.state.services
    services.index_worker.stop()  # look at the queue before anything drains it
    sid = staff.post("/api/v1/sheets", json=sheet_data(title="転入")).json()["id"]
    for n in range(20):
        data = sheet_data(title="転入", asis=f"問い合わせの電話が1日{n + 10}件あり、窓口の受付が止まっている。")
        assert staff.post(f"/sheets/{sid}/check", data=data, headers={"HX-Request": "true"}).status_code == 200
    assert [(r.sheet_id, r.version) for r in services.outbox.rows()] == [(sid, 2)]
    assert staff.get("/readyz").json()["index_backlog"] == 1
    services.index_worker.start()
    services.index_worker.wake()
    assert until(lambda: services.outbox.count() == 0)
    hits = services.similar.store.query(services.organisation_id, make_sheet(asis="問い合わせの電話"), k=1)
    assert [h.db_id for h in hits] == [sid] and "1日29件" in hits[0].text


class ChromaServer:
    """A real `chroma run` on 127.0.0.1 that the test stops and starts again (same port, same data)."""

    def __init__(self, path: Path) -> None:
        self.path, self.port = path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([CHROMA, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port",
                                      str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(f"{self.url}/api/v2/heartbeat", tries=600)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


def test_store_down_saves_go_on_and_the_index_catches_up_without_a_request(chroma: ChromaServer,
                                                                          data_dir: Path) -> None:
    from web.app import create_app

    app = create_app(Settings(data_dir=data_dir, load_samples=False, chroma_url=chroma.url))
    services = app.state.services
    services.outbox.backoff = Backoff(first=0.1, cap=0.5)
    services.index_worker.poll = 0.2
    with TestClient(app, client=LOOPBACK):
        staff = logged_in(app, "madoguchi", "staff", "住民窓口係")
        sid = staff.post("/api/v1/sheets", json=sheet_data(title="ごみ")).json()["id"]
        assert until(lambda: services.outbox.count() == 0)
        chroma.stop()
        assert staff.put(f"/api/v1/sheets/{sid}", json=sheet_data(title="ごみ", asis=PHONE)).status_code == 200
        r = staff.post(f"/sheets/{sid}/check", data=sheet_data(title="ごみの問い合わせ", asis=PHONE),
                       headers={"HX-Request": "true"})
        assert r.status_code == 200 and "自動保存しました" in r.text
        assert until(lambda: any((row.last_error or "").startswith("StoreUnavailable")
                                 for row in services.outbox.rows()))
        assert staff.get(f"/api/v1/sheets/{sid}/similar").status_code == 503
        assert staff.get("/readyz").json()["index_backlog"] == 1
        chroma.start()  # no request from here on: the worker alone catches up
        assert until(lambda: services.outbox.count() == 0, seconds=120)
        hits = services.similar.store.query(services.organisation_id, make_sheet(asis=PHONE), k=1)
        assert [h.db_id for h in hits] == [sid] and hits[0].title == "ごみの問い合わせ"


def until(condition: Any, seconds: float = 60.0) -> bool:
    """Wait for a condition (bounded), polling; never a bare sleep."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())
