"""What the DX team's links could add to search: a simulation on the retrieval eval sets.

    .venv/bin/python -m evals.links_channel

For a share of the pairs of sheets that share a tag (never a pair with the query: it is a new
sheet nobody has linked yet), the DX team is assumed to have linked them. Each query is ranked by
the shipped embedding (exact cosine), then by `coach.retrieval.links.rerank` with those links.
An upper bound: the simulated team links exactly the pairs the labels say share a problem.
"""

from __future__ import annotations

import random
from itertools import combinations
from pathlib import Path

import numpy as np

from coach.retrieval import evaluation as rev
from coach.retrieval.embeddings import ProblemNgramEmbedding
from coach.retrieval.links import LinkGraph, linked_to_top, rerank
from coach.retrieval.store import Hit
from coach.retrieval.texts import sheet_text

ROOT = Path(__file__).resolve().parents[1]
# each pool has its own tag vocabulary: the first two were tagged together, the second set on its own
POOLS = (("retrieval.jsonl", "retrieval_holdout.jsonl"), ("retrieval_holdout2.jsonl",))
SHARES = (0.0, 0.25, 0.5)
K = rev.DEPTH


def main() -> None:
    print("| links (share of same-problem pairs) | split | queries | success@3 | recall@3 | MRR |\n|---|---|---|---|---|---|")
    for names in POOLS:
        splits = {name: rev.load(ROOT / "evals" / name) for name in names if (ROOT / "evals" / name).exists()}
        if splits:
            for line in table(splits):
                print(line)


def table(splits: dict[str, list[rev.Tagged]]) -> list[str]:
    pool = [t for rows in splits.values() for t in rows]
    index = {t.id: i for i, t in enumerate(pool)}
    matrix = np.array(ProblemNgramEmbedding()([sheet_text(t.sheet) for t in pool]))
    same = [(index[a.id], index[b.id]) for a, b in combinations(pool, 2) if a.tags & b.tags]
    hits_of = [Hit(t.id, "import", i, 0.0, t.sheet.section, t.sheet.title, "") for i, t in enumerate(pool)]
    lines = []
    for share in SHARES:
        linked = random.Random(14).sample(same, round(share * len(same)))

        def ranked(q: rev.Tagged, linked: list[tuple[int, int]] = linked) -> list[str]:
            qi = index[q.id]
            scores = matrix @ matrix[qi]
            order = [i for i in np.argsort(-scores) if i != qi][:K]
            hits = [Hit(pool[i].id, "import", int(i), float(scores[i]), "", "", "") for i in order]
            graph = LinkGraph.of([p for p in linked if qi not in p])
            extra = [hits_of[i] for i in linked_to_top(hits, graph, qi)]
            return [h.ref for h in rerank(hits, graph, K, qi, extra)]

        for name, rows in splits.items():
            f = rev.score(pool, rows, ranked)
            lines.append(f"| {share:.0%} | {name} ({len(pool)} in the pool, {len(same)} same-problem pairs) | "
                         f"{int(f['queries'])} | {f['success@3']:.3f} | {f['recall@3']:.3f} | {f['mrr']:.3f} |")
    return lines


if __name__ == "__main__":
    main()
