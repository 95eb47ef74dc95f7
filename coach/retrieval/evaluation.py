"""Retrieval eval: do sheets about the same underlying problem find each other?

success@3: share of queries with at least one relevant sheet in the top 3.
recall@3:  share of relevant sheets in the top 3, out of min(3, number relevant).
MRR:       mean of 1 / rank of the first relevant sheet (0 past rank 20).
A query is a sheet with at least one other sheet sharing a tag; the pool is every sheet.
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
from coach.retrieval.store import Entry, SimilarStore, connector, sheet_text
from coach.sheet import Sheet

# Bars for `coach eval-retrieval --check`, set from the measurements in the README (a little below them).
THRESHOLDS = {"success@3": 0.90, "recall@3": 0.72, "mrr": 0.85}
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
                           title=p.sheet.title, status="submitted", sheet=p.sheet) for n, p in enumerate(pool, 1))
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
        "char n-gram + concepts (default)": lambda texts: np.array(ProblemNgramEmbedding()(texts)),
    }


def evaluate(main: list[Tagged], holdout: list[Tagged]) -> dict[str, dict[str, dict[str, float]]]:
    pool = main + holdout
    report: dict[str, dict[str, dict[str, float]]] = {}
    for name, embed in methods().items():
        report[name] = {"main": in_numpy(pool, main, embed), "holdout": in_numpy(pool, holdout, embed)}
    ef = ProblemNgramEmbedding()
    report["default through Chroma"] = {"main": through_chroma(pool, main, ef), "holdout": through_chroma(pool, holdout, ef)}
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
        for metric, bar in THRESHOLDS.items():
            if figures[metric] < bar:
                out.append(f"{split}: {metric} {figures[metric]:.3f} < {bar}")
    return out


def markdown(report: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = ["# Retrieval eval (whole sheet embedded, margin excluded)", "",
             "| method | split | queries | success@3 | recall@3 | MRR |", "|---|---|---|---|---|---|"]
    for name, splits in report.items():
        for split, f in splits.items():
            lines.append(f"| {name} | {split} | {int(f['queries'])} | {f['success@3']:.3f} | {f['recall@3']:.3f} | {f['mrr']:.3f} |")
    return "\n".join(lines) + "\n"
