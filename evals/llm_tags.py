"""The LLM problem tags row of evals/compare_retrieval.py (issue #14): every sheet of a pool is tagged
once by the product's tagger (coach/llm/tagger.py) over an OpenAI-compatible endpoint, then the
shipped embedding with the tags in its concept channel ranks by exact cosine. Query and pool sheets
both carry their tags, as in the product (a submitted sheet is tagged; the panel's query uses the
query sheet's stored tags).

`--cache FILE` keeps each answer (tags, outcome, seconds) as it comes, so an interrupted run resumes;
the latencies reported are those of the requests recorded in it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np

from coach.llm.client import tagger_from_settings
from coach.llm.tagger import ProblemTagger
from coach.retrieval import evaluation as rev
from coach.retrieval.embeddings import ProblemNgramEmbedding
from coach.retrieval.problem_tags import problem_digest
from coach.retrieval.texts import sheet_text
from coach.settings import Settings

ROW = "llm-tags: LLM problem tags from the closed list, in the shipped embedding's concept channel"


class TagRun:
    def __init__(self, base_url: str, model: str, method: str, cache: Path | None = None,
                 timeout: float = 600.0) -> None:
        settings = Settings(llm_base_url=base_url, llm_model=model, llm_tags=True, llm_timeout=timeout,
                            llm_structured=method, load_samples=False)  # type: ignore[arg-type]
        tagger = tagger_from_settings(settings)
        assert tagger is not None
        self.tagger: ProblemTagger = tagger
        self.cache = cache
        self.answers: dict[str, dict[str, object]] = json.loads(cache.read_text()) if cache and cache.exists() else {}

    def key(self, t: rev.Tagged) -> str:
        return hashlib.sha256(f"{self.tagger.version}\n{problem_digest(t.sheet)}".encode()).hexdigest()

    def tags(self, t: rev.Tagged) -> tuple[str, ...]:
        key = self.key(t)
        if key not in self.answers or self.answers[key]["outcome"] == "unavailable":
            answer = self.tagger.tag(t.sheet)
            self.answers[key] = {"id": t.id, "tags": list(answer.tags), "outcome": answer.outcome,
                                 "seconds": round(answer.seconds, 3)}
            if self.cache:
                self.cache.write_text(json.dumps(self.answers, ensure_ascii=False, indent=0))
            print(f"  tagged {t.id}: {answer.outcome} {list(answer.tags)} in {answer.seconds:.1f} s", flush=True)
        return tuple(str(x) for x in self.answers[key]["tags"])  # type: ignore[attr-defined]

    def score(self, pool: list[rev.Tagged], queries: list[rev.Tagged]) -> dict[str, float]:
        tags = {p.id: self.tags(p) for p in pool}
        ef = ProblemNgramEmbedding(tags_version=self.tagger.version)
        ids = [p.id for p in pool]
        matrix = np.array(ef([sheet_text(p.sheet, tags[p.id]) for p in pool]))
        vectors = dict(zip(ids, matrix, strict=True))
        return rev.score(pool, queries, lambda q: [ids[i] for i in np.argsort(-(matrix @ vectors[q.id]))])

    def report(self, pools: list[list[rev.Tagged]]) -> str:
        """How many sheets got how many tags, which tags, the outcomes and the latency of the requests."""
        keys = {self.key(t) for pool in pools for t in pool}
        answers = [self.answers[k] for k in keys if k in self.answers]
        sizes = Counter(len(a["tags"]) for a in answers)  # type: ignore[arg-type]
        names = Counter(tag for a in answers for tag in a["tags"])  # type: ignore[attr-defined]
        outcomes = Counter(str(a["outcome"]) for a in answers)
        seconds = np.array([float(a["seconds"]) for a in answers if a["outcome"] in ("ok", "invalid")])  # type: ignore[arg-type]
        lines = [f"tagged sheets: {len(answers)}; outcomes: {dict(outcomes)}",
                 "tags a sheet: " + ", ".join(f"{n}: {sizes[n]}" for n in sorted(sizes)),
                 "tags: " + ", ".join(f"{name} {count}" for name, count in names.most_common())]
        if len(seconds):
            lines.append(f"latency of {len(seconds)} requests: p50 {np.percentile(seconds, 50):.1f} s, "
                         f"p95 {np.percentile(seconds, 95):.1f} s, max {seconds.max():.1f} s")
        return "\n".join(lines)
