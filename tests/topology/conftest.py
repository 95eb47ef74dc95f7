"""The deployment topology as processes: PostgreSQL, a `chroma run` server, two `coach serve`."""

from __future__ import annotations

import os

import pytest

from tests.conftest import POSTGRES
from tests.retrieval.conftest import chroma_server  # noqa: F401  (the session's Chroma server)


@pytest.fixture(scope="module")
def postgres_url() -> str:
    """Several processes share one database: PostgreSQL, as in a real scaled-out deployment."""
    from coach.app import all_tables
    from coach.db import make_engine

    if not POSTGRES:
        if os.environ.get("CI"):
            pytest.fail("COACH_TEST_POSTGRES_URL is not set; .ci/run starts PostgreSQL")
        pytest.skip("no PostgreSQL (set COACH_TEST_POSTGRES_URL)")
    engine = make_engine(POSTGRES)
    all_tables().drop_all(engine)
    engine.dispose()
    return POSTGRES
