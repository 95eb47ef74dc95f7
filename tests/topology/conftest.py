"""The deployment topology as processes: PostgreSQL, a `chroma run` server, two `coach serve`."""

from __future__ import annotations

import pytest

from tests.conftest import empty_postgres
from tests.retrieval.conftest import chroma_server  # noqa: F401  (the session's Chroma server)


@pytest.fixture(scope="module")
def postgres_url() -> str:
    """Several processes share one database: PostgreSQL, as in a real scaled-out deployment."""
    return empty_postgres()
