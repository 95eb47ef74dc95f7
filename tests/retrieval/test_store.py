"""The Chroma store, embedded and over HTTP: tenancy, self-exclusion, rebuild, mismatch
(who may see a hit is decided on the database's sheet: tests/retrieval/test_service.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coach.retrieval.embeddings import CharNgramEmbedding, ProblemNgramEmbedding
from coach.retrieval.store import Entry, IndexMismatch, SimilarStore, StoreUnavailable, connector
from tests.conftest import make_sheet

PHONE = make_sheet(section="環境衛生係", title="ごみの問い合わせ", asis="ごみの分別の問い合わせ電話が1日15件あり、電話対応で手が止まる。")
PHONE2 = make_sheet(section="税務係", title="申告期の電話", asis="申告の時期は問い合わせの電話がひっきりなしにかかり、受話器を取り続けている。")
MAP = make_sheet(section="土木係", title="道路の通報", asis="通報の場所を紙の地図に書いており、現地で位置が分からない。")


def entry(ref: str, sheet, org: int = 1, status: str = "submitted") -> Entry:  # type: ignore[no-untyped-def]
    return Entry(ref=ref, source="import", db_id=int(ref[1:]) if ref[1:].isdigit() else 0, organisation_id=org,
                 section=sheet.section, title=sheet.title, status=status, sheet=sheet)


@pytest.fixture(params=["embedded", "http"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> SimilarStore:
    if request.param == "embedded":
        return SimilarStore(connector(tmp_path), ProblemNgramEmbedding())
    url = request.getfixturevalue("chroma_server")
    s = SimilarStore(connector(tmp_path, url), ProblemNgramEmbedding())
    for c in s.client.list_collections():  # one server for the session: each test starts empty
        s.client.delete_collection(c.name)
    return s


def test_finds_the_same_problem_in_another_section(store: SimilarStore) -> None:
    store.upsert([entry("s1", PHONE), entry("s2", PHONE2), entry("s3", MAP)])
    hits = store.query(1, PHONE, k=2, exclude_ref="s1")
    assert [h.ref for h in hits] == ["s2", "s3"]
    assert hits[0].score > hits[1].score and hits[0].section == "税務係"


def test_never_returns_the_query_sheet_itself(store: SimilarStore) -> None:
    store.upsert([entry("s1", PHONE), entry("s2", PHONE2)])
    assert "s1" not in [h.ref for h in store.query(1, PHONE, k=5, exclude_ref="s1")]


def test_another_organisations_sheets_are_never_returned(store: SimilarStore) -> None:
    store.upsert([entry("s1", PHONE, org=1), entry("s2", PHONE2, org=2), entry("s3", PHONE2, org=2)])
    assert [h.ref for h in store.query(1, PHONE2, k=5)] == ["s1"]
    assert {h.ref for h in store.query(2, PHONE, k=5)} == {"s2", "s3"}


def test_upsert_updates_in_place(store: SimilarStore) -> None:
    store.upsert([entry("s1", PHONE), entry("s2", MAP)])
    store.upsert([entry("s2", PHONE2)])
    assert store.count() == 2
    assert store.query(1, PHONE, k=1, exclude_ref="s1")[0].title == "申告期の電話"


def test_rebuild_replaces_everything(store: SimilarStore) -> None:
    store.upsert([entry("s1", PHONE), entry("s9", MAP)])
    seen: list[tuple[int, int]] = []
    assert store.rebuild([entry("s2", PHONE2)], total=1, progress=lambda d, t: seen.append((d, t))) == 1
    assert [h.ref for h in store.query(1, PHONE, k=5)] == ["s2"] and seen[-1] == (1, 1)


def test_another_embedding_is_refused_until_reindex(tmp_path: Path) -> None:
    SimilarStore(connector(tmp_path), ProblemNgramEmbedding()).upsert([entry("s1", PHONE)])
    other = SimilarStore(connector(tmp_path), CharNgramEmbedding())
    with pytest.raises(IndexMismatch, match="coach reindex"):
        other.query(1, PHONE)
    other.rebuild([entry("s1", PHONE)], total=1)
    assert [h.ref for h in other.query(1, PHONE2)] == ["s1"]


def test_an_index_of_the_version_2_lexicon_asks_for_reindex_after_the_upgrade(tmp_path: Path) -> None:
    version_2 = ProblemNgramEmbedding(concept_weight=0.5, concepts_version=2)  # as shipped before version 3
    SimilarStore(connector(tmp_path), version_2).upsert([entry("s1", PHONE)])
    upgraded = SimilarStore(connector(tmp_path), ProblemNgramEmbedding())
    with pytest.raises(IndexMismatch, match="coach reindex"):
        upgraded.query(1, PHONE2)
    upgraded.rebuild([entry("s1", PHONE)], total=1)
    assert [h.ref for h in upgraded.query(1, PHONE2)] == ["s1"]


def test_a_server_that_is_down_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    store = SimilarStore(connector(tmp_path, "http://127.0.0.1:9"), ProblemNgramEmbedding())
    with pytest.raises(StoreUnavailable):
        store.query(1, PHONE)
    with pytest.raises(StoreUnavailable):
        store.upsert([entry("s1", PHONE)])


def test_collection_reopens_in_a_new_process_without_passing_the_function(tmp_path: Path) -> None:
    store = SimilarStore(connector(tmp_path), ProblemNgramEmbedding())
    store.upsert([entry("s1", PHONE)])
    code = f"""
import json, chromadb
from chromadb.config import Settings
import coach.retrieval.embeddings  # registers the functions, as the app does
c = chromadb.PersistentClient(path={str(tmp_path / 'chroma')!r}, settings=Settings(anonymized_telemetry=False))
col = c.get_collection({store.name + '-org1'!r})
col.add(ids=["new"], documents=["申告の電話がひっきりなしにかかる"])
got = col.get(ids=["new"], include=["embeddings"])["embeddings"][0]
print(json.dumps([float(x) for x in got]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)
    ours = ProblemNgramEmbedding()(["申告の電話がひっきりなしにかかる"])[0]
    assert max(abs(a - b) for a, b in zip(theirs, ours, strict=True)) < 1e-5


def test_any_number_of_entries_is_sent_in_batches_under_chromas_maximum(store: SimilarStore,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A town's first start with more than 5,461 sheets sent them in one call, which Chroma refused whole."""
    import coach.retrieval.store as module

    assert module.UPSERT_BATCH <= store.client.get_max_batch_size()
    monkeypatch.setattr(module, "UPSERT_BATCH", 2)
    sizes: list[int] = []
    real = store.collection(1, create=True)
    sent = real.upsert

    def spy(**kw):  # type: ignore[no-untyped-def]
        sizes.append(len(kw["ids"]))
        return sent(**kw)

    monkeypatch.setattr(real, "upsert", spy)
    sheets = [PHONE, PHONE2, MAP, PHONE, MAP]
    assert store.upsert(entry(f"s{n}", sheet) for n, sheet in enumerate(sheets, 1)) == 5  # a generator, as at start
    assert sizes == [2, 2, 1]
    assert store.count() == 5


def _open_at_once(folder: Path, threads: int = 8) -> tuple[list[BaseException], int, set[int]]:
    """`threads` threads open one new store at the same moment: what they raised, how many clients were
    made, and which collections they got."""
    import threading

    made: list[int] = []
    real = connector(folder)

    def connect():  # type: ignore[no-untyped-def]
        made.append(1)
        return real()

    store = SimilarStore(connect, CharNgramEmbedding())
    start = threading.Barrier(threads)
    errors: list[BaseException] = []
    opened: list[object] = []

    def open_it() -> None:
        start.wait(timeout=10)
        try:
            opened.append(store.collection(1, create=True))
        except BaseException as exc:  # collected and checked by the test
            errors.append(exc)

    pool = [threading.Thread(target=open_it) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    return errors, len(made), {id(c) for c in opened}


@pytest.mark.parametrize("attempt", range(3))  # a race: a few fresh stores
def test_threads_opening_a_new_store_at_once_share_one_client(tmp_path: Path, attempt: int) -> None:
    """The index worker and a request may open the store at the same moment (the first request after
    a start): each must get the one client and collection, not a half-built one (chromadb's embedded
    client failed with "Could not connect to tenant default_tenant" or "'RustBindingsAPI' object has no
    attribute 'bindings'" in such a race)."""
    errors, clients, collections = _open_at_once(tmp_path / f"race{attempt}")
    assert errors == [] and clients == 1, (errors, clients)
    assert len(collections) == 1


def _shared_collection_as_before(store: SimilarStore, entries: list[Entry]) -> None:
    """What versions before the per-organisation collections wrote: one collection named after the
    embedding, every town's records in it, told apart by the "org" metadata."""
    from coach.retrieval.texts import sheet_text

    shared = store.client.create_collection(store.name, embedding_function=store.ef,  # type: ignore[arg-type]
                                            configuration={"hnsw": {"space": "cosine"}})
    shared.upsert(ids=[e.key for e in entries], documents=[sheet_text(e.sheet, e.tags) for e in entries],
                  metadatas=[{"ref": e.ref, "source": e.source, "db_id": e.db_id, "org": e.organisation_id,
                              "section": e.section, "title": e.title, "status": e.status} for e in entries])


def test_a_shared_collection_of_an_earlier_version_is_split_by_town_without_embedding_again(
        store: SimilarStore, monkeypatch: pytest.MonkeyPatch) -> None:
    tagged = Entry(ref="s4", source="db", db_id=4, organisation_id=2, section=MAP.section, title=MAP.title,
                   status="submitted", sheet=MAP, tags=("電話対応",))
    old = [entry("s1", PHONE, org=1), entry("s2", PHONE2, org=2), entry("s3", MAP, org=1), tagged]
    _shared_collection_as_before(store, old)
    before = store.client.get_collection(store.name).get(include=["embeddings", "documents"])  # type: ignore[list-item]
    vectors = {i: [float(x) for x in v] for i, v in zip(before["ids"], before["embeddings"], strict=True)}  # type: ignore[arg-type]

    def no_embedding(self: object, input: object) -> object:  # noqa: A002  # Chroma checks the signature
        raise AssertionError("vectors are copied, not embedded again")

    monkeypatch.setattr(type(store.ef), "__call__", no_embedding)
    assert store.count() == 4  # the first look splits it
    names = {c.name for c in store.client.list_collections()}
    assert store.name not in names and names == {f"{store.name}-org1", f"{store.name}-org2"}
    for org, keys in ((1, {"import:s1", "import:s3"}), (2, {"import:s2", "db:s4"})):
        got = store.collection(org).get(include=["embeddings", "documents"])  # type: ignore[union-attr,list-item]
        assert set(got["ids"]) == keys
        for key, vector in zip(got["ids"], got["embeddings"], strict=True):  # type: ignore[arg-type]
            assert [float(x) for x in vector] == pytest.approx(vectors[key])
        if org == 2:
            assert "電話対応" in got["documents"][got["ids"].index("db:s4")]  # type: ignore[index]  # tags kept
    monkeypatch.undo()
    assert [h.ref for h in store.query(1, PHONE2, k=5)] == ["s1", "s3"]  # still one town's sheets only
    assert {h.ref for h in store.query(2, PHONE, k=5)} == {"s2", "s4"}


def test_each_town_has_its_own_collection_holding_only_its_sheets(store: SimilarStore) -> None:
    store.upsert([entry("s1", PHONE, org=1), entry("s2", PHONE2, org=2), entry("s3", MAP, org=2)])
    mine = store.collection(1)
    assert mine is not None and mine.get()["ids"] == ["import:s1"]
    assert store.collection(3) is None and store.query(3, PHONE) == [] and store.get(3, [1, 2]) == []
    assert store.count() == 3
    store.delete(2, [2])
    assert [h.ref for h in store.query(2, PHONE, k=5)] == ["s3"]


def test_the_excluded_sheet_never_takes_a_place_even_when_several_records_carry_its_ref(store: SimilarStore) -> None:
    """The query sheet is left out after the search, not by a filter: if its ref is held by more than
    one record (an imported sheet and a stored one), the search goes deeper until k others are found."""
    twin = Entry(ref="s1", source="db", db_id=1, organisation_id=1, section=PHONE.section, title=PHONE.title,
                 status="draft", sheet=PHONE)
    store.upsert([entry("s1", PHONE), twin, entry("s2", PHONE2), entry("s3", MAP)])
    hits = store.query(1, PHONE, k=2, exclude_ref="s1")
    assert [h.ref for h in hits] == ["s2", "s3"]
    assert [h.ref for h in store.get(1, [0, 1, 2], exclude_ref="s1")] == ["s2"]


def test_writing_is_refused_too_while_the_index_is_of_another_embedding(tmp_path: Path) -> None:
    first = SimilarStore(connector(tmp_path), ProblemNgramEmbedding())
    first.upsert([entry("s1", PHONE)])
    other = SimilarStore(connector(tmp_path), CharNgramEmbedding())
    with pytest.raises(IndexMismatch):
        other.upsert([entry("s2", PHONE2)])
    with pytest.raises(IndexMismatch):
        other.count()
    assert other.others() == [f"{first.name}-org1"]  # nothing of its own was made


def test_the_split_goes_page_by_page_and_keeps_what_another_process_wrote_since(
        store: SimilarStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two replicas of a new version may split at once: a record one has written since (a newer save)
    must not be overwritten by the other's copy of the shared collection."""
    import coach.retrieval.store as module

    monkeypatch.setattr(module, "UPSERT_BATCH", 2)  # three pages of records
    _shared_collection_as_before(store, [entry("s1", PHONE), entry("s2", PHONE2), entry("s3", MAP),
                                         entry("s4", PHONE, org=2), entry("s5", MAP, org=2)])
    newer = SimilarStore(connector(Path("/nonexistent")), store.ef)
    newer._client = store.client  # another replica on the same Chroma, already past its split
    newer._checked = True
    newer.upsert([entry("s2", MAP)])  # s2 saved again since: its text is now MAP's
    assert store.count() == 5
    assert {h.ref for h in store.query(1, PHONE, k=5, exclude_ref="s1")} == {"s2", "s3"}
    assert store.get(1, [2])[0].title == MAP.title  # the newer record stayed
    assert {h.ref for h in store.query(2, PHONE, k=5)} == {"s4", "s5"}


def test_a_split_another_process_finished_first_is_not_an_error(store: SimilarStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import coach.retrieval.store as module

    monkeypatch.setattr(module, "UPSERT_BATCH", 2)
    _shared_collection_as_before(store, [entry(f"s{n}", PHONE) for n in range(1, 6)])
    pages = SimilarStore._page

    def other_replica_finishes(shared, offset):  # type: ignore[no-untyped-def]
        if offset:  # after this replica's first page, the other one has copied everything and dropped it
            rest = shared.get(include=["embeddings", "documents", "metadatas"], offset=offset)
            store.client.get_collection(f"{store.name}-org1").add(
                ids=rest["ids"], embeddings=rest["embeddings"], documents=rest["documents"], metadatas=rest["metadatas"])
            store.client.delete_collection(store.name)
        return pages(shared, offset)

    monkeypatch.setattr(SimilarStore, "_page", staticmethod(other_replica_finishes))
    assert store.count() == 5
    assert len(store.query(1, PHONE, k=10)) == 5


def test_a_town_first_written_after_a_reindex_with_another_embedding_is_refused(tmp_path: Path) -> None:
    """A running server (old settings) had looked at the index before `coach reindex` replaced it with
    another embedding: writing a town it had not opened yet must not make a collection of the old
    embedding (later processes would take it for a valid, nearly empty index)."""
    running = SimilarStore(connector(tmp_path), ProblemNgramEmbedding())
    running.upsert([entry("s1", PHONE)])
    SimilarStore(connector(tmp_path), CharNgramEmbedding()).rebuild([entry("s1", PHONE)], total=1)
    with pytest.raises(IndexMismatch):
        running.upsert([entry("s3", MAP, org=3)])
    assert not [c.name for c in running.client.list_collections() if c.name.startswith(running.name)]


class _CountingClient:
    """The store's client with its calls counted (which Chroma calls a read or a probe costs)."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.calls.append(name)
        return getattr(self.real, name)


def test_reads_of_a_town_without_sheets_and_the_readiness_probe_cost_a_fixed_number_of_calls(
        store: SimilarStore) -> None:
    store.upsert([entry(f"s{n}", PHONE, org=n) for n in range(1, 13)])  # twelve towns
    counting = _CountingClient(store.client)
    store._client = counting  # type: ignore[assignment]
    for _ in range(5):
        assert store.query(99, PHONE) == []
    assert counting.calls == ["get_collection"] * 5  # no listing of every town's collection per read
    counting.calls.clear()
    store.ready()
    assert counting.calls == ["heartbeat", "list_collections"]


def test_interleaved_towns_are_sent_in_full_batches(store: SimilarStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild reads sheets by id, so towns come interleaved: each call still carries one town's full batch."""
    import coach.retrieval.store as module

    monkeypatch.setattr(module, "UPSERT_BATCH", 3)
    monkeypatch.setattr(module, "HELD", 12)
    sizes: list[tuple[int, int]] = []
    real = SimilarStore._upsert

    def spy(self, org, batch):  # type: ignore[no-untyped-def]
        sizes.append((org, len(batch)))
        return real(self, org, batch)

    monkeypatch.setattr(SimilarStore, "_upsert", spy)
    assert store.upsert(entry(f"s{n}", PHONE, org=1 + n % 3) for n in range(1, 19)) == 18
    assert sorted(sizes) == [(1, 3), (1, 3), (2, 3), (2, 3), (3, 3), (3, 3)]
    assert store.count() == 18
    sizes.clear()
    seen: list[tuple[int, int]] = []  # and a rebuild, which streams every entry through one upsert
    assert store.rebuild((entry(f"s{n}", PHONE, org=1 + n % 3) for n in range(1, 17)), total=16,
                         progress=lambda d, t: seen.append((d, t))) == 16
    assert sorted(sizes) == [(1, 2), (1, 3), (2, 3), (2, 3), (3, 2), (3, 3)]  # 5, 6 and 5 entries
    assert seen[-1] == (16, 16) and [d for d, _ in seen] == sorted(d for d, _ in seen)
