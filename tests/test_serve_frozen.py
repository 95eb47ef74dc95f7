"""`coach serve` freezes what the built app holds, so full garbage collections do not walk it (issue #10:
they paused DX pages for ~300 ms at 10,000 sheets). The app still answers afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coach import serve
from coach.settings import get_settings


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COACH_LOAD_SAMPLES", "0")
    get_settings.cache_clear()
    try:
        yield
    finally:
        gc.unfreeze()  # the test process builds many apps: give these objects back to the collector
        get_settings.cache_clear()


def test_the_served_app_is_frozen_for_the_collector_and_still_answers(environment: None) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    app = serve.served_app()
    assert gc.get_freeze_count() > 1000  # the modules and services alive once the app is built
    with TestClient(app, client=("127.0.0.1", 50000), base_url="http://127.0.0.1") as c:  # type: ignore[arg-type]
        assert c.get("/healthz").status_code == 200
