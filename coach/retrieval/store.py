"""The vector index on Chroma: embedded PersistentClient by default, HttpClient for a server.

The database is the source of truth; this is an index of it. One collection per organisation and
embedding (function and configuration): vectors of different models never mix, and a query reads
only its own municipality's collection, so another town's sheets are never returned. (Before
issue #14's round 5 one collection held every organisation and each query filtered it by metadata;
that filter cost Chroma ~50 ms at 10,000 sheets against ~6 ms for a collection of the town's own.
Such a collection is split by town the first time the store opens it, vectors copied as they are.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from coach.retrieval.texts import sheet_text, without_tags
from coach.sheet import Sheet

log = logging.getLogger("coach.retrieval")
PREFIX = "sheets-"
ORG_MARK = "-org"  # a base collection name + ORG_MARK + the organisation's id: that town's collection
UPSERT_BATCH = 500  # entries per Chroma call (its own maximum is 5,461 embedded; memory stays flat)
HELD = 4 * UPSERT_BATCH  # entries gathered by town before the fullest town's are sent


class StoreUnavailable(RuntimeError):
    """Chroma cannot be reached or answered with an error."""


class IndexMismatch(RuntimeError):
    """The index was built with another embedding; `coach reindex` rebuilds it."""


@dataclass(frozen=True)
class Entry:
    """One sheet as the index knows it. `ref` is the sheet's id: a database id or an imported id."""

    ref: str
    source: str  # "db" | "import"
    db_id: int
    organisation_id: int
    section: str
    title: str
    status: str
    sheet: Sheet
    tags: tuple[str, ...] = ()  # LLM problem tags (coach/retrieval/problem_tags.py), when stored

    @property
    def key(self) -> str:
        return f"{self.source}:{self.ref}"


@dataclass(frozen=True)
class Hit:
    ref: str
    source: str
    db_id: int
    score: float
    section: str
    title: str
    text: str

    @property
    def id(self) -> int | str:
        return int(self.ref) if self.source == "db" and self.ref.isdigit() else self.ref


def collection_name(ef: EmbeddingFunction[Documents]) -> str:
    config = json.dumps(ef.get_config(), sort_keys=True)
    digest = hashlib.sha1(f"{ef.name()}|{config}".encode()).hexdigest()[:10]
    return f"{PREFIX}{ef.name()}-{digest}"


def org_collection_name(base: str, organisation_id: int) -> str:
    return f"{base}{ORG_MARK}{int(organisation_id)}"


def connector(data_dir: Path, url: str = "") -> Callable[[], ClientAPI]:
    return lambda: make_client(data_dir, url)


def make_client(data_dir: Path, url: str = "") -> ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        from urllib.parse import urlparse

        u = urlparse(url)
        return chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https",
                                   settings=settings)
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class SimilarStore:
    """`connect` makes the client on first use and again after a failure: a Chroma server that is
    down at start (HttpClient raises at construction) must not stop the service from starting."""

    def __init__(self, connect: Callable[[], ClientAPI], ef: EmbeddingFunction[Documents]) -> None:
        self._connect = connect
        self._client: ClientAPI | None = None
        # Opening is done once, by one thread: the index worker and a request may both come first after
        # a start, and two embedded clients built at once for one folder fail half-built.
        self._opening = threading.RLock()
        self.ef = ef
        self.name = collection_name(ef)  # the base name; each organisation's collection adds ORG_MARK + id
        self._collections: dict[int, Collection] = {}
        self._checked = False  # the product's collections were looked at: no other embedding, none to split

    @property
    def client(self) -> ClientAPI:
        client = self._client
        if client is None:
            with self._opening:
                if self._client is None:
                    try:
                        self._client = self._connect()
                    except Exception as exc:
                        raise StoreUnavailable(str(exc)) from exc
                client = self._client
        return client

    def _forget(self) -> None:
        """After an error, reconnect and look again next time (the server may have restarted)."""
        self._client = None
        self._collections = {}
        self._checked = False

    # -- the collections ------------------------------------------------------------------------------

    def _ours(self, name: str) -> bool:
        return name == self.name or name.startswith(self.name + ORG_MARK)

    def _names(self) -> list[str]:
        return [c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()]

    def others(self) -> list[str]:
        """Collections of this product made with another embedding."""
        try:
            names = self._names()
        except StoreUnavailable:
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc
        return [n for n in names if n.startswith(PREFIX) and not self._ours(n)]

    def collection(self, organisation_id: int, create: bool = False) -> Collection | None:
        """The organisation's collection; None when it has none yet and `create` is false (nothing indexed)."""
        collection = self._collections.get(organisation_id)
        if collection is not None:
            return collection
        with self._opening:
            try:
                return self._open(organisation_id, create)
            except (IndexMismatch, StoreUnavailable):
                raise
            except Exception as exc:
                self._forget()
                raise StoreUnavailable(str(exc)) from exc

    def _open(self, organisation_id: int, create: bool) -> Collection | None:
        if organisation_id in self._collections:  # another thread opened it while this one waited
            return self._collections[organisation_id]
        # Before making a town's collection, look again: `coach reindex` with another embedding may
        # have replaced the index since this process looked (once per town and process).
        self._check(again=create)
        if create:
            collection = self._make(organisation_id)
        else:
            try:
                # No function passed: Chroma rebuilds it from the stored config via the registry.
                collection = self.client.get_collection(org_collection_name(self.name, organisation_id))
            except NotFoundError:
                return None  # nothing of this town is indexed yet; asked again on the next read
        self._collections[organisation_id] = collection
        return collection

    def _make(self, organisation_id: int) -> Collection:
        # get_or_create: another process may make the same town's collection at the same moment
        return self.client.get_or_create_collection(
            org_collection_name(self.name, organisation_id), embedding_function=cast(Any, self.ef),
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"product": "curry-coach", "organisation": int(organisation_id)},
        )

    def _check(self, again: bool = False) -> None:
        """Once per connection (or `again`): refuse an index of another embedding (`rebuild` replaces
        it), and split a collection of every organisation, as earlier versions kept, by town."""
        if self._checked and not again:
            return
        names = self._names()
        if self.name in names:
            self._split(self.client.get_collection(self.name))
        elif not any(self._ours(n) for n in names) and any(n.startswith(PREFIX) for n in names):
            raise IndexMismatch(
                f"検索用の索引は別の埋め込み（{', '.join(n for n in names if n.startswith(PREFIX))}）で"
                f"作られています。今の設定（{self.ef.name()}）で使うには `coach reindex` を実行してください。"
            )
        self._checked = True

    def _split(self, shared: Collection) -> None:
        """Copy a shared collection's records (vectors, documents, metadata as they are: no embedding
        again, stored tags kept) into each organisation's collection, then drop it. Runs under the
        opening lock, so no thread of this process reads a town half copied. `add`, not `upsert`: a
        record another process has already written to a town's collection is newer and stays."""
        moved = 0
        towns: dict[int, Collection] = {}
        try:
            while rows := self._page(shared, moved):
                for org in {int(meta["org"]) for *_, meta in rows}:
                    mine = [row for row in rows if int(row[3]["org"]) == org]
                    if org not in towns:
                        towns[org] = self._make(org)
                    towns[org].add(ids=[r[0] for r in mine], embeddings=[r[1] for r in mine],
                             documents=[r[2] for r in mine], metadatas=[r[3] for r in mine])
                moved += len(rows)
            self.client.delete_collection(self.name)
        except NotFoundError:
            # Another process split it too and dropped it after copying every record (or a rebuild
            # dropped it to write everything afresh): nothing is missing.
            log.info("similar-sheet index: the shared collection was split by another process")
            return
        log.info("similar-sheet index: %d vectors moved into one collection per organisation", moved)

    @staticmethod
    def _page(shared: Collection, offset: int) -> list[tuple[Any, Any, Any, Any]]:
        page = shared.get(include=cast(Any, ["embeddings", "documents", "metadatas"]), limit=UPSERT_BATCH,
                          offset=offset)
        if not page["ids"]:
            return []
        return list(zip(page["ids"], cast(Any, page["embeddings"]), cast(Any, page["documents"]),
                        cast(Any, page["metadatas"]), strict=True))

    def ready(self) -> None:
        """Raise StoreUnavailable or IndexMismatch unless the store answers and holds this embedding's
        index: for the readiness probe, two calls however many towns there are."""
        try:
            self.client.heartbeat()
            with self._opening:
                self._check(again=True)
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc

    def is_new(self) -> bool:
        """Nothing of this embedding is indexed (stops at the first town with a record)."""
        return not any(self._counts(stop_at_first=True))

    def count(self) -> int:
        """Vectors of this embedding, every organisation together."""
        return sum(self._counts())

    def _counts(self, stop_at_first: bool = False) -> list[int]:
        try:
            with self._opening:
                self._check()
            counts = []
            for collection in self.client.list_collections():
                if self._ours(collection.name):
                    counts.append(int(collection.count()))
                    if stop_at_first and counts[-1]:
                        break
            return counts
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc

    # -- writing --------------------------------------------------------------------------------------

    def upsert(self, entries: Iterable[Entry], sent: Callable[[int], None] | None = None) -> int:
        """Index `entries`, any number, sent to each town's collection in batches of UPSERT_BATCH (well
        under Chroma's own maximum, 5,461 records embedded: a town's first start with more sheets used
        to fail whole). Entries of several towns may come interleaved (the outbox's batches): each
        town's are gathered, at most HELD entries at once, so that calls stay full and memory flat.
        `sent`: told how many entries are in the index so far, after each call."""
        done, held = 0, 0
        pending: dict[int, list[Entry]] = {}
        for e in entries:
            rows = pending.setdefault(e.organisation_id, [])
            rows.append(e)
            done, held = done + 1, held + 1
            if len(rows) >= UPSERT_BATCH or held >= HELD:
                org = e.organisation_id if len(rows) >= UPSERT_BATCH else max(pending, key=lambda o: len(pending[o]))
                batch = pending.pop(org)
                self._upsert(org, batch)
                held -= len(batch)
                if sent:
                    sent(done - held)
        for org, rows in pending.items():
            self._upsert(org, rows)
        return done

    def _upsert(self, organisation_id: int, batch: list[Entry]) -> None:
        try:
            collection = self.collection(organisation_id, create=True)
            assert collection is not None
            collection.upsert(
                ids=[e.key for e in batch],
                documents=[sheet_text(e.sheet, e.tags) for e in batch],
                metadatas=[
                    {"ref": e.ref, "source": e.source, "db_id": e.db_id, "org": e.organisation_id, "section": e.section,
                     "title": e.title, "status": e.status}
                    for e in batch
                ],
            )
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc

    def delete(self, organisation_id: int, db_ids: Iterable[int]) -> None:
        """Remove the vectors of sheets that are gone from the database."""
        ids = sorted(set(db_ids))
        if not ids:
            return
        try:
            collection = self.collection(organisation_id)
            if collection is not None:
                collection.delete(where=cast(Any, {"db_id": {"$in": ids}}))
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc

    def rebuild(self, entries: Iterable[Entry], total: int,
                progress: Callable[[int, int], None] | None = None) -> int:
        """Drop every collection of this product and index `entries` afresh (in one stream, so that
        each town's entries are gathered into full batches)."""
        try:
            names = [n for n in self._names() if n.startswith(PREFIX)]
        except StoreUnavailable:
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc
        for name in names:
            try:
                self.client.delete_collection(name)
            except Exception:  # absent is fine
                pass
        self._collections = {}
        self._checked = True  # nothing of this product is left: no other embedding, nothing to split
        done = self.upsert(entries, sent=(lambda n: progress(n, total)) if progress else None)
        if progress:
            progress(done, total)
        return done

    # -- reading --------------------------------------------------------------------------------------

    def query(self, organisation_id: int, sheet: Sheet, k: int = 5, exclude_ref: str | None = None,
              tags: tuple[str, ...] = ()) -> list[Hit]:
        """The k most similar sheets of the same organisation, best first, whoever may read them:
        `SimilarService` keeps those the caller may see (by the database, not this index's copy).
        `tags`: the query sheet's stored LLM problem tags, if any. The query sheet itself
        (`exclude_ref`) is left out here, not by a metadata filter: a filter makes Chroma's search slow."""
        try:
            collection = self.collection(organisation_id)
            if collection is None or k <= 0:
                return []
            embedding = self.ef.embed_query([sheet_text(sheet, tags)])
            asked = k + (exclude_ref is not None)
            while True:
                # Chroma answers fewer than asked when fewer are stored (no count first: it cost a call per query).
                result = collection.query(query_embeddings=embedding, n_results=asked,
                                          include=["metadatas", "distances", "documents"])
                metas = (result.get("metadatas") or [[]])[0]
                dists = (result.get("distances") or [[]])[0]
                docs = (result.get("documents") or [[]])[0]
                hits = [_hit(meta, round(1.0 - float(dist), 4), doc)
                        for meta, dist, doc in zip(metas, dists, docs, strict=False)]
                kept = [h for h in hits if exclude_ref is None or h.ref != str(exclude_ref)]
                if len(kept) >= k or len(hits) < asked:
                    return kept[:k]
                asked *= 2  # several records carry the excluded ref (an import and a sheet): ask deeper
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc

    def get(self, organisation_id: int, db_ids: Iterable[int], exclude_ref: str | None = None) -> list[Hit]:
        """Sheets by database id, in the same scope as `query`; their score is 0 (no query)."""
        ids = sorted(set(db_ids))
        if not ids:
            return []
        try:
            collection = self.collection(organisation_id)
            if collection is None:
                return []
            result = collection.get(where=cast(Any, {"db_id": {"$in": ids}}),
                                    include=cast(Any, ["metadatas", "documents"]))
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc
        docs = result.get("documents") or []
        hits = [_hit(meta, 0.0, doc) for meta, doc in zip(result.get("metadatas") or [], docs, strict=False)]
        return [h for h in hits if exclude_ref is None or h.ref != str(exclude_ref)]


def _hit(meta: Mapping[str, Any], score: float, doc: str | None) -> Hit:
    return Hit(ref=str(meta["ref"]), source=str(meta["source"]), db_id=int(str(meta["db_id"])), score=score,
               section=str(meta["section"]), title=str(meta["title"]), text=without_tags(doc or ""))
