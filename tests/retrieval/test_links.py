"""The DX team's links as a retrieval channel: a pure re-ranking of the store's hits."""

from __future__ import annotations

from coach.retrieval.links import DECAY, NEIGHBOURS, LinkGraph, linked_to_top, rerank, widened
from coach.retrieval.store import Hit


def hit(db_id: int, score: float) -> Hit:
    return Hit(ref=str(db_id), source="db", db_id=db_id, score=score, section=f"係{db_id}", title=f"題{db_id}",
               text="")


HITS = [hit(1, 0.80), hit(2, 0.60), hit(3, 0.50), hit(4, 0.40), hit(5, 0.30), hit(6, 0.20)]


def ids(hits: list[Hit]) -> list[int]:
    return [h.db_id for h in hits]


def test_without_links_the_order_and_scores_are_the_stores() -> None:
    assert not LinkGraph()
    assert rerank(HITS, LinkGraph(), k=5) == HITS[:5]


def test_a_sheet_linked_to_a_top_neighbour_ranks_up_to_near_that_neighbour() -> None:
    graph = LinkGraph.of([(1, 6)])  # the DX team: 6 is the same problem as the best hit 1
    out = rerank(HITS, graph, k=5, query_id=99)
    assert ids(out) == [1, 6, 2, 3, 4]
    assert out[1].score == round(DECAY * 0.80, 4)
    assert ids(rerank(HITS, graph, k=3, query_id=99))[:2] == [1, 6]  # it pushes an unlinked hit out of the top k


def test_only_the_top_neighbours_pull_their_linked_sheets() -> None:
    beyond = HITS[NEIGHBOURS]  # rank 4: too far from the query to vouch for anything
    graph = LinkGraph.of([(beyond.db_id, 6)])
    assert ids(rerank(HITS, graph, k=6, query_id=99)) == ids(HITS)


def test_a_linked_sheet_the_query_did_not_return_is_added_from_extra() -> None:
    graph = LinkGraph.of([(2, 42)])
    assert linked_to_top(HITS, graph, query_id=99) == {42}
    out = rerank(HITS, graph, k=4, query_id=99, extra=[hit(42, 0.0)])
    assert ids(out) == [1, 2, 42, 3] and out[2].score == round(DECAY * 0.60, 4)


def test_an_extra_sheet_nobody_vouches_for_is_not_shown() -> None:
    assert ids(rerank(HITS[:2], LinkGraph.of([(5, 42)]), k=5, query_id=99, extra=[hit(42, 0.0)])) == [1, 2]


def test_a_sheet_linked_to_the_query_itself_comes_first() -> None:
    graph = LinkGraph.of([(99, 5)])
    out = rerank(HITS, graph, k=3, query_id=99)
    assert ids(out) == [5, 1, 2] and out[0].score == 0.80
    assert linked_to_top(HITS[:2], graph, query_id=99) == {5}  # fetched when the store missed it


def test_rejected_suggestions_are_dropped_and_vouch_for_nothing() -> None:
    graph = LinkGraph.of([(1, 6)], rejected=[(99, 1)])  # the best hit was "not the same problem"
    out = rerank(HITS, graph, k=5, query_id=99)
    assert 1 not in ids(out) and ids(out) == [2, 3, 4, 5, 6]
    assert widened(5, graph, 99) == 6 and widened(5, graph, 7) == 5  # ask the store for one more
    assert ids(rerank(HITS, graph, k=5, query_id=7))[:2] == [1, 6]  # another sheet's query is unaffected


def test_the_query_sheet_never_appears_and_duplicates_collapse() -> None:
    graph = LinkGraph.of([(1, 99)])
    out = rerank(HITS, graph, k=6, query_id=99, extra=[hit(99, 0.0), hit(1, 0.0)])
    assert 99 not in ids(out) and ids(out).count(1) == 1
