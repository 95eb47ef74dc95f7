"""The web app on each database: the boundary tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coach.settings import Settings
from tests.llm.conftest import stub_llm  # noqa: F401 (a fixture: the fake model for the workers' test)
from tests.retrieval.conftest import chroma_server  # noqa: F401 (a fixture: a real Chroma server)

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def db_app(database_url: str, data_dir: Path) -> Iterator[Any]:
    """A running app (lifespan included) on a real SQLite file or a real PostgreSQL database."""
    from fastapi.testclient import TestClient

    from tests.conftest import LOOPBACK
    from web.app import create_app

    app = create_app(Settings(data_dir=data_dir, database_url=database_url, load_samples=False))
    with TestClient(app, client=LOOPBACK):
        yield app
    app.state.services.repo._sessions.kw["bind"].dispose()  # type: ignore[attr-defined]
