"""The outbox's drainer on real SQLite/PostgreSQL and a real embedded Chroma."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from coach.db import init_db, make_engine
from coach.outbox import Backoff, Outbox
from coach.repository import SheetRepository
from coach.retrieval.embeddings import ProblemNgramEmbedding
from coach.retrieval.indexer import Indexer, IndexWorker
from coach.retrieval.service import SimilarService
from coach.retrieval.store import SimilarStore, connector
from coach.workspace.accounts import Account
from tests.conftest import make_sheet

PHONE = "ごみの分別の問い合わせ電話がひっきりなしにかかり、窓口の受付が止まる。"


@pytest.fixture
def repo(database_url: str) -> Iterator[SheetRepository]:
    sessions = init_db(make_engine(database_url))
    yield SheetRepository(sessions)
    sessions.kw["bind"].dispose()


def store(data_dir: Path) -> SimilarStore:
    return SimilarStore(connector(data_dir), ProblemNgramEmbedding())


class Counting:
    """Records the keys each upsert was given (the embedding runs inside upsert)."""

    def __init__(self, store: SimilarStore) -> None:
        self.keys: list[str] = []
        self.calls = 0
        real = store.upsert

        def upsert(entries: Any) -> int:
            batch = list(entries)
            self.calls += 1
            self.keys.extend(e.key for e in batch)
            return real(batch)

        store.upsert = upsert  # type: ignore[method-assign]


def dx(org: int) -> Account:
    return Account(9, org, "dx", "DX", "dx", None)


def until(condition: Any, seconds: float = 60.0) -> bool:
    """Wait for a condition (bounded), polling; never a bare sleep."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_drain_indexes_the_new_text_once_for_many_autosaves(repo: SheetRepository, data_dir: Path) -> None:
    org = repo.ensure_organisation("町")
    other = repo.create(org, make_sheet(section="税務係", title="申告期"))
    sheet = repo.create(org, make_sheet(title="転入"))
    for n in range(100):
        repo.autosave(other.id, org, make_sheet(section="税務係", title="申告期", asis=PHONE + "。" * (n % 3)),
                      author_id=3)
    s = store(data_dir)
    counted = Counting(s)
    result = Indexer(Outbox(repo.sessions), repo, s).drain()
    assert (result.done, result.failed) == (2, 0) and counted.calls == 1
    assert sorted(counted.keys) == sorted([f"db:{other.id}", f"db:{sheet.id}"])
    similar = SimilarService(s, repo).similar(dx(org), make_sheet(asis=PHONE), k=1, exclude_ref=str(sheet.id))
    assert [m.hit.db_id for m in similar.matches] == [other.id]
    assert "問い合わせ対応の負担" in similar.matches[0].concepts  # the autosaved text, not the first one
    assert Outbox(repo.sessions).count() == 0


def test_delete_removes_the_vector(repo: SheetRepository, data_dir: Path) -> None:
    org = repo.ensure_organisation("町")
    gone = repo.create(org, make_sheet(section="税務係", title="消すシート", asis=PHONE))
    kept = repo.create(org, make_sheet(section="環境衛生係", title="残るシート", asis=PHONE))
    s = store(data_dir)
    indexer = Indexer(Outbox(repo.sessions), repo, s)
    indexer.drain()
    assert s.count() == 2
    repo.delete(gone.id, org)
    assert indexer.drain().done == 1
    assert [h.db_id for h in s.query(org, make_sheet(asis=PHONE), k=5)] == [kept.id]


def test_two_drainers_do_not_process_a_row_twice(repo: SheetRepository, data_dir: Path) -> None:
    org = repo.ensure_organisation("町")
    ids = [repo.create(org, make_sheet(title=f"題{n}", asis=PHONE)).id for n in range(30)]
    counters, indexers = [], []
    for _ in range(2):
        s = store(data_dir)
        s.collection(org, create=True)  # open the embedded client before the threads (Chroma's start is not thread-safe)
        counters.append(Counting(s))
        indexers.append(Indexer(Outbox(repo.sessions), repo, s, batch=4))
    go = threading.Barrier(2)

    def run(indexer: Indexer) -> None:
        go.wait(timeout=30)
        indexer.drain(max_rounds=50)

    threads = [threading.Thread(target=run, args=(i,)) for i in indexers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    keys = counters[0].keys + counters[1].keys
    assert sorted(keys) == sorted(f"db:{i}" for i in ids)  # each sheet embedded once, by one of them
    assert Outbox(repo.sessions).count() == 0


def test_store_down_keeps_rows_and_the_worker_catches_up(repo: SheetRepository, data_dir: Path) -> None:
    """Chroma at an address where nothing answers, then back: no request is needed to catch up."""
    org = repo.ensure_organisation("町")
    down = SimilarStore(connector(data_dir, "http://127.0.0.1:9"), ProblemNgramEmbedding())
    outbox = Outbox(repo.sessions, backoff=Backoff(first=0.05, cap=0.2))
    sheet = repo.create(org, make_sheet(section="税務係", title="申告期", asis=PHONE))
    assert Indexer(outbox, repo, down).drain().failed == 1
    (row,) = outbox.rows()
    assert row.last_error and row.last_error.startswith("StoreUnavailable") and row.attempts == 1
    back = store(data_dir)
    worker = IndexWorker(Indexer(outbox, repo, back), poll=0.1, settle=0)
    worker.start()
    try:
        assert until(lambda: outbox.count() == 0)
    finally:
        worker.stop()
    assert not worker.running
    assert [h.db_id for h in back.query(org, make_sheet(asis=PHONE), k=1)] == [sheet.id]


def test_a_slow_model_never_outlasts_the_claim_so_no_other_drainer_asks_again(
        repo: SheetRepository, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tags for five submitted sheets from a model that takes 40 s a sheet (of a moved clock, not waited
    for), under a 120 s claim: each answer starts only while the claim has room for the longest answer;
    the rows not reached are given back, indexed, and asked under a new claim. A second drainer
    looking in during every answer never finds a row to take, and no sheet is asked twice."""
    import coach.outbox
    import coach.retrieval.indexer
    from coach.db import now as real_now
    from coach.llm.tagger import ProblemTagger
    from coach.retrieval.problem_tags import ProblemTags

    moved = [timedelta(0)]
    monkeypatch.setattr(coach.retrieval.indexer, "now", lambda: real_now() + moved[0])
    monkeypatch.setattr(coach.outbox, "now", lambda: real_now() + moved[0])
    org = repo.ensure_organisation("町")
    ids = [repo.create(org, make_sheet(title=f"題{n}", asis=f"{PHONE}（{n}件目）"), status="submitted").id
           for n in range(5)]
    outbox = Outbox(repo.sessions, lease=timedelta(seconds=120))
    other = Outbox(repo.sessions, lease=timedelta(seconds=120))
    asked: list[str] = []
    taken: list[list[int]] = []

    def model(system: str, user: str) -> dict[str, Any]:
        asked.append(user)
        moved[0] += timedelta(seconds=40)
        taken.append([p.sheet_id for p in other.claim(10)])  # a second drainer looks in meanwhile
        return {"tags": ["問い合わせ対応の負担"]}

    tags = ProblemTags(repo.sessions, ProblemTagger(model, "slow-model", deadline=50.0))
    s = store(data_dir)
    drained = Indexer(outbox, repo, s, batch=5, tags=tags).drain()
    assert taken == [[]] * len(taken), taken  # never a row another drainer still held
    assert len(asked) == len(set(asked)) == 5  # each sheet asked once
    assert drained.released >= 2 and drained.failed == drained.untagged == 0, drained
    assert tags.stored((i, repo.get(i, org).sheet) for i in ids).keys() == set(ids)
    assert outbox.count() == 0
