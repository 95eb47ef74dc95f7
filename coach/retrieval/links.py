"""A retrieval channel learnt from the DX team: sheets linked to a neighbour of the query rank up.

The DX team links sheets that share a problem (coach/workspace/links.py) and rejects suggested matches that
do not. After the store's query, `rerank` applies what they said:

- a suggestion the DX team rejected for this sheet is dropped (it is never suggested again);
- a sheet linked to this very sheet ranks at least level with the best hit;
- a sheet linked to one of the top `NEIGHBOURS` hits scores at least `DECAY` × that neighbour's
  score — the team said it is the same problem as the neighbour, so it is nearly as relevant,
  even when its words are different (it is fetched from the store if the query did not return it).

Pure: hits and a graph in, hits out. The scores returned are the ranking scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no chromadb import for the database layer, which only needs LinkGraph
    from coach.retrieval.store import Hit, SimilarStore

NEIGHBOURS = 3  # the top hits whose linked sheets are pulled up
DECAY = 0.9  # a sheet linked to a neighbour scores at least this share of the neighbour's score


@dataclass(frozen=True)
class LinkGraph:
    """One organisation's links: sheet id → linked sheet ids, and the pairs rejected as "not the same"."""

    linked: Mapping[int, frozenset[int]] = field(default_factory=dict)
    rejected: frozenset[frozenset[int]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.linked or self.rejected)

    def neighbours(self, sheet_id: int | None) -> frozenset[int]:
        return self.linked.get(sheet_id, frozenset()) if sheet_id is not None else frozenset()

    def is_rejected(self, a: int | None, b: int) -> bool:
        return a is not None and frozenset((a, b)) in self.rejected

    def rejected_for(self, sheet_id: int | None) -> int:
        return sum(1 for pair in self.rejected if sheet_id in pair)

    @classmethod
    def of(cls, linked: Sequence[tuple[int, int]], rejected: Sequence[tuple[int, int]] = ()) -> LinkGraph:
        adjacency: dict[int, set[int]] = {}
        for a, b in linked:
            adjacency.setdefault(a, set()).add(b)
            adjacency.setdefault(b, set()).add(a)
        return cls({k: frozenset(v) for k, v in adjacency.items()}, frozenset(frozenset(p) for p in rejected))


def linked_to_top(hits: Sequence[Hit], graph: LinkGraph, query_id: int | None) -> set[int]:
    """Sheet ids linked to the query or to one of its top hits: the ones to fetch if the query missed them."""
    kept = [h for h in hits if not graph.is_rejected(query_id, h.db_id)][:NEIGHBOURS]
    wanted = set(graph.neighbours(query_id)).union(*(graph.neighbours(h.db_id) for h in kept))
    return wanted - {h.db_id for h in hits} - ({query_id} if query_id is not None else set())


def rerank(hits: Sequence[Hit], graph: LinkGraph, k: int, query_id: int | None = None,
           extra: Sequence[Hit] = ()) -> list[Hit]:
    """The k best hits once the DX team's links and rejections are applied, best first.

    `hits` come from the store, best first; `extra` are linked sheets the store query did not return
    (their own score is unknown, so 0). The query sheet itself never appears.
    """
    unique: dict[int, Hit] = {}
    for h in [*hits, *extra]:
        if h.db_id != query_id and h.db_id not in unique and not graph.is_rejected(query_id, h.db_id):
            unique[h.db_id] = h
    top = [h for h in unique.values() if h.score > 0][:NEIGHBOURS]
    best = max((h.score for h in unique.values()), default=0.0)
    direct = graph.neighbours(query_id)
    ranked: list[tuple[float, int, int, Hit]] = []
    for order, h in enumerate(unique.values()):
        score = h.score
        for n in top:
            if n.db_id != h.db_id and h.db_id in graph.neighbours(n.db_id):
                score = max(score, DECAY * n.score)
        is_direct = h.db_id in direct
        if is_direct:
            score = max(score, best)
        ranked.append((-score, 0 if is_direct else 1, order, replace(h, score=round(score, 4))))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked if r[3].score > 0][:k]


def widened(k: int, graph: LinkGraph, query_id: int | None) -> int:
    """How many hits to ask the store for, so that k remain once rejected suggestions are dropped."""
    return k + graph.rejected_for(query_id)


def with_links(store: SimilarStore, graph: LinkGraph, hits: Sequence[Hit], k: int, organisation_id: int,
               query_id: int | None, exclude_ref: str | None) -> list[Hit]:
    """`rerank`, after fetching the linked sheets the query missed (same organisation, never the
    query itself); the caller then keeps only what its reader may see, as for every hit."""
    wanted = linked_to_top(hits, graph, query_id)
    extra = store.get(organisation_id, wanted, exclude_ref) if wanted else []
    return rerank(hits, graph, k, query_id, extra)
