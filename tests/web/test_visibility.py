"""Issue #9 item 2: no route shows a sheet its caller may not read.

Section B keeps two drafts with distinctive titles: an ordinary draft, and one that was submitted
and withdrawn while the index was not updated (so the index still says "submitted"). Every route
that returns sheet ids or titles is fetched as staff of section A and as the DX team; a draft
must show up exactly where `can_read` says the caller may see it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from coach.repository import StoredSheet
from coach.retrieval.entries import entry_of
from coach.settings import Settings
from coach.workspace.permissions import can_read
from tests.conftest import LOOPBACK, indexed, logged_in, make_sheet, sheet_data

A, B = "住民窓口係", "税務係"
DRAFT_TITLE = "下書きカナリア窓口電話"
STALE_TITLE = "取り下げ済みカナリア電話"
SUBMITTED_TITLE = "提出済みの申告期電話"
PHONE = ("問い合わせの電話が1日40件あり、電話対応で窓口の受付が止まる。住民は窓口で長く待っている。"
         "電話の内容は毎回手書きでメモし、転記している。")


@dataclass
class World:
    local: TestClient
    staff_a: TestClient
    dx: TestClient
    own: StoredSheet  # section A's draft
    submitted: StoredSheet  # section B, submitted
    draft: StoredSheet  # section B, draft
    stale: StoredSheet  # section B, draft in the database, "submitted" in the index


@pytest.fixture
def world(database_url: str, data_dir: Path) -> Iterator[World]:
    from web.app import create_app

    app = create_app(Settings(data_dir=data_dir, database_url=database_url, load_samples=False))
    services = app.state.services
    org = services.organisation_id

    def store(section: str, title: str, status: str) -> StoredSheet:
        stored = services.repo.create(org, make_sheet(section=section, title=title, asis=PHONE))
        stored = services.repo.set_status(stored.id, org, status)
        services.after_save(stored)
        return stored

    with TestClient(app, client=LOOPBACK) as local:
        own = store(A, "窓口の電話対応", "draft")
        submitted = store(B, SUBMITTED_TITLE, "submitted")
        draft = store(B, DRAFT_TITLE, "draft")
        stale = store(B, STALE_TITLE, "submitted")
        indexed(app)  # the worker has applied every save, so it cannot overwrite the stale entry below
        stale = services.repo.set_status(stale.id, org, "draft")  # withdrawn; the index was not told
        assert services.similar.index([replace(entry_of(stale), status="submitted")])
        yield World(local, logged_in(app, "staff-a", "staff", A), logged_in(app, "dx-team", "dx", None),
                    own, submitted, draft, stale)


def routes(w: World) -> list[tuple[str, str, dict[str, str] | None]]:
    """Every route that answers with sheet ids or titles: (method, path, form data)."""
    form = {k: v for k, v in sheet_data(section=A, title="窓口の電話対応", asis=PHONE).items()
            if not isinstance(v, list)}
    return [
        ("GET", "/", None),
        ("GET", f"/sheets/{w.own.id}", None),
        ("GET", f"/sheets/{w.own.id}/similar", None),
        ("POST", f"/sheets/{w.own.id}/similar", form),
        ("GET", f"/sheets/{w.submitted.id}/view", None),
        ("GET", f"/api/v1/sheets/{w.own.id}/similar?k=20", None),
        ("GET", f"/api/v1/sheets/{w.submitted.id}/similar?k=20", None),
        ("GET", f"/review/{w.submitted.id}", None),
        ("GET", "/review?state=all", None),
        ("GET", "/review/log", None),
        ("GET", "/overview", None),
        ("GET", "/export/sheets.xlsx", None),
        ("GET", "/export/sheets.csv", None),
        ("GET", "/export/summary.csv", None),
        ("GET", f"/print/{w.submitted.id}", None),
    ]


def shown(body: bytes, content_type: str) -> tuple[str, set[int]]:
    """The text a person or program reads in a response, and the sheet ids it refers to."""
    if "spreadsheetml" in content_type:
        book = load_workbook(io.BytesIO(body))
        cells = [[str(c) for c in row if c is not None] for ws in book.worksheets for row in ws.iter_rows(values_only=True)]
        return "\n".join("\t".join(r) for r in cells), {int(r[0]) for r in cells if r and r[0].isdigit()}
    text = body.decode("utf-8-sig")
    if content_type.startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(text)))
        return text, {int(r[0]) for r in rows if r and r[0].isdigit()}
    if content_type.startswith("application/json"):
        ids: set[int] = set()

        def walk(x: object) -> None:
            if isinstance(x, dict):
                ids.update(v for k, v in x.items() if k == "id" and isinstance(v, int))
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)

        walk(json.loads(text))
        return text, ids
    return text, {int(m) for m in re.findall(r"/(?:sheets|review|print|api/v1/sheets)/(\d+)", text)}


def fetch(c: TestClient, method: str, path: str, data: dict[str, str] | None) -> tuple[int, str, set[int]]:
    r = c.get(path) if method == "GET" else c.post(path, data=data)
    assert r.status_code < 500, (path, r.status_code)
    text, ids = shown(r.content, r.headers.get("content-type", ""))
    return r.status_code, text, ids


@pytest.mark.parametrize("viewer", ["staff_a", "dx"])
def test_no_route_shows_a_sheet_the_caller_may_not_read(world: World, viewer: str) -> None:
    c: TestClient = getattr(world, viewer)
    who = c.app.state.services.accounts.by_login("staff-a" if viewer == "staff_a" else "dx-team")  # type: ignore[attr-defined]
    hidden = [s for s in (world.draft, world.stale) if not can_read(who, s)]
    seen_titles: set[str] = set()
    for method, path, data in routes(world):
        status, text, ids = fetch(c, method, path, data)
        for sheet in hidden:
            assert sheet.title not in text, (viewer, path)
            assert sheet.id not in ids, (viewer, path)
        if status == 200:
            seen_titles |= {t for t in (SUBMITTED_TITLE, DRAFT_TITLE, STALE_TITLE) if t in text}
    # The checks above saw real results: other sections' sheets were listed where they may be.
    readable = {s.title for s in (world.submitted, world.draft, world.stale) if can_read(who, s)}
    assert seen_titles == readable
    if viewer == "staff_a":
        assert hidden == [world.draft, world.stale]
    else:  # the DX team reads every sheet, drafts included
        assert hidden == []


def test_similar_api_for_another_sections_sheet_hides_its_drafts(world: World) -> None:
    """The attacker's reproduction: staff of A asks for sheets similar to B's submitted sheet."""
    body = world.staff_a.get(f"/api/v1/sheets/{world.submitted.id}/similar?k=20").json()
    assert body, "the search found nothing at all"
    assert {x["id"] for x in body} == {world.own.id}
    dx_ids = {x["id"] for x in world.dx.get(f"/api/v1/sheets/{world.submitted.id}/similar?k=20").json()}
    assert dx_ids == {world.own.id, world.draft.id, world.stale.id}


def test_hits_show_the_current_title_not_the_indexed_one(world: World) -> None:
    """The index may lag behind the database; what is shown comes from the database."""
    services = world.local.app.state.services  # type: ignore[attr-defined]
    org = services.organisation_id
    renamed = services.repo.save(world.submitted.id, org, make_sheet(section=B, title="改名後の題名", asis=PHONE))
    assert renamed.title == "改名後の題名"  # saved, but the index is not told (as when Chroma was down)
    body = world.staff_a.get(f"/api/v1/sheets/{world.own.id}/similar?k=20").json()
    assert [x["title"] for x in body] == ["改名後の題名"]
