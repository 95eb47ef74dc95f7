"""Reproduce the README's table of similar-sheet methods, including methods that are not shipped.

    .venv/bin/python -m evals.compare_retrieval                     # every row
    .venv/bin/python -m evals.compare_retrieval --rows shipped multi-vector
    .venv/bin/python -m evals.compare_retrieval --rows endpoint --embedding-url http://127.0.0.1:8097/v1 \
        --sets holdout2 --cache /tmp/coach-endpoint-vectors.json   # an OpenAI-compatible /embeddings endpoint
    .venv/bin/python -m evals.compare_retrieval --rows llm-tags --llm-url http://127.0.0.1:8093/v1 \
        --sets holdout2 --cache /tmp/coach-llm-tags.json            # LLM problem tags (evals/llm_tags.py)

Splits: main and holdout (pool: both files), dev2 and dev3 (each its own pool; tuning data written for
issue 14), holdout2 and holdout3 (each its own pool; independent authors' sets, never tuned on: only reported).
Single-vector rows use exact cosine in numpy (the same ranking Chroma's cosine index gives on sets
this small); the multi-vector row goes through a real Chroma collection, one record per problem row.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from coach.retrieval import evaluation as rev
from coach.retrieval.concepts import LEXICON, Lexicon
from coach.retrieval.embeddings import (
    CONCEPT_FIELD_WEIGHTS,
    UNIFORM,
    CharNgramEmbedding,
    OpenAICompatibleEmbedding,
    ProblemNgramEmbedding,
)
from coach.retrieval.store import connector
from evals.concepts_v2 import CONCEPTS_V2
from evals.llm_tags import ROW as LLM_TAGS_ROW
from evals.llm_tags import TagRun

ROOT = Path(__file__).resolve().parents[1]
Embed = Callable[[list[str]], np.ndarray]
PROBLEM_ONLY = {"title": 1.0, "asis": 1.0, "problems": 1.0, "tobe": 0.0, "purpose": 0.0, "tasks": 0.0}


V2 = Lexicon(CONCEPTS_V2)


def _concepts(lexicon: Lexicon, fields: dict[str, float]) -> Embed:
    from coach.retrieval.embeddings import _parts

    return lambda texts: np.array([lexicon.vector(_parts(t, fields)) for t in texts])


def _two_channels(concept_weight: float, lexicon: Lexicon | None = None, char_fields: dict[str, float] | None = None,
                  concept_fields: dict[str, float] | None = None) -> Embed:
    ef = ProblemNgramEmbedding(concept_weight=concept_weight, lexicon=lexicon, char_fields=char_fields,
                               concept_fields=concept_fields)
    return lambda texts: np.array(ef(texts))


def single_vector_rows() -> dict[str, Embed]:
    char = CharNgramEmbedding()
    return {
        "char n-grams, whole sheet": lambda texts: np.array(char(texts)),
        "concepts v2 only, whole sheet": _concepts(V2, UNIFORM),
        "char + concepts v2, whole sheet": _two_channels(0.5, V2, UNIFORM, UNIFORM),
        "char + concepts v2, title+AsIs+problems only": _two_channels(0.5, V2, PROBLEM_ONLY, PROBLEM_ONLY),
        "char + concepts v2, fields weighted, concepts 0.5 (shipped before v3)": _two_channels(0.5, V2),
        "concepts v3 only, fields weighted": _concepts(LEXICON, CONCEPT_FIELD_WEIGHTS),
        "char + concepts v3, fields weighted, concepts 0.5": _two_channels(0.5),
        "char + concepts v3, fields weighted, concepts 0.3 (shipped)": lambda t: np.array(ProblemNgramEmbedding()(t)),
    }


class EndpointVectors:
    """The product's OpenAICompatibleEmbedding, one sheet a request (so each request is one panel query's
    embedding), each distinct text embedded once and optionally kept in a JSON file between runs.
    `latencies` holds the seconds of every request actually made (cached texts are not timed)."""

    def __init__(self, base_url: str, model: str, cache: Path | None = None) -> None:
        self.ef = OpenAICompatibleEmbedding(model=model, base_url=base_url, timeout=600.0)
        self.cache = cache
        self.vectors: dict[str, list[float]] = json.loads(cache.read_text()) if cache and cache.exists() else {}
        self.latencies: list[float] = []

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.ef.model}\n{self.ef.base_url}\n{text}".encode()).hexdigest()

    def __call__(self, texts: list[str]) -> np.ndarray:
        for text in texts:
            if self.key(text) not in self.vectors:
                start = time.perf_counter()
                vector = self.ef([text])[0]
                self.latencies.append(time.perf_counter() - start)
                if vector.ndim != 1:
                    raise RuntimeError(f"the endpoint returned a {vector.shape} array, not one vector a text "
                                       "(per-token embeddings: the server does no pooling)")
                self.vectors[self.key(text)] = [float(x) for x in vector]
                if self.cache:
                    self.cache.write_text(json.dumps(self.vectors))
        matrix = np.array([self.vectors[self.key(t)] for t in texts], dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


ENDPOINT_ROW = "embeddings endpoint (OpenAI-compatible, --embedding-url)"


def multi_vector(pool: list[rev.Tagged], queries: list[rev.Tagged]) -> dict[str, float]:
    """One Chroma record per problem row (and one for AsIs), best-row match, deduplicated by sheet."""
    ef = ProblemNgramEmbedding()

    def rows(t: rev.Tagged) -> list[str]:
        return [r for r in [t.sheet.title + "\n" + t.sheet.asis, *t.sheet.problems] if r.strip()]

    with tempfile.TemporaryDirectory(prefix="coach-multivec-") as tmp:
        client = connector(Path(tmp))()
        col = client.create_collection("rows", configuration={"hnsw": {"space": "cosine"}})
        ids, docs, metas = [], [], []
        for p in pool:
            for n, r in enumerate(rows(p)):
                ids.append(f"{p.id}#{n}")
                docs.append(r)
                metas.append({"sheet": p.id})
        col.add(ids=ids, embeddings=[np.asarray(v) for v in ef(docs)], metadatas=metas, documents=docs)

        def ranked(q: rev.Tagged) -> list[str]:
            result = col.query(query_embeddings=[np.asarray(v) for v in ef(rows(q))], n_results=min(60, len(ids)),
                               include=["metadatas", "distances"])
            best: dict[str, float] = {}
            for metas_q, dists_q in zip(result["metadatas"] or [], result["distances"] or [], strict=True):
                for meta, dist in zip(metas_q, dists_q, strict=True):
                    sheet = str(meta["sheet"])
                    best[sheet] = max(best.get(sheet, -1.0), 1.0 - float(dist))
            return sorted(best, key=lambda s: -best[s])

        return rev.score(pool, queries, ranked)


def splits() -> rev.Splits:
    main = rev.load(ROOT / "evals/retrieval.jsonl")
    holdout = rev.load(ROOT / "evals/retrieval_holdout.jsonl")
    out = rev.splits(main, holdout, rev.load(ROOT / "evals/retrieval_holdout2.jsonl"))
    dev2 = rev.load(ROOT / "evals/retrieval_dev2.jsonl")
    dev3 = rev.load(ROOT / "evals/retrieval_dev3.jsonl")
    holdout3 = rev.load(ROOT / "evals/retrieval_holdout3.jsonl")
    return {"main": out["main"], "holdout": out["holdout"], "dev2": (dev2, dev2), "dev3": (dev3, dev3),
            "holdout2": out["holdout2"], "holdout3": (holdout3, holdout3)}


ROWS = [*single_vector_rows(), "multi-vector (rows, best match, Chroma)", "shipped through Chroma", ENDPOINT_ROW,
        LLM_TAGS_ROW]


def row(name: str, sets: rev.Splits, endpoint: EndpointVectors | None = None,
        tagging: TagRun | None = None) -> dict[str, dict[str, float]]:
    if name == LLM_TAGS_ROW:
        if tagging is None:
            raise SystemExit("the LLM tags row needs --llm-url")
        return {s: tagging.score(pool, queries) for s, (pool, queries) in sets.items()}
    if name == ENDPOINT_ROW:
        if endpoint is None:
            raise SystemExit("the endpoint row needs --embedding-url")
        return {s: rev.in_numpy(pool, queries, endpoint) for s, (pool, queries) in sets.items()}
    single = single_vector_rows()
    if name in single:
        return {s: rev.in_numpy(pool, queries, single[name]) for s, (pool, queries) in sets.items()}
    if name.startswith("multi-vector"):
        return {s: multi_vector(pool, queries) for s, (pool, queries) in sets.items()}
    ef = ProblemNgramEmbedding()
    return {s: rev.through_chroma(pool, queries, ef) for s, (pool, queries) in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", nargs="*", help="words that select rows by name (default: every row)")
    parser.add_argument("--calibrate", action="store_true", help="the panel's score floor, from evals/retrieval.jsonl")
    parser.add_argument("--sets", nargs="*", help="splits to score (default: main holdout dev2 dev3 holdout2 holdout3)")
    parser.add_argument("--embedding-url", help="base URL of an OpenAI-compatible /embeddings endpoint (endpoint row)")
    parser.add_argument("--embedding-model", default="qwen2.5-coder-1.5b-q4", help="model name sent to the endpoint")
    parser.add_argument("--cache", type=Path, help="JSON file keeping the endpoint's vectors (or the LLM's tags) "
                                                   "between runs")
    parser.add_argument("--llm-url", help="base URL of an OpenAI-compatible chat endpoint (LLM tags row)")
    parser.add_argument("--llm-model", default="qwen2.5-coder-1.5b-q4", help="model name sent to the chat endpoint")
    parser.add_argument("--llm-method", default="json_object_schema",
                        help="structured output method (COACH_LLM_STRUCTURED); llama.cpp enforces json_object_schema")
    args = parser.parse_args()
    if args.calibrate:
        floor, table = rev.calibrate(rev.load(ROOT / "evals/retrieval.jsonl"), ProblemNgramEmbedding())
        print("| score | pairs | share relevant |\n|---|---|---|")
        for start, pairs, share in table:
            print(f"| {start:.2f}– | {pairs} | {share:.2f} |")
        print(f"\nfloor: {floor:.2f} (coach/retrieval/panel.py MIN_SCORE)")
        return
    names = [r for r in ROWS if not args.rows or any(w.lower() in r.lower() for w in args.rows)]
    if not args.embedding_url:
        names = [r for r in names if r != ENDPOINT_ROW]
    if not args.llm_url:
        names = [r for r in names if r != LLM_TAGS_ROW]
    endpoint = EndpointVectors(args.embedding_url, args.embedding_model, args.cache) if args.embedding_url else None
    tagging = TagRun(args.llm_url, args.llm_model, args.llm_method, args.cache) if args.llm_url else None
    sets = {s: v for s, v in splits().items() if not args.sets or s in args.sets}
    print("| method | " + " | ".join(f"{s} s@3 / r@3 / MRR" for s in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for name in names:
        figures = row(name, sets, endpoint, tagging)
        cells = [f"{f['success@3']:.3f} / {f['recall@3']:.3f} / {f['mrr']:.3f}" for f in figures.values()]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    if endpoint and endpoint.latencies:
        ms = np.array(endpoint.latencies) * 1000
        print(f"\nendpoint requests: {len(ms)} (one sheet each), p50 {np.percentile(ms, 50):.0f} ms, "
              f"p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms")
    if tagging and LLM_TAGS_ROW in names:
        print("\n" + tagging.report([pool for pool, _ in sets.values()]))


if __name__ == "__main__":
    main()
