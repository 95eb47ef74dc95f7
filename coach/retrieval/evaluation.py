"""Retrieval eval: do sheets about the same underlying problem find each other?

success@3: share of queries with at least one relevant sheet in the top 3.
recall@3:  share of relevant sheets in the top 3, out of min(3, number relevant).
MRR:       mean of 1 / rank of the first relevant sheet (0 past rank 20).
A query is a sheet with at least one other sheet sharing a tag. Splits: `main` and `holdout`
share one pool (both files); `holdout2` and `holdout3` (independent authors, never tuned on) are each their own pool.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction

from coach.retrieval.concepts import concept_vector
from coach.retrieval.embeddings import CharNgramEmbedding, ProblemNgramEmbedding
from coach.retrieval.store import Entry, SimilarStore, connector
from coach.retrieval.texts import sheet_text
from coach.sheet import Sheet
from coach.status import SheetStatus

# Bars for `coach eval-retrieval --check`, by split, set from the measurements in the README (a little below them).
THRESHOLDS: dict[str, dict[str, float]] = {
    "main": {"success@3": 0.90, "recall@3": 0.70, "mrr": 0.80},
    "holdout": {"success@3": 0.90, "recall@3": 0.68, "mrr": 0.90},
    "holdout2": {"success@3": 0.68, "recall@3": 0.35, "mrr": 0.58},
    "holdout3": {"success@3": 0.65, "recall@3": 0.30, "mrr": 0.52},
}
DEPTH = 20


@dataclass(frozen=True)
class Tagged:
    id: str
    tags: frozenset[str]
    sheet: Sheet


def load(path: Path) -> list[Tagged]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            rows.append(Tagged(raw["id"], frozenset(raw["tags"]), Sheet.model_validate(raw["sheet"])))
    return rows


def score(pool: list[Tagged], queries: list[Tagged], ranked: Callable[[Tagged], list[str]]) -> dict[str, float]:
    hits, recalls, rrs = [], [], []
    for q in queries:
        relevant = {p.id for p in pool if p.id != q.id and p.tags & q.tags}
        if not relevant:
            continue
        order = [i for i in ranked(q) if i != q.id][:DEPTH]
        top = set(order[:3])
        hits.append(bool(top & relevant))
        recalls.append(len(top & relevant) / min(3, len(relevant)))
        rrs.append(next((1 / r for r, i in enumerate(order, 1) if i in relevant), 0.0))
    return {"queries": len(hits), "success@3": float(np.mean(hits)), "recall@3": float(np.mean(recalls)),
            "mrr": float(np.mean(rrs))}


def through_chroma(pool: list[Tagged], queries: list[Tagged], ef: EmbeddingFunction[Documents]) -> dict[str, float]:
    """The shipped path: an embedded Chroma collection, queried as the app queries it."""
    with tempfile.TemporaryDirectory(prefix="coach-reval-") as tmp:
        store = SimilarStore(connector(Path(tmp)), ef)
        store.upsert(Entry(ref=p.id, source="import", db_id=n, organisation_id=1, section=p.sheet.section,
                           title=p.sheet.title, status=SheetStatus.SUBMITTED, sheet=p.sheet) for n, p in enumerate(pool, 1))
        return score(pool, queries, lambda q: [h.ref for h in store.query(1, q.sheet, k=DEPTH + 1)])


def in_numpy(pool: list[Tagged], queries: list[Tagged], embed: Callable[[list[str]], np.ndarray]) -> dict[str, float]:
    """Exact cosine search over the same vectors: for comparing methods without a store."""
    ids = [p.id for p in pool]
    matrix = embed([sheet_text(p.sheet) for p in pool])
    vectors = dict(zip(ids, matrix, strict=True))
    return score(pool, queries, lambda q: [ids[i] for i in np.argsort(-(matrix @ vectors[q.id]))])


def methods() -> dict[str, Callable[[list[str]], np.ndarray]]:
    char = CharNgramEmbedding()
    return {
        "char n-gram only": lambda texts: np.array(char(texts)),
        "problem concepts only": lambda texts: np.array([concept_vector(t) for t in texts]),
        "char n-gram + concepts, fields weighted (default)": lambda texts: np.array(ProblemNgramEmbedding()(texts)),
    }


Splits = dict[str, tuple[list[Tagged], list[Tagged]]]


def splits(main: list[Tagged], holdout: list[Tagged], holdout2: list[Tagged] | None = None,
           holdout3: list[Tagged] | None = None) -> Splits:
    """Split name → (pool, queries). Held-out sets 2 and 3 are each their own pool."""
    out: Splits = {"main": (main + holdout, main), "holdout": (main + holdout, holdout)}
    if holdout2:
        out["holdout2"] = (holdout2, holdout2)
    if holdout3:
        out["holdout3"] = (holdout3, holdout3)
    return out


def evaluate(main: list[Tagged], holdout: list[Tagged], holdout2: list[Tagged] | None = None,
             holdout3: list[Tagged] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    sets = splits(main, holdout, holdout2, holdout3)
    report: dict[str, dict[str, dict[str, float]]] = {}
    for name, embed in methods().items():
        report[name] = {split: in_numpy(pool, queries, embed) for split, (pool, queries) in sets.items()}
    ef = ProblemNgramEmbedding()
    report["default through Chroma"] = {split: through_chroma(pool, queries, ef)
                                        for split, (pool, queries) in sets.items()}
    return report


def evaluate_sets(sets: dict[str, list[Tagged]]) -> dict[str, dict[str, dict[str, float]]]:
    """The shipped method through Chroma on other labelled sets (e.g. `coach export-links`); the pool is all of them."""
    pool = [t for rows in sets.values() for t in rows]
    ef = ProblemNgramEmbedding()
    return {"default through Chroma": {name: through_chroma(pool, rows, ef) for name, rows in sets.items()}}


def has_queries(rows: list[Tagged]) -> bool:
    """At least one sheet shares a tag with another: something to score."""
    return any(p.id != q.id and p.tags & q.tags for q in rows for p in rows)


def failures(report: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    out = []
    for split, figures in report["default through Chroma"].items():
        for metric, bar in THRESHOLDS.get(split, {}).items():
            if figures[metric] < bar:
                out.append(f"{split}: {metric} {figures[metric]:.3f} < {bar}")
    return out


def markdown(report: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = ["# Retrieval eval (margin excluded; title, AsIs and problems weigh more than ToBe, purpose and tasks)", "",
             "| method | split | queries | success@3 | recall@3 | MRR |", "|---|---|---|---|---|---|"]
    for name, splits in report.items():
        for split, f in splits.items():
            lines.append(f"| {name} | {split} | {int(f['queries'])} | {f['success@3']:.3f} | {f['recall@3']:.3f} | {f['mrr']:.3f} |")
    return "\n".join(lines) + "\n"


def calibrate(pool: list[Tagged], ef: EmbeddingFunction[Documents], width: float = 0.05,
              factor: float = 3.0) -> tuple[float, list[tuple[float, int, float]]]:
    """The panel's score floor: the lowest bucket edge from which every bucket of `width` holds
    relevant pairs at `factor` × the base rate or more (below it a match means about nothing).

    Returns the floor and the table (bucket start, pairs, share relevant) it was read from.
    """
    matrix = np.array(ef([sheet_text(p.sheet) for p in pool]), dtype=np.float32)
    scores = matrix @ matrix.T
    upper = np.triu_indices(len(pool), 1)
    relevant = np.array([[bool(a.tags & b.tags) for b in pool] for a in pool])[upper]
    s = scores[upper]
    base = float(relevant.mean())
    table = []
    for start in np.arange(0.0, 1.0, width):
        inside = (s >= start) & (s < start + width)
        if inside.any():
            table.append((round(float(start), 2), int(inside.sum()), float(relevant[inside].mean())))
    floor = 0.0
    for start, _, share in table:  # the last bucket under the bar sets the floor
        if share < factor * base:
            floor = round(start + width, 2)
    return floor, table
