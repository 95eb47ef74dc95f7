"""Persistence on a real SQLite file and a real PostgreSQL: versions, autosave, restore, organisations."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from coach.db import init_db, make_engine
from coach.repository import SheetNotFound, SheetRepository, load_samples
from tests.conftest import make_sheet


@pytest.fixture
def repo(database_url: str) -> SheetRepository:
    return SheetRepository(init_db(make_engine(database_url)), timedelta(minutes=10))


def test_create_read_save_keeps_every_version(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    first = repo.create(org, make_sheet())
    second = repo.save(first.id, org, make_sheet(tobe="住民が20分で帰れている。"))
    assert (first.version, second.version) == (1, 2)
    assert repo.get(first.id, org).sheet.tobe == "住民が20分で帰れている。"
    assert [v.number for v in repo.versions(first.id, org)] == [2, 1]
    assert repo.version(first.id, org, 1) == make_sheet()


def test_blank_rows_are_not_stored(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    stored = repo.create(org, make_sheet(tasks=["件数を数える", "", "  "]))
    assert repo.get(stored.id, org).sheet.tasks == ["件数を数える"]


def test_autosaves_fold_into_one_version_within_the_window(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    stored = repo.create(org, make_sheet())
    repo.autosave(stored.id, org, make_sheet(asis="一"))
    repo.autosave(stored.id, org, make_sheet(asis="一二"))
    last = repo.autosave(stored.id, org, make_sheet(asis="一二三"))
    assert last.version == 2
    assert repo.get(stored.id, org).sheet.asis == "一二三"
    assert [v.kind for v in repo.versions(stored.id, org)] == ["autosave", "create"]


def test_an_explicit_save_after_autosave_is_its_own_version(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    stored = repo.create(org, make_sheet())
    repo.autosave(stored.id, org, make_sheet(asis="途中"))
    repo.save(stored.id, org, make_sheet(asis="完成"))
    repo.autosave(stored.id, org, make_sheet(asis="完成の後"))
    assert [v.kind for v in repo.versions(stored.id, org)] == ["autosave", "save", "autosave", "create"]


def test_autosave_of_unchanged_content_adds_nothing(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    stored = repo.create(org, make_sheet())
    assert repo.autosave(stored.id, org, make_sheet()).version == 1


def test_restore_adds_a_version_with_the_old_content(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    stored = repo.create(org, make_sheet(asis="最初"))
    repo.save(stored.id, org, make_sheet(asis="二番目"))
    restored = repo.restore(stored.id, org, 1)
    assert restored.version == 3 and repo.get(stored.id, org).sheet.asis == "最初"
    assert repo.version(stored.id, org, 2).asis == "二番目"  # nothing is lost


def test_another_organisations_sheet_does_not_exist(repo: SheetRepository) -> None:
    town = repo.ensure_organisation("A町")
    village = repo.ensure_organisation("B村")
    stored = repo.create(town, make_sheet())
    with pytest.raises(SheetNotFound):
        repo.get(stored.id, village)
    with pytest.raises(SheetNotFound):
        repo.save(stored.id, village, make_sheet())
    assert repo.list(village) == []
    assert [s.id for s in repo.list(town)] == [stored.id]


def test_same_section_name_in_two_organisations_are_two_sections(repo: SheetRepository) -> None:
    a = repo.ensure_organisation("A町")
    b = repo.ensure_organisation("B村")
    repo.create(a, make_sheet(section="総務係"))
    repo.create(b, make_sheet(section="総務係"))
    assert len(repo.list(a)) == len(repo.list(b)) == 1


def test_data_survives_a_new_engine(repo: SheetRepository, database_url: str) -> None:
    org = repo.ensure_organisation("サンプル町")
    stored = repo.create(org, make_sheet(asis="残っているはず"))
    fresh = SheetRepository(init_db(make_engine(database_url)))
    assert fresh.get(stored.id, org).sheet.asis == "残っているはず"


def test_samples_load_only_into_an_empty_database(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    line = make_sheet().model_dump_json()
    assert load_samples(repo, org, [line, line]) == 2
    assert load_samples(repo, org, [line]) == 0


def test_sheets_of_a_new_section_created_at_the_same_moment_all_land(repo: SheetRepository) -> None:
    """Two requests creating the first sheets of one new section raced on UNIQUE(organisation, name)."""
    org = repo.ensure_organisation("サンプル町")
    barrier = threading.Barrier(6)

    def create(n: int) -> int:
        barrier.wait()
        return repo.create(org, make_sheet(section="新設係", title=f"同時{n}")).id

    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(create, range(6)))
    assert len(set(ids)) == 6
    assert repo.sections(org).count("新設係") == 1
    assert sorted(repo.get(i, org).title for i in ids) == sorted(f"同時{n}" for n in range(6))
