"""Shared fixtures: every test owns a temporary data directory; sheets come from one factory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coach.settings import Settings
from coach.sheet import Sheet

# TestClient's default host is "testserver"; module-scoped apps (tests/security) pass this list themselves,
# since they are built before the per-test environment below is set.
TEST_HOSTS = ["localhost", "127.0.0.1", "::1", "testserver"]


@pytest.fixture(autouse=True, scope="session")
def production_hasher() -> Iterator[Any]:
    """argon2id at the cost of the lowest profile (time 1, 8 MiB, one lane) while the tests run; yields
    the production hasher. At the production cost (RFC 9106's low-memory profile) each password
    hash and each check takes about 0.3 s of CPU, and most tests create and log in several people.
    Hashes stay argon2id and are really computed and checked; tests/workspace/test_accounts.py
    checks the production parameters with this fixture; servers in other processes use them."""
    from argon2 import PasswordHasher

    from coach.workspace import accounts

    production, dummy = accounts._hasher, accounts._DUMMY_HASH
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    accounts._DUMMY_HASH = accounts._hasher.hash("not a password of anyone")  # an unknown login costs the same
    try:
        yield production
    finally:
        accounts._hasher, accounts._DUMMY_HASH = production, dummy


@pytest.fixture(autouse=True)
def sql_off_the_loop() -> Iterator[None]:
    """Every test that drives the app (TestClient or an in-process server) fails when a request ran SQL
    on the event loop (tests/loop_guard.py); what a module-scoped fixture caused shows at its first test."""
    from tests import loop_guard

    loop_guard.install()
    yield
    found = loop_guard.take()
    if found:
        pytest.fail(loop_guard.report(found), pytrace=False)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from coach.settings import get_settings

    d = tmp_path / "data"
    monkeypatch.setenv("COACH_DATA_DIR", str(d))
    # TestClient's default host: the app refuses Host headers outside COACH_ALLOWED_HOSTS (DNS rebinding)
    monkeypatch.setenv("COACH_ALLOWED_HOSTS", ",".join(TEST_HOSTS))
    get_settings.cache_clear()  # commands run in-process read this test's environment, not an earlier one's
    return d


GOOD: dict[str, Any] = {
    "section": "住民窓口係",
    "title": "転入手続きの窓口対応",
    "asis": "転入の届出は窓口で受け付け、1件あたり平均40分。住民が最大6か所の窓口を自分で回っている。",
    "tobe": "転入した住民が、1か所の窓口で必要な手続きをまとめて済ませ、20分ほどで役場を出られている。",
    "purpose": "引っ越してきたばかりの住民が、町での暮らしを安心して始められるようにするため。",
    "problems": ["手続きごとに担当課が分かれ、住民が窓口を移動しないと手続きが終わらない状態になっている"],
    "tasks": ["転入時に必要になる手続きを世帯の状況別に洗い出す", "各窓口の処理時間を3月に計測する"],
    "margin": "書かない窓口のシステム？",
}


def sheet_data(**overrides: Any) -> dict[str, Any]:
    data = {k: (list(v) if isinstance(v, list) else v) for k, v in GOOD.items()}
    data.update(overrides)
    return data


def make_sheet(**overrides: Any) -> Sheet:
    return Sheet.model_validate(sheet_data(**overrides))


POSTGRES = os.environ.get("COACH_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the head revision, built once per session: a test copies the file
    (a few milliseconds) instead of building every table and stamping the revision again."""
    from coach.db import init_db, make_engine

    path = tmp_path_factory.mktemp("schema-template") / "coach.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


def empty_sqlite(data_dir: Path, template: Path) -> str:
    """A fresh copy of the template as this test's own database file (no rows, every table)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, data_dir / "coach.db")
    return f"sqlite:///{data_dir / 'coach.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, data_dir: Path, schema_template: Path) -> str:
    """Every storage test runs on a real SQLite file and on a real PostgreSQL server, each with every
    table and no rows (tests of building the schema wipe it first: tests/test_migrations.py)."""

    if request.param == "sqlite":
        return empty_sqlite(data_dir, schema_template)
    return empty_postgres()


def empty_postgres() -> str:
    """The test PostgreSQL server's URL with no rows (each test starts empty); skipped without one on
    a developer machine, a failure in CI (.ci/run starts PostgreSQL)."""
    from coach.db import make_engine

    if not POSTGRES:
        if os.environ.get("CI"):
            pytest.fail("COACH_TEST_POSTGRES_URL is not set; .ci/run starts PostgreSQL")
        pytest.skip("no PostgreSQL (set COACH_TEST_POSTGRES_URL, e.g. postgresql+psycopg://coach:coach@127.0.0.1/coach_test)")
    engine = make_engine(POSTGRES)
    try:
        emptied = _delete_every_row(engine)
        if not emptied:  # another revision, or tables a test left: build the schema again from nothing
            from coach.app import all_tables

            all_tables().drop_all(engine)
    finally:
        engine.dispose()
    return POSTGRES


def _delete_every_row(engine: Any) -> bool:
    """When the schema is exactly the models' tables at the head revision (as an earlier test left
    it), delete every row and restart the id sequences, far cheaper than dropping and creating every
    table; False (and nothing changed) otherwise."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect, text

    from coach import migrate
    from coach.app import all_tables

    tables = all_tables().sorted_tables
    with engine.begin() as conn:
        if set(inspect(conn).get_table_names()) != {t.name for t in tables} | {"alembic_version"}:
            return False
        if MigrationContext.configure(conn).get_current_revision() != migrate.head():
            return False
        for table in reversed(tables):  # children before parents
            conn.execute(table.delete())
        conn.execute(text("SELECT setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n"
                          " ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()"))
    return True


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, load_samples=False)


LOOPBACK = ("127.0.0.1", 50000)  # a program on this machine: the contract's API answers without a login
TOWN_PC = ("10.0.0.5", 50000)  # a person at a desk in the town hall: everything needs a login
PASSWORD = "correct-horse-9"


@pytest.fixture
def client(settings: Settings, schema_template: Path) -> Iterator[TestClient]:
    """Not logged in, on this machine: the JSON API of contract §6 works as it always did."""
    from web.app import create_app

    empty_sqlite(settings.data_dir, schema_template)
    with TestClient(create_app(settings), client=LOOPBACK) as c:
        yield c


def indexed(app: Any, seconds: float = 60.0) -> None:
    """Wait (bounded) until the similar-sheet index holds every save so far: saves queue their index
    update (coach/outbox.py) and the app's worker applies it a moment later. What is queued is drained
    here too, due or not (as `coach reindex --pending` does; claims never overlap with the worker's),
    so an autosave's delayed update is not waited for."""
    import time

    services = app.state.services
    services.index_worker.indexer.drain(due_only=False)
    services.index_worker.wake()
    deadline = time.monotonic() + seconds
    while services.outbox.count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert services.outbox.count() == 0, "the index worker did not catch up"


def ensure_account(app: Any, login: str, role: str = "staff", section: str | None = "住民窓口係",
                   name: str | None = None) -> Any:
    services = app.state.services
    found = services.accounts.by_login(login)
    if found is not None:
        return found
    return services.accounts.create(services.organisation_id, login, name or f"{login}さん", role, PASSWORD,
                                    section if role == "staff" else None)


def login_form_token(c: TestClient) -> str:
    from bs4 import BeautifulSoup

    page = BeautifulSoup(c.get("/login").text, "html.parser")
    return str(page.select_one("input[name=csrf_token]")["value"])  # type: ignore[index]


def logged_in(app: Any, login: str, role: str = "staff", section: str | None = "住民窓口係",
              csrf_header: bool = True) -> TestClient:
    """A new browser-like client, logged in through the real login form."""
    ensure_account(app, login, role, section)
    c = TestClient(app, client=TOWN_PC)
    r = c.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": login_form_token(c)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    if csrf_header:  # what htmx sends from <body hx-headers>; forms also carry it as a hidden field
        c.headers["X-CSRF-Token"] = csrf_of(c)
    return c


def section_staff(app: Any, section: str) -> TestClient:
    """A logged-in member of `section` (one account per section per test)."""
    import hashlib

    return logged_in(app, "s" + hashlib.sha1(section.encode()).hexdigest()[:8], "staff", section)


def csrf_of(c: TestClient) -> str:
    session = c.app.state.services.accounts.session(c.cookies.get("coach_session"))  # type: ignore[attr-defined]
    assert session is not None
    return str(session.csrf)


@pytest.fixture
def staff(client: TestClient) -> TestClient:
    """Section staff of 住民窓口係 (the section of the GOOD sheet)."""
    return logged_in(client.app, "madoguchi", "staff", "住民窓口係")


@pytest.fixture
def dx(client: TestClient) -> TestClient:
    return logged_in(client.app, "dx-team", "dx", None)


@pytest.fixture
def json_logs() -> Iterator[Any]:
    """Logs configured as in production with COACH_LOG_FORMAT=json; call it to read the lines so far."""
    import io
    import json
    import logging

    from coach import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers, root.level = saved[0], saved[1]
    logging.getLogger("uvicorn.access").disabled = False
