"""Issue #10: the pages that list sheets read each sheet's latest version and its stored findings in a
fixed number of queries, and never re-run the rule critic over every sheet.

Each page is fetched with 30 sheets, then with 70: the number of SQL statements (counted with
SQLAlchemy's `before_cursor_execute`), of rule-critic runs and of Sudachi analyses (texts tokenised
that were not already remembered) must not grow with the sheets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

import coach.text
from coach.critics.rules import RuleCritic
from tests.conftest import indexed, logged_in, make_sheet

SECTIONS = ["住民窓口係", "税務係", "土木係", "福祉係"]


@contextmanager
def counting(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    counts = {"sql": 0, "rules": 0, "sudachi": 0, "hops": 0}

    def on_execute(*_args: Any) -> None:
        counts["sql"] += 1


    original = RuleCritic.critique

    def counted(self: RuleCritic, sheet: Any) -> Any:
        counts["rules"] += 1
        return original(self, sheet)

    tokenizer = coach.text._tokenizer  # noqa: SLF001 — called once per text Sudachi analyses

    def analysing() -> Any:
        counts["sudachi"] += 1
        return tokenizer()

    hop = anyio.to_thread.run_sync  # every sync dependency, sync route and run_in_threadpool goes through it

    async def hopping(*args: Any, **kwargs: Any) -> Any:
        counts["hops"] += 1
        return await hop(*args, **kwargs)

    event.listen(engine, "before_cursor_execute", on_execute)
    monkeypatch.setattr(anyio.to_thread, "run_sync", hopping)
    monkeypatch.setattr(RuleCritic, "critique", counted)
    coach.text.tokenize.cache_clear()  # a text remembered from an earlier request would hide its analysis
    monkeypatch.setattr(coach.text, "_tokenizer", analysing)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        monkeypatch.setattr(anyio.to_thread, "run_sync", hop)
        monkeypatch.setattr(RuleCritic, "critique", original)
        monkeypatch.setattr(coach.text, "_tokenizer", tokenizer)


def add_sheets(app: Any, start: int, n: int) -> int:
    """n sheets across four sections, most submitted, each with a stage, a theme and an outcome."""
    services = app.state.services
    org = services.organisation_id
    dx = services.accounts.by_login("dx-team")
    theme = services.cycle.themes(org)[0]
    last = 0
    for i in range(start, start + n):
        sheet = make_sheet(section=SECTIONS[i % len(SECTIONS)], title=f"窓口の案件{i}",
                           tobe="" if i % 3 == 0 else make_sheet().tobe)
        stored = services.repo.create(org, sheet, status="draft" if i % 5 == 0 else "submitted")
        services.repo.save(stored.id, org, sheet.model_copy(update={"margin": f"メモ{i}"}))
        services.cycle.move(dx, stored.id, "壁打ち", stored.created_at.date())
        services.cycle.set_sheet_themes(dx, stored.id, [theme.id])
        services.cycle.add_outcome(dx, stored.id, "hours", "12", "", stored.created_at.date())
        last = stored.id
    return last


PAGES = ["/", "/review?state=all", "/review/{sheet}", "/overview", "/overview/words?word=窓口",
         "/export/sheets.xlsx", "/export/sheets.csv", "/export/summary.csv", "/review/log"]


def measure(app: Any, dx: TestClient, staff: TestClient, sheet_id: int,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, int]]:
    engine = app.state.services.repo.engine
    # The index worker's own queries (draining the outbox in the background) are not a page's cost:
    # catch it up, then stop it while the pages are counted.
    indexed(app)
    app.state.services.index_worker.stop()
    out = {}
    for page in PAGES:
        url = page.format(sheet=sheet_id)
        client = staff if page == "/" else dx
        client.get(url)  # warm-up: lazy work done once (a changed rules' version) is not a page's cost
        with counting(engine, monkeypatch) as counts:
            r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        out[url.replace(str(sheet_id), "{sheet}")] = dict(counts)
    return out


def test_pages_do_not_query_or_critique_per_sheet(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    app = client.app
    dx = logged_in(app, "dx-team", "dx", None)
    staff = logged_in(app, "madoguchi", "staff", "住民窓口係")
    sheet = add_sheets(app, 0, 30)  # enough that the similar-sheet lists are full (they are bounded by k)
    few = measure(app, dx, staff, sheet, monkeypatch)
    add_sheets(app, 30, 40)
    many = measure(app, dx, staff, sheet, monkeypatch)
    for page in few:
        assert many[page]["sql"] == few[page]["sql"], (page, few[page], many[page])
        assert many[page]["rules"] == 0, (page, many[page])  # the stored findings are read, not recomputed
        assert many[page]["sudachi"] == few[page]["sudachi"], (page, few[page], many[page])
    for page in ("/overview", "/overview/words?word=窓口"):  # the keyword map reads the stored words
        assert many[page]["sudachi"] == 0, (page, many[page])


# The editor's typing pause (POST /check: critique + autosave) is the request every typist sends about
# once a second. Its statements, counted: session (1), sheet head with its review state (1), and the
# autosave's transaction: BEGIN IMMEDIATE on SQLite, the sheet with its latest version, then folding
# into the writer's own autosave (coach/fold.py: version, sheet row, outbox row) — or, for the pause
# that starts a new autosave version, the ORM path's lock, latest version, insert and sheet row.
TYPING_PAUSE_SQL = 7
NEW_AUTOSAVE_SQL = 10
# Hops to the thread pool and back: one, which looks up the session, checks the CSRF token, then
# critiques and autosaves (web/lanes.py). Dependencies that only read the app's state are coroutines
# (each plain `def` one was a hop of its own).
TYPING_PAUSE_HOPS = 1


def test_a_typing_pause_critiques_once_and_runs_a_fixed_few_statements(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    app = client.app
    staff = logged_in(app, "madoguchi", "staff", "住民窓口係")
    services = app.state.services
    stored = services.repo.create(services.organisation_id, make_sheet(section="住民窓口係"))
    services.index_worker.stop()
    form = {k: v for k, v in make_sheet(section="住民窓口係").model_dump().items() if k not in ("problems", "tasks")}
    sent = []
    for i in range(3):  # the first folds into a new autosave version, the next ones into that one
        data = {**form, "problems": ["窓口で待つ時間が長い"], "tasks": [f"受付の流れを見直す{i}"],
                "base_version": str(stored.version + (1 if i else 0))}
        with counting(services.repo.engine, monkeypatch) as counts:
            r = staff.post(f"/sheets/{stored.id}/check", data=data, headers={"HX-Request": "true"})
        assert r.status_code == 200 and r.headers["X-Coach-Autosave"] == "saved", r.text[:300]
        sent.append(dict(counts))
    for counts in sent:
        assert counts["rules"] == 1, sent  # what was typed is critiqued once: the stored findings are those
    assert sent[0]["sql"] <= NEW_AUTOSAVE_SQL and all(c["sql"] <= TYPING_PAUSE_SQL for c in sent[1:]), sent
    assert all(c["hops"] <= TYPING_PAUSE_HOPS for c in sent), sent
    latest = services.repo.get(stored.id, services.organisation_id)
    assert latest.sheet.tasks == ["受付の流れを見直す2"]
    assert latest.findings == tuple(services.critic.critique(latest.sheet).findings)
