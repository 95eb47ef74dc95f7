"""One text-cleaning rule at the boundary (issue #9 item 3): NUL, other C0 controls and lone
surrogates in any text the service accepts never reach the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from coach.cleaning import clean_text
from coach.sheet import Sheet
from tests.conftest import (
    LOOPBACK,
    PASSWORD,
    TOWN_PC,
    ensure_account,
    logged_in,
    login_form_token,
    sheet_data,
)

DIRTY = "\x00\x01\x07\x1b\x7f"  # NUL, SOH, BEL, ESC, DEL
BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def test_the_rule() -> None:
    assert clean_text("a\x00b\x01c\x1fd\x7fe") == "abcde"
    assert clean_text("tab\there\r\nline\rend\n") == "tab\there\nline\nend\n"
    assert clean_text("lone \ud800 surrogate \udfff") == "lone  surrogate "
    assert clean_text("転入手続き 😀") == "転入手続き 😀"  # ordinary text, emoji included, is untouched


def test_the_sheet_type_cleans_every_field() -> None:
    sheet = Sheet.model_validate(sheet_data(title="転入\x00手続き", asis="一行目\r\n二行目\x0b",
                                            problems=["問題\ud800です"], margin="\x1bメモ"))
    assert (sheet.title, sheet.asis, sheet.problems[0], sheet.margin) == ("転入手続き", "一行目\n二行目", "問題です", "メモ")


def _clean_everywhere(values: list[str]) -> None:
    for v in values:
        assert not BAD.search(v), repr(v)


def test_nul_in_the_login_form_is_no_500(db_app: Any) -> None:
    ensure_account(db_app, "madoguchi")
    person = TestClient(db_app, client=TOWN_PC)
    r = person.post("/login", data={"login": "mado\x00guchi", "password": PASSWORD, "next": "/\x00",
                                    "csrf_token": login_form_token(person)}, follow_redirects=False)
    assert r.status_code == 303  # the NUL is removed: it was madoguchi all along
    other = TestClient(db_app, client=TOWN_PC)
    r = other.post("/login", data={"login": "\x00" * 40, "password": "x\x00y", "csrf_token": login_form_token(other)})
    assert r.status_code == 401


def test_nul_in_api_text_is_removed(db_app: Any) -> None:
    local = TestClient(db_app, client=LOOPBACK)
    body = json.dumps(sheet_data(section="住民\x00窓口係", title="転入" + DIRTY + "手続き", asis="a\ud800b\r\nc",
                                 problems=["問題\x00です"]), ensure_ascii=True)  # lone surrogate as a JSON escape
    r = local.post("/api/v1/sheets", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    got = local.get(f"/api/v1/sheets/{r.json()['id']}").json()
    assert (got["section"], got["title"], got["asis"], got["problems"]) == ("住民窓口係", "転入手続き", "ab\nc",
                                                                         ["問題です"])
    r = local.post("/api/v1/critique", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200


def test_nul_in_every_form_is_removed(db_app: Any) -> None:
    services = db_app.state.services
    org = services.organisation_id
    staff = logged_in(db_app, "madoguchi", "staff", "住民窓口係")
    dx = logged_in(db_app, "dxteam", "dx", None)

    r = staff.post("/sheets", data={"title": "転入\x00届"}, follow_redirects=False)  # the new-sheet form
    assert r.status_code == 303, r.text
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    form = {**sheet_data(), "asis": "現状\x00です\r\n二行目", "tobe": "あるべき\x01姿", "problems": ["問題\x00"],
            "tasks": ["課題\x1f"], "op": "submit"}
    assert staff.post(f"/sheets/{sid}", data=form, follow_redirects=False).status_code == 303
    sheet = services.repo.get(sid, org).sheet
    assert sheet.asis == "現状です\n二行目" and sheet.tobe == "あるべき姿" and sheet.problems == ["問題"]

    for path, data in [
        (f"/review/{sid}/comments", {"field": "asis", "body": "具体的\x00には？"}),
        (f"/review/{sid}/outcomes", {"kind": "kpi", "label": "申請\x00割合", "value": "12", "note": "メモ\x00"}),
        ("/admin/themes", {"name": "窓口\x00改善"}),
        ("/admin/sections", {"names": "企画\x00係\r\n総務係"}),
        ("/admin/accounts", {"login": "yamada\x00", "name": "山田\x00太郎", "role": "staff", "section": "税務\x00係"}),
        (f"/review/{sid}/decision", {"decision": "return", "note": "見直し\x00を"}),
    ]:
        r = dx.post(path, data=data, follow_redirects=False)
        assert r.status_code in (200, 303), (path, r.status_code, r.text[:300])

    comments = [c.body for c in services.reviews.comments(sid)]
    outcome = services.cycle.outcomes(sid)[0]
    themes = [t.name for t in services.cycle.themes(org)]
    accounts = {a.login: a for a in services.accounts.list(org)}
    assert "具体的には？" in comments and outcome.label == "申請割合" and outcome.note == "メモ"
    assert "窓口改善" in themes and {"企画係", "総務係", "税務係"} <= set(services.repo.sections(org))
    assert accounts["yamada"].name == "山田太郎" and accounts["yamada"].section == "税務係"
    log = json.dumps([e.detail for e in services.reviews.log(org, limit=100)], ensure_ascii=False)
    _clean_everywhere([*comments, outcome.label, *themes, *services.repo.sections(org), log,
                       sheet.model_dump_json()])


def test_every_route_reads_its_form_through_the_one_cleaning_reader() -> None:
    """web/forms.py `form_of` is the only place that calls request.form(); a route reading the form
    itself would skip the cleaning rule."""
    from pathlib import Path

    import web

    root = Path(web.__file__).parent
    readers = [p.relative_to(root).as_posix() for p in root.rglob("*.py") if ".form()" in p.read_text(encoding="utf-8")]
    assert readers == ["forms.py"]


def test_imported_cells_are_cleaned() -> None:
    from coach.workspace.exchange import COLUMNS, parse

    headers = [label for _, label in COLUMNS]
    values = {"id": "ext\x00-1", "section": "住民\x00窓口係", "title": "転入\x07", "asis": "a\r\nb\x1b",
              "tobe": "t", "purpose": "p", "problems": "問題\x00一\r\n問題二", "tasks": "課題", "margin": ""}
    row = [values.get(key, "") for key, _ in COLUMNS]
    (item,) = parse(headers, [row])
    assert item.external_id == "ext-1" and item.sheet is not None
    assert (item.sheet.section, item.sheet.title, item.sheet.asis, item.sheet.problems) == (
        "住民窓口係", "転入", "a\nb", ["問題一", "問題二"])
