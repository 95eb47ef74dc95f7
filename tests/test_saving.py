"""Issue #9 item 5 in the repository: saves of one sheet are serialised, and a save from an older
version than the latest is refused instead of silently winning. Real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from coach.db import init_db, make_engine
from coach.repository import SheetRepository, VersionConflict
from tests.conftest import make_sheet

THREADS = 6
ROUNDS = 8


@pytest.fixture
def repo(database_url: str) -> SheetRepository:
    return SheetRepository(init_db(make_engine(database_url)), timedelta(minutes=10))


def together(work: Callable[[int], None], threads: int = THREADS) -> list[BaseException]:
    """Run `work(i)` in `threads` threads released at the same moment; return what they raised."""
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait(timeout=10)
        try:
            work(i)
        except BaseException as exc:  # collected and checked by the test
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    return errors


def test_simultaneous_saves_without_a_base_all_become_versions(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sid = repo.create(org, make_sheet()).id
    saved: list[int] = []

    def work(i: int) -> None:
        for r in range(ROUNDS):
            saved.append(repo.save(sid, org, make_sheet(asis=f"書き手{i}の{r}回目")).version)

    assert together(work) == []
    assert sorted(saved) == list(range(2, 2 + THREADS * ROUNDS))
    assert [v.number for v in repo.versions(sid, org)] == list(range(1 + THREADS * ROUNDS, 0, -1))


def test_saves_from_the_same_version_one_wins_the_others_conflict(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sid = repo.create(org, make_sheet()).id
    for round_ in range(3):
        base = repo.get(sid, org).version
        won: list[int] = []

        def work(i: int, base: int = base, round_: int = round_, won: list[int] = won) -> None:
            won.append(repo.save(sid, org, make_sheet(asis=f"{round_}-{i}"), base_version=base,
                                 author_id=100 + i).version)

        errors = together(work)
        assert won == [base + 1]
        assert len(errors) == THREADS - 1 and all(isinstance(e, VersionConflict) for e in errors)
        assert {e.latest for e in errors if isinstance(e, VersionConflict)} == {base + 1}


def test_a_conflict_says_so_in_japanese_and_writes_nothing(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sid = repo.create(org, make_sheet(), author_id=1).id
    repo.save(sid, org, make_sheet(asis="先に保存した人の文"), base_version=1, author_id=2)
    with pytest.raises(VersionConflict) as caught:
        repo.save(sid, org, make_sheet(asis="後から保存した人の文"), base_version=1, author_id=3)
    assert "別の人がこのシートを先に保存しました" in caught.value.reason and "第2版" in caught.value.reason
    with pytest.raises(VersionConflict):
        repo.autosave(sid, org, make_sheet(asis="後から自動保存"), base_version=1, author_id=3)
    assert repo.get(sid, org).sheet.asis == "先に保存した人の文" and repo.get(sid, org).version == 2


def test_own_autosaves_fold_and_never_conflict_with_each_other(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sid = repo.create(org, make_sheet(), author_id=7).id
    base = 1
    for text in ("一", "一二", "一二三"):  # the form sends back the version each autosave answered
        base = repo.autosave(sid, org, make_sheet(asis=text), base_version=base, author_id=7).version
    assert base == 2 and len(repo.versions(sid, org)) == 2
    # 保存 pressed while an autosave was still on its way: the form still says version 1
    saved = repo.save(sid, org, make_sheet(asis="一二三四"), base_version=1, author_id=7)
    assert saved.version == 3 and repo.version(sid, org, 2).asis == "一二三"
    # an autosave that was on its way before that save is older than it: refused, marked as the writer's own
    with pytest.raises(VersionConflict) as late:
        repo.autosave(sid, org, make_sheet(asis="一二三"), base_version=2, author_id=7)
    assert late.value.by_self and repo.get(sid, org).sheet.asis == "一二三四"


def test_another_persons_autosave_is_never_folded_over(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sid = repo.create(org, make_sheet()).id
    repo.autosave(sid, org, make_sheet(asis="Aさんの文"), base_version=1, author_id=1)
    b = repo.autosave(sid, org, make_sheet(asis="Aさんの文とBさんの追記"), base_version=2, author_id=2)
    assert b.version == 3  # a version of its own, not folded into A's
    assert repo.version(sid, org, 2).asis == "Aさんの文"
    with pytest.raises(VersionConflict):  # A's form still says version 2
        repo.autosave(sid, org, make_sheet(asis="Aさんの文の続き"), base_version=2, author_id=1)
