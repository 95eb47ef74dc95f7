"""The typing pause's SQL Core path (coach/fold.py) writes what the ORM path writes, in every case an
autosave meets, on real SQLite and PostgreSQL: the same versions (number, kind, author, content, findings,
keyword words), the same sheet row and the same outbox row; and the same answer to the caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from coach import fold
from coach.db import IndexOutboxRow, SheetRow, VersionRow, init_db, make_engine, now
from coach.repository import SheetRepository, StoredSheet, VersionConflict
from tests.conftest import make_sheet

ME, OTHER = 7, 8


@pytest.fixture
def repo(database_url: str) -> SheetRepository:
    return SheetRepository(init_db(make_engine(database_url)), timedelta(minutes=10))


def _state(repo: SheetRepository, sheet_id: int) -> dict[str, Any]:
    """What the database holds of a sheet, without the times (they differ between two runs)."""
    with repo.sessions() as s:
        row = s.get(SheetRow, sheet_id)
        assert row is not None
        versions = s.scalars(select(VersionRow).where(VersionRow.sheet_id == sheet_id).order_by(VersionRow.number))
        outbox = s.scalar(select(IndexOutboxRow).where(IndexOutboxRow.sheet_id == sheet_id))
        return {
            "sheet": (row.title, row.section.name, row.status, row.version),
            "versions": [(v.number, v.kind, v.author_id, v.content, v.findings, v.rules_version, v.keywords,
                          v.keywords_version) for v in versions],
            "outbox": None if outbox is None else (outbox.version, outbox.organisation_id),
        }


def _answer(stored: StoredSheet) -> tuple[Any, ...]:
    return (stored.id, stored.section, stored.title, stored.status, stored.version, stored.sheet, stored.changed,
            stored.findings)


def _older_autosave(repo: SheetRepository, sheet_id: int) -> None:
    """The latest version was written longer ago than the autosave window."""
    with repo.sessions.begin() as s:
        s.execute(update(VersionRow).where(VersionRow.sheet_id == sheet_id)
                  .values(created_at=now() - timedelta(hours=1)))


def _older_rules(repo: SheetRepository, sheet_id: int) -> None:
    with repo.sessions.begin() as s:
        s.execute(update(VersionRow).where(VersionRow.sheet_id == sheet_id).values(rules_version="old"))


# Each case: what happened before (on a sheet created by ME), then the autosave under test.
Setup = Callable[[SheetRepository, int, int], None]
CASES: dict[str, tuple[Setup, dict[str, Any], dict[str, Any]]] = {
    "fold into my own autosave": (
        lambda r, o, i: r.autosave(i, o, make_sheet(asis="一回目"), author_id=ME) and None,
        {"asis": "二回目の入力", "title": "新しい題名"}, {"author_id": ME}),
    "first autosave after a save": (lambda r, o, i: None, {"asis": "保存のあと"}, {"author_id": ME}),
    "another person's autosave": (
        lambda r, o, i: r.autosave(i, o, make_sheet(asis="他の人"), author_id=OTHER) and None,
        {"asis": "私の入力"}, {"author_id": ME}),
    "nothing changed": (
        lambda r, o, i: r.autosave(i, o, make_sheet(asis="同じ"), author_id=ME) and None,
        {"asis": "同じ"}, {"author_id": ME}),
    "nothing changed, findings of older rules": (
        lambda r, o, i: (r.autosave(i, o, make_sheet(asis="同じ"), author_id=ME), _older_rules(r, i)) and None,
        {"asis": "同じ"}, {"author_id": ME}),
    "a new section": (
        lambda r, o, i: r.autosave(i, o, make_sheet(asis="一回目"), author_id=ME) and None,
        {"asis": "係を移す", "section": "新しい係"}, {"author_id": ME}),
    "outside the window": (
        lambda r, o, i: (r.autosave(i, o, make_sheet(asis="一回目"), author_id=ME), _older_autosave(r, i)) and None,
        {"asis": "時間がたってから"}, {"author_id": ME}),
    "blank rows dropped": (
        lambda r, o, i: r.autosave(i, o, make_sheet(asis="一回目"), author_id=ME) and None,
        {"asis": "行を空ける", "problems": ["", "窓口が混む", " "]}, {"author_id": ME}),
    "from the version the page holds": (
        lambda r, o, i: r.autosave(i, o, make_sheet(asis="一回目"), author_id=ME) and None,
        {"asis": "基にした版から"}, {"author_id": ME, "base_version": 2}),
}


def _run(repo: SheetRepository, case: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    setup, fields, kwargs = CASES[case]
    org = repo.ensure_organisation("サンプル町")
    sheet_id = repo.create(org, make_sheet(), author_id=ME).id
    setup(repo, org, sheet_id)
    stored = repo.autosave(sheet_id, org, make_sheet(**fields), **kwargs)
    return _answer(stored), _state(repo, sheet_id)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_core_path_writes_what_the_orm_path_writes(repo: SheetRepository, case: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []
    real = fold.foldable

    def watched(*args: Any) -> bool:
        taken.append(real(*args))
        return taken[-1]

    monkeypatch.setattr(fold, "foldable", watched)
    core = _run(repo, case)
    monkeypatch.setattr(fold, "foldable", lambda *args: False)  # the ORM path only
    orm = _run(repo, case)
    assert core[0][1:] == orm[0][1:]  # the same answer (another sheet id)
    assert core[1] == orm[1]
    assert (True in taken) == (case in ("fold into my own autosave", "blank rows dropped",
                                        "from the version the page holds"))


def test_the_core_path_answers_with_the_new_title_and_time(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sheet_id = repo.create(org, make_sheet(), author_id=ME).id
    first = repo.autosave(sheet_id, org, make_sheet(asis="一回目"), author_id=ME)
    second = repo.autosave(sheet_id, org, make_sheet(asis="二回目", title="変えた題名"), author_id=ME)
    assert (second.version, second.title, second.changed) == (first.version, "変えた題名", True)
    assert second.updated_at >= first.updated_at
    again = repo.get(sheet_id, org)
    assert (again.title, again.sheet.asis, again.updated_at) == ("変えた題名", "二回目", second.updated_at)


def test_an_older_base_still_conflicts(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sheet_id = repo.create(org, make_sheet(), author_id=ME).id
    repo.save(sheet_id, org, make_sheet(asis="他の人の保存"), author_id=OTHER)
    with pytest.raises(VersionConflict):
        repo.autosave(sheet_id, org, make_sheet(asis="古い版から"), base_version=1, author_id=ME)
