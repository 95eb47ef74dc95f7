"""Similar sheets for people: the store's hits plus why they matched, and failure as a state."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chromadb.api.types import Documents, EmbeddingFunction

from coach.repository import SheetRepository
from coach.retrieval.concepts import concepts_in
from coach.retrieval.embeddings import OpenAICompatibleEmbedding, ProblemNgramEmbedding
from coach.retrieval.links import LinkGraph, widened, with_links
from coach.retrieval.store import Entry, Hit, IndexMismatch, SimilarStore, StoreUnavailable, connector
from coach.retrieval.texts import sheet_text, split_fields
from coach.retrieval.words import shared_words as shared_nouns
from coach.settings import Settings
from coach.sheet import Sheet
from coach.text import normalize
from coach.workspace.accounts import Account
from coach.workspace.permissions import visible

if TYPE_CHECKING:
    from coach.retrieval.problem_tags import ProblemTags

log = logging.getLogger("coach.retrieval")
_SENTENCE = re.compile(r"[。\n\x1f]+")
MAX_CANDIDATES = 400  # hits asked of the index at most, when many of the nearest are hidden from the caller


@dataclass(frozen=True)
class Match:
    hit: Hit
    concepts: list[str]  # shared recurring problems, in Japanese
    words: list[str]  # shared content words
    passage: str  # the other sheet's sentence that matched best


@dataclass
class SimilarResult:
    matches: list[Match] = field(default_factory=list)
    unavailable: str = ""  # a Japanese notice when the index cannot answer


def embedding_from_settings(settings: Settings, tags_version: str = "") -> EmbeddingFunction[Documents]:
    """`tags_version`: the LLM tagger's (COACH_LLM_TAGS), which the default embedding reads tags with."""
    if settings.embedding == "openai":
        return OpenAICompatibleEmbedding(model=settings.embedding_model, base_url=settings.embedding_base_url or None)
    return ProblemNgramEmbedding(tags_version=tags_version)


def _problem_part(text: str) -> str:
    """Where the other sheet states its problem (AsIs and problems), or all of it when it says none."""
    fields = split_fields(text)
    part = "\n".join([fields["asis"], fields["problems"]]) if fields else ""
    return part if part.strip() else text


def explain(query: Sheet, hit: Hit, q_concepts: Mapping[str, tuple[str, ...]] | None = None) -> Match:
    """Why `hit` matches `query`. `q_concepts`: the query's concepts when the caller explains several hits."""
    q_text = sheet_text(query)
    q_concepts = concepts_in(q_text) if q_concepts is None else q_concepts
    h_concepts = concepts_in(hit.text)
    shared_concepts = [c for c in q_concepts if c in h_concepts]
    shared_words = shared_nouns(q_text, hit.text)
    # The passage to show is where the shared problem is said: its signal words weigh most.
    concept_signals = [w for c in shared_concepts for w in h_concepts[c]]
    best, best_score = "", -1
    for sentence in _SENTENCE.split(_problem_part(hit.text)):
        sentence = sentence.strip()
        if not sentence or sentence == hit.title:
            continue
        norm = normalize(sentence)[0]
        score = 3 * sum(1 for s in concept_signals if s in norm) + sum(
            1 for w in shared_words if w.split("／")[0] in norm)
        if score > best_score:
            best, best_score = sentence, score
    return Match(hit=hit, concepts=shared_concepts, words=shared_words, passage=best[:120])


class SimilarService:
    """Similar sheets for one caller. The index proposes candidates; whether the caller sees one is
    decided on the sheet as the database has it now, by `permissions.visible` (the index's status
    and title may lag behind, e.g. after a save while Chroma was down). The DX team's links between
    sheets are a second channel (coach/retrieval/links.py), applied after the query."""

    def __init__(self, store: SimilarStore, repo: SheetRepository,
                 link_graph: Callable[[int], LinkGraph] | None = None, tags: ProblemTags | None = None) -> None:
        self.store = store
        self.repo = repo
        self.link_graph = link_graph  # the DX team's links of an organisation
        self.tags = tags  # stored LLM problem tags (COACH_LLM_TAGS), else None

    @classmethod
    def from_settings(cls, settings: Settings, repo: SheetRepository,
                      link_graph: Callable[[int], LinkGraph] | None = None) -> SimilarService:
        from coach.retrieval.problem_tags import tags_from_settings

        tags = tags_from_settings(settings, repo.sessions)
        ef = embedding_from_settings(settings, tags.version if tags else "")
        return cls(SimilarStore(connector(settings.data_dir, settings.chroma_url), ef), repo, link_graph, tags)

    def index(self, entries: Iterable[Entry]) -> bool:
        """Update vectors after a save. Failure is logged, never raised: the draft is already safe."""
        try:
            self.store.upsert(entries)
            return True
        except (StoreUnavailable, IndexMismatch) as exc:
            log.warning("similar-sheet index not updated: %s", exc)
            return False

    def similar(self, who: Account, sheet: Sheet, k: int = 5, exclude_ref: str | None = None,
                sheet_id: int | None = None) -> SimilarResult:
        graph = self.link_graph(who.organisation_id) if self.link_graph else LinkGraph()
        try:
            q_tags = self.tags.of(sheet_id, sheet) if self.tags else ()  # stored ones only: no LLM call here
            hits = self._visible_hits(who, sheet, widened(k, graph, sheet_id), exclude_ref, q_tags)
            if graph:  # linked sheets the query missed are fetched, then shown only if `who` may read them
                hits = self._readable(who, with_links(self.store, graph, hits, k, who.organisation_id, sheet_id,
                                                      exclude_ref))
        except IndexMismatch as exc:
            return SimilarResult(unavailable=str(exc))
        except StoreUnavailable as exc:
            log.warning("similar-sheet search unavailable: %s", exc)
            return SimilarResult(unavailable="似ているシートは今は表示できません（検索の仕組みにつながりません）。"
                                             "シートの編集と保存はこのまま続けられます。")
        q_concepts = concepts_in(sheet_text(sheet))
        return SimilarResult(matches=[explain(sheet, h, q_concepts) for h in hits])

    def _visible_hits(self, who: Account, sheet: Sheet, k: int, exclude_ref: str | None,
                      tags: tuple[str, ...] = ()) -> list[Hit]:
        """The k best hits `who` may read. Hidden ones are skipped, so ask the index for more until
        k are found or the organisation's sheets are exhausted (bounded by MAX_CANDIDATES)."""
        n = 2 * k + 4
        while True:
            hits = self.store.query(who.organisation_id, sheet, k=n, exclude_ref=exclude_ref, tags=tags)
            out = self._readable(who, hits)
            if len(out) >= k or len(hits) < n or n >= MAX_CANDIDATES:
                return out[:k]
            n = min(4 * n, MAX_CANDIDATES)

    def _readable(self, who: Account, hits: list[Hit]) -> list[Hit]:
        """The hits `who` may read, with section and title as the database has them now (one query;
        a sheet in the index but gone from the database is left out)."""
        heads = self.repo.heads((h.db_id for h in hits), who.organisation_id)
        readable = {s.id: s for s in visible(who, heads.values())}
        return [replace(h, section=readable[h.db_id].section, title=readable[h.db_id].title)
                for h in hits if h.db_id in readable]

    def rebuild(self, entries: Iterable[Entry], total: int, progress: Callable[[int, int], None] | None = None) -> int:
        return self.store.rebuild(entries, total, progress)
