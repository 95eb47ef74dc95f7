"""The vector index on Chroma: embedded PersistentClient by default, HttpClient for a server.

The database is the source of truth; this is an index of it. One collection per organisation and
embedding (function and configuration): vectors of different models never mix, and a query reads
only its own municipality's collection, so another town's sheets are never returned. (Until 0.x
one collection held every organisation and each query filtered it by metadata; that filter cost
Chroma ~50 ms at 10,000 sheets against ~6 ms for a collection of the town's own. Such a collection
is split into per-organisation ones the first time the store opens it, vectors copied as they are.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, cast

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from coach.sheet import FIELDS as SHEET_FIELDS
from coach.sheet import Sheet

log = logging.getLogger("coach.retrieval")
PREFIX = "sheets-"
ORG_MARK = "-org"  # a base collection name + ORG_MARK + the organisation's id: that town's collection
UPSERT_BATCH = 500  # entries per Chroma call (its own maximum is 5,461 embedded; memory stays flat)


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


FIELD_SEP = "\x1f"  # ASCII unit separator; one typed into a sheet is replaced by a space
FIELDS = ("title", *SHEET_FIELDS)


def sheet_text(sheet: Sheet, tags: tuple[str, ...] = ()) -> str:
    """What is embedded: the whole sheet except the margin (solution ideas are not the problem).

    Fields are kept apart by FIELD_SEP so that an embedding can weigh them (see `split_fields`).
    `tags`: the sheet's LLM problem tags (coach/llm/tagger.py), a last field only when there are some.
    """
    fields = [sheet.title, sheet.asis, sheet.tobe, sheet.purpose, "\n".join(sheet.problems), "\n".join(sheet.tasks)]
    if tags:
        fields.append(TAG_SEP.join(tags))
    return FIELD_SEP.join(f.replace(FIELD_SEP, " ") for f in fields)


TAG_SEP = "｜"


def split_fields(text: str) -> dict[str, str] | None:
    """The fields of a `sheet_text` (with "tags" when it has them), or None for plain text (one field)."""
    parts = text.split(FIELD_SEP)
    if len(parts) == len(FIELDS) + 1:
        return {**dict(zip(FIELDS, parts[:-1], strict=True)), "tags": parts[-1]}
    return dict(zip(FIELDS, parts, strict=True)) if len(parts) == len(FIELDS) else None


def tags_of(text: str) -> tuple[str, ...]:
    """The LLM problem tags a `sheet_text` carries (none for most)."""
    fields = split_fields(text)
    return tuple(t for t in fields["tags"].split(TAG_SEP) if t) if fields and "tags" in fields else ()


def without_tags(text: str) -> str:
    """A `sheet_text` as the sheet wrote it: what people are shown and matched against (never the tags)."""
    parts = text.split(FIELD_SEP)
    return FIELD_SEP.join(parts[:len(FIELDS)]) if len(parts) == len(FIELDS) + 1 else text


def plain_text(text: str) -> str:
    """A `sheet_text` as lines, for people and for embeddings that do not weigh fields (tags left out)."""
    return without_tags(text).replace(FIELD_SEP, "\n")


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
        self._check()
        name = org_collection_name(self.name, organisation_id)
        if create:
            # get_or_create: another process may make the same town's collection at the same moment
            collection = self.client.get_or_create_collection(
                name, embedding_function=cast(Any, self.ef), configuration={"hnsw": {"space": "cosine"}},
                metadata={"product": "curry-coach", "organisation": int(organisation_id)},
            )
        else:
            try:
                # No function passed: Chroma rebuilds it from the stored config via the registry.
                collection = self.client.get_collection(name)
            except NotFoundError:
                self._checked = False  # look again next time: a rebuild with another embedding may have run
                return None
        self._collections[organisation_id] = collection
        return collection

    def _check(self) -> None:
        """Once per connection: refuse an index of another embedding (`rebuild` replaces it), and split
        a collection of every organisation, as earlier versions kept, into per-organisation ones."""
        if self._checked:
            return
        names = self._names()
        if self.name in names:
            self._checked = True  # while splitting, opening the towns' collections must not split again
            self._split(self.client.get_collection(self.name))
        elif not any(self._ours(n) for n in names) and any(n.startswith(PREFIX) for n in names):
            raise IndexMismatch(
                f"検索用の索引は別の埋め込み（{', '.join(n for n in names if n.startswith(PREFIX))}）で"
                f"作られています。今の設定（{self.ef.name()}）で使うには `coach reindex` を実行してください。"
            )
        self._checked = True

    def _split(self, shared: Collection) -> None:
        """Copy a shared collection's records (vectors, documents, metadata as they are: no embedding
        again, stored tags kept) into each organisation's collection, then drop it."""
        moved = 0
        while page := shared.get(include=cast(Any, ["embeddings", "documents", "metadatas"]), limit=UPSERT_BATCH,
                                 offset=moved):
            if not page["ids"]:
                break
            rows = list(zip(page["ids"], cast(Any, page["embeddings"]), cast(Any, page["documents"]),
                            cast(Any, page["metadatas"]), strict=True))
            for org in {int(meta["org"]) for *_, meta in rows}:
                mine = [row for row in rows if int(row[3]["org"]) == org]
                target = self._open(org, create=True)
                assert target is not None
                target.upsert(ids=[r[0] for r in mine], embeddings=[r[1] for r in mine],
                              documents=[r[2] for r in mine], metadatas=[r[3] for r in mine])
            moved += len(rows)
        self.client.delete_collection(self.name)
        log.info("similar-sheet index: %d vectors moved into one collection per organisation", moved)

    def is_new(self) -> bool:
        return self.count() == 0

    def count(self) -> int:
        """Vectors of this embedding, every organisation together."""
        try:
            with self._opening:
                self._check()
            return sum(int(self.client.get_collection(n).count()) for n in self._names() if self._ours(n))
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc

    # -- writing --------------------------------------------------------------------------------------

    def upsert(self, entries: Iterable[Entry]) -> int:
        """Index `entries` (any number: sent in batches of UPSERT_BATCH, well under Chroma's own maximum,
        which is 5,461 records embedded — a town's first start with more sheets used to fail whole)."""
        done, rest = 0, iter(entries)
        while batch := list(islice(rest, UPSERT_BATCH)):
            by_org: dict[int, list[Entry]] = {}
            for e in batch:
                by_org.setdefault(e.organisation_id, []).append(e)
            for org, entries_of_org in by_org.items():
                self._upsert(org, entries_of_org)
            done += len(batch)
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

    def rebuild(self, entries: Iterable[Entry], total: int, progress: Callable[[int, int], None] | None = None,
                batch_size: int = 256) -> int:
        """Drop every collection of this product and index `entries` afresh."""
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
        done = 0
        batch: list[Entry] = []
        for entry in entries:
            batch.append(entry)
            if len(batch) >= batch_size:
                done += self.upsert(batch)
                batch = []
                if progress:
                    progress(done, total)
        done += self.upsert(batch)
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
