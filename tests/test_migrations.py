"""Schema migrations: a database written by release 0.1.0 upgrades with nothing lost, and the
migrations build exactly the models (what autogenerate would write is empty)."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, create_engine, insert, inspect, select, text

from coach import migrate
from coach.app import all_tables
from coach.cli import main
from coach.db import make_engine
from coach.settings import Settings
from tests.conftest import TOWN_PC, login_form_token

RELEASE = Path(__file__).parent / "fixtures" / "release-0.1.0.sqlite"
FIXTURE_PASSWORD = "correct-horse-9"  # tests/fixtures/make_release_db.py


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def wipe(url: str) -> None:
    engine = make_engine(url)
    all_tables().drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def test_the_migrations_build_exactly_the_models(database_url: str) -> None:
    wipe(database_url)  # the fixture's database has every table
    engine = make_engine(database_url)
    with engine.connect() as conn:  # every revision from nothing, not create_all
        command.upgrade(migrate.config(conn), "head")
        conn.commit()
    assert migrate.differences(engine) == []
    assert migrate.state(engine).up_to_date


def test_a_new_database_is_created_at_the_head_revision(database_url: str) -> None:
    wipe(database_url)  # the fixture's database has every table
    engine = make_engine(database_url)
    assert not migrate.state(engine).has_tables
    after = migrate.prepare(engine, auto_migrate=False)  # creating an empty database is always safe
    assert after.up_to_date and migrate.differences(engine) == []


def _release_copy(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "coach.db"
    shutil.copy(RELEASE, target)
    return target


def _login(app, login_id: str) -> TestClient:  # type: ignore[no-untyped-def]
    c = TestClient(app, client=TOWN_PC)
    r = c.post("/login", data={"login": login_id, "password": FIXTURE_PASSWORD, "csrf_token": login_form_token(c)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _serves_everything(app, before: dict[str, int], url: str) -> None:  # type: ignore[no-untyped-def]
    after = counts(url)
    assert {k: after[k] for k in before} == before  # every row of every table is still there
    services = app.state.services
    assert {a.login for a in services.accounts.list(services.organisation_id)} >= {"dxteam", "madoguchi", "doboku"}
    dx = _login(app, "dxteam")
    queue = BeautifulSoup(dx.get("/review?state=all").text, "html.parser").select(".queue tbody tr")
    assert {"転入手続きの窓口対応", "住民票の郵送請求"} <= {t for r in queue for t in ("転入手続きの窓口対応", "住民票の郵送請求")
                                                     if t in r.text}
    staff = _login(app, "madoguchi")
    listing = staff.get("/").text
    for title in ("転入手続きの窓口対応", "住民票の郵送請求", "下書きのまま"):
        assert title in listing
    engine = services.repo.engine
    with engine.connect() as conn:
        reviewed = conn.execute(text("SELECT sheet_id FROM reviews ORDER BY sheet_id")).scalars().all()
    for sid in reviewed:
        page = dx.get(f"/review/{sid}")
        assert page.status_code == 200 and "あるべき姿" in page.text
        assert len(staff.get(f"/api/v1/sheets/{sid}/versions", headers={"X-CSRF-Token": "x"}).json()) >= 2


def test_a_release_database_upgrades_on_start_and_serves_every_row(data_dir: Path) -> None:
    from web.app import create_app

    db = _release_copy(data_dir)
    url = f"sqlite:///{db}"
    before = counts(url)
    assert before["sheet_versions"] and before["reviews"] and before["users"] and before["finding_labels"]
    assert migrate.state(make_engine(url)).current is None  # 0.1.0 had no version table
    app = create_app(Settings(data_dir=data_dir, load_samples=False))
    with TestClient(app):
        assert migrate.state(app.state.services.repo.engine).up_to_date
        _serves_everything(app, before, url)


def test_without_auto_migration_an_old_database_is_refused_and_the_command_upgrades_it(
        data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from web.app import create_app

    _release_copy(data_dir)
    with pytest.raises(migrate.SchemaBehind, match="coach db upgrade"):
        create_app(Settings(data_dir=data_dir, load_samples=False, auto_migrate=False))
    assert main(["db", "current"]) == 1
    assert "0.1.0" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0 and main(["db", "check"]) == 0
    assert "差分なし" in capsys.readouterr().out
    create_app(Settings(data_dir=data_dir, load_samples=False, auto_migrate=False))  # now it starts


def test_a_release_database_on_postgresql_upgrades_and_serves_every_row(database_url: str, data_dir: Path) -> None:
    """The same upgrade on PostgreSQL: release 0.1.0's tables and rows, without a version table."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL half of the release upgrade")
    from web.app import create_app

    wipe(database_url)
    pg = make_engine(database_url)
    with pg.connect() as conn:
        command.upgrade(migrate.config(conn), migrate.BASELINE)  # the baseline is release 0.1.0's schema
        conn.execute(text("DROP TABLE alembic_version"))
        conn.commit()
    source = create_engine(f"sqlite:///{RELEASE}")
    old = MetaData()
    old.reflect(source)
    target = MetaData()
    target.reflect(pg)
    with closing(source.connect()) as src, pg.begin() as dst:
        for table in old.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if rows:
                dst.execute(insert(target.tables[table.name]), rows)
        for table in target.sorted_tables:  # PostgreSQL's id sequences continue after the copied rows
            if "id" in table.c:
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                 f"COALESCE((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false)"))
    before = counts(f"sqlite:///{RELEASE}")
    app = create_app(Settings(data_dir=data_dir, load_samples=False, database_url=database_url, auto_migrate=True))
    with TestClient(app):
        assert migrate.state(pg).up_to_date
        _serves_everything(app, before, database_url)


def test_the_release_fixture_was_made_by_release_0_1_0() -> None:
    with closing(sqlite3.connect(RELEASE)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "alembic_version" not in tables and {"sheets", "sheet_versions", "reviews", "users"} <= tables
