"""The index outbox on real SQLite and PostgreSQL: written with the save, coalesced, claimed once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from coach.db import init_db, make_engine
from coach.outbox import Backoff, Outbox, Pending
from coach.repository import SheetNotFound, SheetRepository, VersionConflict
from tests.conftest import make_sheet


@pytest.fixture
def repo(database_url: str) -> Iterator[SheetRepository]:
    sessions = init_db(make_engine(database_url))
    yield SheetRepository(sessions)
    sessions.kw["bind"].dispose()


def outbox(repo: SheetRepository, **kw: object) -> Outbox:
    return Outbox(repo.sessions, **kw)  # type: ignore[arg-type]


def queued(repo: SheetRepository) -> dict[int, tuple[int, int]]:
    """sheet id → (version queued for, generation)"""
    return {r.sheet_id: (r.version, r.generation) for r in outbox(repo).rows()}


def test_every_change_queues_its_sheet(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    assert queued(repo) == {a.id: (1, 1)}
    repo.save(a.id, org, make_sheet(title="二版"))
    repo.autosave(a.id, org, make_sheet(title="三版"))
    repo.set_status(a.id, org, "submitted")
    repo.restore(a.id, org, 1)
    b = repo.upsert_external(org, "ext-1", make_sheet(title="外から"))
    assert queued(repo) == {a.id: (4, 5), b.id: (1, 1)}  # one row per sheet, however many saves
    assert outbox(repo).count() == 2


def test_an_unchanged_autosave_queues_nothing(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    repo.autosave(a.id, org, make_sheet())
    assert queued(repo) == {a.id: (1, 1)}


def test_a_hundred_autosaves_make_one_row(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    for n in range(100):
        repo.autosave(a.id, org, make_sheet(asis=f"窓口で{n}分待っている。"), author_id=7)
    assert queued(repo) == {a.id: (2, 101)}  # the autosaves folded into version 2, the row into one


def test_a_failing_save_leaves_no_row_and_a_failing_queue_no_save(repo: SheetRepository,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    outbox(repo).done(outbox(repo).claim()[0])
    assert queued(repo) == {}

    def broken(*args: object) -> None:
        raise RuntimeError("the save fails after its row was queued")

    monkeypatch.setattr(SheetRepository, "_stored", staticmethod(broken))
    with pytest.raises(RuntimeError):
        repo.save(a.id, org, make_sheet(title="失敗する保存"))
    monkeypatch.undo()
    assert queued(repo) == {} and repo.get(a.id, org).version == 1  # nothing of the save, nor its row

    monkeypatch.setattr("coach.repository.enqueue", broken)
    with pytest.raises(RuntimeError):
        repo.autosave(a.id, org, make_sheet(title="行を書けない自動保存"))
    monkeypatch.undo()
    assert repo.get(a.id, org).sheet.title == make_sheet().title  # no row, no save

    repo.save(a.id, org, make_sheet(title="別の人の二版"), author_id=2)
    outbox(repo).done(outbox(repo).claim()[0])
    with pytest.raises(VersionConflict):  # a refused save is not queued either
        repo.save(a.id, org, make_sheet(title="古い版から"), base_version=1, author_id=1)
    assert queued(repo) == {}


def test_delete_queues_the_removal(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    repo.delete(a.id, org)
    with pytest.raises(SheetNotFound):
        repo.get(a.id, org)
    assert queued(repo) == {a.id: (1, 2)}


def test_a_claim_is_taken_once_until_its_lease_ends(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    ids = {repo.create(org, make_sheet(title=f"題{n}")).id for n in range(3)}
    live = outbox(repo, lease=timedelta(seconds=60))
    assert {p.sheet_id for p in live.claim(limit=2)} | {p.sheet_id for p in live.claim()} == ids
    assert live.claim() == [] and live.claim(due_only=False) == []  # all held
    repo.create(org, make_sheet(title="もう一枚"))
    dead = outbox(repo, lease=timedelta(seconds=-1))  # a drainer whose lease ends at once (it died)
    (orphan,) = dead.claim()
    assert orphan.attempts == 1
    (retaken,) = live.claim()  # its lease is over: another drainer takes the row, as another attempt
    assert retaken.sheet_id == orphan.sheet_id and retaken.attempts == 2
    assert dead.claim() == []


def test_concurrent_claims_never_share_a_row(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    ids = {repo.create(org, make_sheet(title=f"題{n}")).id for n in range(40)}
    got: list[list[Pending]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def drainer(n: int) -> None:
        box = outbox(repo)
        start.wait(timeout=30)
        for _ in range(40):  # bounded
            claimed = box.claim(limit=3)
            if not claimed:
                return
            got[n].extend(claimed)

    threads = [threading.Thread(target=drainer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = [p.sheet_id for part in got for p in part]
    assert sorted(claimed) == sorted(ids)  # every row once, none twice


def test_a_save_while_claimed_keeps_the_row(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    box = outbox(repo)
    (held,) = box.claim()
    repo.save(a.id, org, make_sheet(title="処理中に保存"))
    assert box.claim() == []  # still held by the first drainer
    box.done(held)  # it indexed the older text: the row stays, released at once
    (again,) = box.claim()
    assert again.generation == held.generation + 1
    box.done(again)
    assert box.count() == 0


def test_a_failure_is_recorded_and_retried_after_a_backoff(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    repo.create(org, make_sheet())
    box = outbox(repo, backoff=Backoff(first=60, cap=600))
    (item,) = box.claim()
    box.failed(item, "StoreUnavailable: connection refused")
    (row,) = box.rows()
    assert row.last_error == "StoreUnavailable: connection refused" and row.attempts == 1
    assert row.claimed_until is None and row.next_attempt_at > row.updated_at + timedelta(seconds=50)
    assert box.claim() == []  # not due yet
    assert [p.sheet_id for p in box.claim(due_only=False)] == [row.sheet_id]  # `coach reindex --pending`
    assert Backoff(1, 60).delay(1) == timedelta(seconds=1) and Backoff(1, 60).delay(3) == timedelta(seconds=4)
    assert Backoff(1, 60).delay(20) == timedelta(seconds=60)



def due_in(repo: SheetRepository) -> float:
    """Seconds until the only row is due (negative: overdue)."""
    from coach.db import now

    (row,) = outbox(repo).rows()
    return (row.next_attempt_at - now()).total_seconds()


def test_an_autosave_waits_to_fold_in_the_next_ones_but_a_save_is_due_at_once(repo: SheetRepository) -> None:
    from coach.outbox import AUTOSAVE_DELAY

    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    box = outbox(repo)
    box.done(box.claim()[0])  # the creation is indexed
    repo.autosave(a.id, org, make_sheet(asis="窓口で5分待っている。"), author_id=7)
    assert 0 < due_in(repo) <= AUTOSAVE_DELAY.total_seconds()
    assert box.claim() == []  # not due yet: the next pauses fold into the same update
    first = due_in(repo)
    repo.autosave(a.id, org, make_sheet(asis="窓口で6分待っている。"), author_id=7)
    assert due_in(repo) <= first  # typing on never postpones it
    repo.save(a.id, org, make_sheet(asis="窓口で7分待っている。"))
    assert due_in(repo) <= 0  # an explicit save is due now
    repo.autosave(a.id, org, make_sheet(asis="窓口で8分待っている。"), author_id=7)
    assert due_in(repo) <= 0  # and stays due
    (item,) = box.claim()
    assert item.sheet_id == a.id


def test_an_autosave_while_claimed_is_due_after_its_delay(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    box = outbox(repo)
    (held,) = box.claim()
    repo.autosave(a.id, org, make_sheet(asis="処理中に入力した。"), author_id=7)
    box.done(held)  # it indexed the older text: the row stays, due once the autosave's delay is over
    assert due_in(repo) > 0 and box.claim() == []
    assert [p.sheet_id for p in box.claim(due_only=False)] == [a.id]  # `coach reindex --pending` takes it


def test_a_delayed_autosave_keeps_a_failed_rows_backoff(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    box = outbox(repo, backoff=Backoff(first=60, cap=600))
    (item,) = box.claim()
    box.failed(item, "StoreUnavailable: connection refused")
    before = due_in(repo)
    repo.save(a.id, org, make_sheet(title="保存"))  # the store is still down: no hammering
    assert due_in(repo) == pytest.approx(before, abs=1)


def test_a_drainer_whose_lease_ran_out_cannot_free_another_drainers_claim(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet())
    dead = outbox(repo, lease=timedelta(seconds=-1))  # its lease ends at once (it was slow, or it died)
    (late,) = dead.claim()
    repo.save(a.id, org, make_sheet(title="その間に保存"))  # a newer generation: the row must stay
    live = outbox(repo, lease=timedelta(seconds=60))
    (held,) = live.claim()
    dead.done(late)  # used to release the row: a third drainer could then take it beside `live`
    dead.failed(late, "StoreUnavailable: too late")
    assert live.claim(due_only=False) == []  # still held by `live`
    (row,) = live.rows()
    assert row.last_error is None
    live.done(held)
    assert live.count() == 0


def test_a_rebuild_keeps_the_rows_of_saves_it_may_have_missed(repo: SheetRepository) -> None:
    """`coach reindex`: rows committed before the rebuild read the sheets are done by it; a save still
    uncommitted then (its row queued, its text not yet readable) or made since keeps its row."""
    from coach.db import SheetRow
    from coach.outbox import enqueue

    org = repo.ensure_organisation("町")
    a = repo.create(org, make_sheet(title="前から"))
    b = repo.create(org, make_sheet(title="後で保存"))
    box = outbox(repo)
    with repo.sessions.begin() as s:  # a save in flight: queued, not committed when the rebuild starts
        row = s.get(SheetRow, b.id)
        assert row is not None
        enqueue(s, row.id, row.organisation_id, row.version, row.updated_at)
        seen = box.seen()
    c = repo.create(org, make_sheet(title="再構築のあとに作成"))
    assert box.forget_seen(seen) == 1
    assert sorted(r.sheet_id for r in box.rows()) == sorted([b.id, c.id])
    assert a.id not in {r.sheet_id for r in box.rows()}
