"""Issue #11 item 9: revision 0014 rewrites stored text the way the cleaning rule writes it today
(CR LF and CR as LF, control characters removed), on a real SQLite file and PostgreSQL."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from coach import migrate
from coach.db import make_engine
from tests.conftest import sheet_data
from tests.test_migrations import wipe


def test_0014_normalises_line_breaks_and_control_characters_in_stored_versions(database_url: str) -> None:
    wipe(database_url)  # the fixture's database has every table
    engine = make_engine(database_url)
    dirty = sheet_data(margin="一行目\r\n二行目\r三行目", asis="現状\x0bです", tasks=["課題\r\n続き"])
    with engine.connect() as conn:
        command.upgrade(migrate.config(conn), "0002")
        conn.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, '町', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO sections (id, organisation_id, name) VALUES (1, 1, '住民窓口係')"))
        conn.execute(text("INSERT INTO sheets (id, organisation_id, section_id, title, status, version, created_at,"
                          " updated_at) VALUES (1, 1, 1, :t, 'draft', 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                     {"t": "転入\r\n手続き"})
        for number, content in ((1, json.dumps(dirty, ensure_ascii=False)), (2, json.dumps(sheet_data()))):
            conn.execute(text("INSERT INTO sheet_versions (sheet_id, number, kind, content, created_at, updated_at)"
                              " VALUES (1, :n, 'save', :c, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                         {"n": number, "c": content})
        conn.commit()
        command.upgrade(migrate.config(conn), "0014")
        conn.commit()
        rows = dict(conn.execute(text("SELECT number, content FROM sheet_versions ORDER BY number")).all())
        title = conn.execute(text("SELECT title FROM sheets WHERE id = 1")).scalar_one()
    first = json.loads(rows[1])
    assert "\r" not in rows[1] and "\\r" not in rows[1] and "\\u000b" not in rows[1]
    assert (first["margin"], first["asis"], first["tasks"]) == ("一行目\n二行目\n三行目", "現状です", ["課題\n続き"])
    assert json.loads(rows[2]) == sheet_data()  # clean rows stay as they were
    assert title == "転入\n手続き"
    engine.dispose()
