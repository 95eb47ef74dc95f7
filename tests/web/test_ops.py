"""Operators' endpoints and logs: health, readiness, version, request ids, JSON lines, backups."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from importlib.metadata import version
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from coach.cli import main
from coach.settings import Settings
from tests.conftest import TOWN_PC


@pytest.fixture
def anonymous(settings: Settings) -> TestClient:
    from web.app import create_app

    return TestClient(create_app(settings), client=TOWN_PC)  # not logged in, not on this machine


def test_health_and_version_answer_without_a_login(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    assert anonymous.get("/version").json() == {"version": version("curry-coach")}


def test_readiness_checks_database_migrations_and_the_vector_store(anonymous: TestClient) -> None:
    r = anonymous.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "vector_store": "ok"},
                        "index_backlog": 0}


def test_a_schema_behind_makes_the_replica_not_ready_without_saying_more(anonymous: TestClient) -> None:
    engine = anonymous.app.state.services.repo.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    r = anonymous.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "checks": {"database": "ok", "migrations": "behind",
                                                            "vector_store": "ok"}}


def test_an_unreachable_vector_store_degrades_but_keeps_the_replica_in_service(data_dir: Path) -> None:
    from web.app import create_app

    settings = Settings(data_dir=data_dir, load_samples=False, chroma_url="http://127.0.0.1:9")
    r = TestClient(create_app(settings), client=TOWN_PC).get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "degraded" and body["checks"]["vector_store"] == "unavailable"
    assert body["index_backlog"] == 0
    assert "127.0.0.1" not in r.text and "Error" not in r.text  # no details for anonymous callers


def test_every_response_carries_a_request_id_and_a_plain_one_from_a_proxy_is_kept(anonymous: TestClient) -> None:
    own = anonymous.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", own)
    assert anonymous.get("/healthz").headers["X-Request-ID"] != own
    assert anonymous.get("/healthz", headers={"X-Request-ID": "proxy-42.a"}).headers["X-Request-ID"] == "proxy-42.a"
    odd = anonymous.get("/healthz", headers={"X-Request-ID": "x" * 65}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", odd)  # anything that is not plainly an id is replaced


def test_json_logs_carry_the_request_id_on_every_line(anonymous: TestClient, json_logs) -> None:  # type: ignore[no-untyped-def]
    r = anonymous.get("/login", headers={"X-Request-ID": "req-7"})
    assert r.status_code == 200
    lines = [line for line in json_logs() if line.get("path") == "/login"]
    assert lines and all(line["request_id"] == "req-7" for line in lines)
    assert lines[-1]["status"] == 200 and lines[-1]["method"] == "GET" and lines[-1]["duration_ms"] >= 0


def test_backup_writes_a_consistent_copy_of_the_database_and_the_index(data_dir: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from web.app import create_app

    app = create_app(Settings(data_dir=data_dir, load_samples=True))  # sample sheets in the database and index
    with TestClient(app):
        stored = app.state.services.repo.count()
        dest = tmp_path / "backup"
        assert main(["backup", str(dest)]) == 0  # while the app holds the database open
    with closing(sqlite3.connect(dest / "coach.db")) as conn:
        assert conn.execute("SELECT count(*) FROM sheets").fetchone()[0] == stored > 0
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert (dest / "chroma" / "chroma.sqlite3").is_file()
    manifest = json.loads((dest / "manifest.json").read_text("utf-8"))
    assert manifest["database"] == "coach.db" and manifest["index"] == "chroma" and manifest["schema"]
    capsys.readouterr()
    assert main(["backup", str(dest)]) == 2  # never over an earlier backup
    assert "空でないフォルダ" in capsys.readouterr().err
