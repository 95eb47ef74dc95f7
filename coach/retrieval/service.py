"""Similar sheets for people: the store's hits plus why they matched, and failure as a state."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chromadb.api.types import Documents, EmbeddingFunction

from coach.critics.analysis import content_words
from coach.retrieval.concepts import concepts_in
from coach.retrieval.embeddings import OpenAICompatibleEmbedding, ProblemNgramEmbedding
from coach.retrieval.links import LinkGraph, widened, with_links
from coach.retrieval.store import (
    Entry,
    Hit,
    IndexMismatch,
    SimilarStore,
    StoreUnavailable,
    connector,
    sheet_text,
)
from coach.settings import Settings
from coach.sheet import Sheet
from coach.text import normalize

log = logging.getLogger("coach.retrieval")
_SENTENCE = re.compile(r"[。\n]+")


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


def embedding_from_settings(settings: Settings) -> EmbeddingFunction[Documents]:
    if settings.embedding == "openai":
        return OpenAICompatibleEmbedding(model=settings.embedding_model, base_url=settings.embedding_base_url or None)
    return ProblemNgramEmbedding()


def _words(text: str) -> list[str]:
    return [w for w in content_words(normalize(text)[0]) if len(w) >= 2]


def explain(query: Sheet, hit: Hit) -> Match:
    q_text = sheet_text(query)
    q_concepts = concepts_in(q_text)
    h_concepts = concepts_in(hit.text)
    shared_concepts = [c for c in q_concepts if c in h_concepts]
    q_words = set(_words(q_text))
    shared_words: list[str] = []
    for w in _words(hit.text):
        if w in q_words and w not in shared_words:
            shared_words.append(w)
    # The passage to show is where the shared problem is said: its signal words weigh most.
    concept_signals = [w for c in shared_concepts for w in h_concepts[c]]
    best, best_score = "", -1
    for sentence in _SENTENCE.split(hit.text):
        sentence = sentence.strip()
        if not sentence or sentence == hit.title:
            continue
        norm = normalize(sentence)[0]
        score = 3 * sum(1 for s in concept_signals if s in norm) + sum(1 for s in shared_words if s in norm)
        if score > best_score:
            best, best_score = sentence, score
    shared_words.sort(key=len, reverse=True)
    return Match(hit=hit, concepts=shared_concepts, words=shared_words[:4], passage=best[:120])


class SimilarService:
    def __init__(self, store: SimilarStore, link_graph: Callable[[int], LinkGraph] | None = None) -> None:
        self.store = store
        self.link_graph = link_graph  # the DX team's links of an organisation (a retrieval channel)

    @classmethod
    def from_settings(cls, settings: Settings) -> SimilarService:
        return cls(SimilarStore(connector(settings.data_dir, settings.chroma_url), embedding_from_settings(settings)))

    def index(self, entries: Iterable[Entry]) -> bool:
        """Update vectors after a save. Failure is logged, never raised: the draft is already safe."""
        try:
            self.store.upsert(entries)
            return True
        except (StoreUnavailable, IndexMismatch) as exc:
            log.warning("similar-sheet index not updated: %s", exc)
            return False

    def similar(self, organisation_id: int, sheet: Sheet, k: int = 5, exclude_ref: str | None = None,
                viewer_section: str | None = None, sheet_id: int | None = None) -> SimilarResult:
        graph = self.link_graph(organisation_id) if self.link_graph else LinkGraph()
        try:
            hits = self.store.query(organisation_id, sheet, k=widened(k, graph, sheet_id), exclude_ref=exclude_ref,
                                    viewer_section=viewer_section)
            if graph:
                hits = with_links(self.store, graph, hits, k, organisation_id, sheet_id, exclude_ref, viewer_section)
        except IndexMismatch as exc:
            return SimilarResult(unavailable=str(exc))
        except StoreUnavailable as exc:
            log.warning("similar-sheet search unavailable: %s", exc)
            return SimilarResult(unavailable="似ているシートは今は表示できません（検索の仕組みにつながりません）。"
                                             "シートの編集と保存はこのまま続けられます。")
        return SimilarResult(matches=[explain(sheet, h) for h in hits])

    def rebuild(self, entries: Iterable[Entry], total: int, progress: Callable[[int, int], None] | None = None) -> int:
        return self.store.rebuild(entries, total, progress)
