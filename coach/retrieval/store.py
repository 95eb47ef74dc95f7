"""The vector index on Chroma: embedded PersistentClient by default, HttpClient for a server.

The database is the source of truth; this is an index of it. One collection per embedding
function and configuration, so vectors of different models never mix. Every query is filtered
by organisation: another municipality's sheets are never returned.
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

from coach.sheet import FIELDS as SHEET_FIELDS
from coach.sheet import Sheet

log = logging.getLogger("coach.retrieval")
PREFIX = "sheets-"
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
        self.name = collection_name(ef)
        self._collection: Collection | None = None

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
        """After an error, reconnect next time (the server may have restarted)."""
        self._client = None
        self._collection = None

    # -- the collection -----------------------------------------------------------------------------

    def others(self) -> list[str]:
        """Collections of this product made with another embedding."""
        try:
            names = [c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()]
        except StoreUnavailable:
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc
        return [n for n in names if n.startswith(PREFIX) and n != self.name]

    def collection(self, create: bool = False) -> Collection:
        collection = self._collection
        if collection is not None:
            return collection
        with self._opening:
            return self._open_collection(create)

    def _open_collection(self, create: bool) -> Collection:
        if self._collection is not None:  # another thread opened it while this one waited
            return self._collection
        try:
            names = [c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()]
            if self.name in names:
                # No function passed: Chroma rebuilds it from the stored config via the registry.
                self._collection = self.client.get_collection(self.name)
            elif create or not [n for n in names if n.startswith(PREFIX)]:
                self._collection = self.client.create_collection(
                    self.name, embedding_function=cast(Any, self.ef), configuration={"hnsw": {"space": "cosine"}},
                    metadata={"product": "curry-coach"},
                )
            else:
                raise IndexMismatch(
                    f"検索用の索引は別の埋め込み（{', '.join(n for n in names if n.startswith(PREFIX))}）で"
                    f"作られています。今の設定（{self.ef.name()}）で使うには `coach reindex` を実行してください。"
                )
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc
        return self._collection

    def is_new(self) -> bool:
        return self.count() == 0

    def count(self) -> int:
        try:
            return int(self.collection().count())
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
            self._upsert(batch)
            done += len(batch)
        return done

    def _upsert(self, batch: list[Entry]) -> None:
        try:
            self.collection().upsert(
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
            self.collection().delete(where=cast(Any, {"$and": [{"org": organisation_id}, {"db_id": {"$in": ids}}]}))
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc

    def rebuild(self, entries: Iterable[Entry], total: int, progress: Callable[[int, int], None] | None = None,
                batch_size: int = 256) -> int:
        """Drop every collection of this product and index `entries` afresh."""
        try:
            for name in [*self.others(), self.name]:
                try:
                    self.client.delete_collection(name)
                except Exception:  # absent is fine
                    pass
        except StoreUnavailable:
            raise
        self._collection = None
        self.collection(create=True)
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
        `tags`: the query sheet's stored LLM problem tags, if any."""
        where = _scope(organisation_id, exclude_ref)
        try:
            # Chroma answers fewer than k when fewer match (no count first: it cost a call per query).
            result = self.collection().query(
                query_embeddings=self.ef.embed_query([sheet_text(sheet, tags)]), n_results=k, where=where,
                include=["metadatas", "distances", "documents"],
            )
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc
        metas = (result.get("metadatas") or [[]])[0]
        dists = (result.get("distances") or [[]])[0]
        docs = (result.get("documents") or [[]])[0]
        return [_hit(meta, round(1.0 - float(dist), 4), doc) for meta, dist, doc in zip(metas, dists, docs, strict=False)]

    def get(self, organisation_id: int, db_ids: Iterable[int], exclude_ref: str | None = None) -> list[Hit]:
        """Sheets by database id, in the same scope as `query`; their score is 0 (no query)."""
        ids = sorted(set(db_ids))
        if not ids:
            return []
        where = {"$and": [_scope(organisation_id, exclude_ref), {"db_id": {"$in": ids}}]}
        try:
            result = self.collection().get(where=cast(Any, where), include=cast(Any, ["metadatas", "documents"]))
        except (IndexMismatch, StoreUnavailable):
            raise
        except Exception as exc:
            self._forget()
            raise StoreUnavailable(str(exc)) from exc
        docs = result.get("documents") or []
        return [_hit(meta, 0.0, doc) for meta, doc in zip(result.get("metadatas") or [], docs, strict=False)]


def _scope(organisation_id: int, exclude_ref: str | None) -> dict[str, Any]:
    """Every read: this organisation only, never the query sheet itself. Who may see which hit is
    decided afterwards on the database's sheet (`SimilarService`), not on this index's copy."""
    clauses: list[dict[str, Any]] = [{"org": organisation_id}]
    if exclude_ref is not None:
        clauses.append({"ref": {"$ne": str(exclude_ref)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _hit(meta: Mapping[str, Any], score: float, doc: str | None) -> Hit:
    return Hit(ref=str(meta["ref"]), source=str(meta["source"]), db_id=int(str(meta["db_id"])), score=score,
               section=str(meta["section"]), title=str(meta["title"]), text=without_tags(doc or ""))
