"""Problem tags from a closed list (issue #14): an LLM reads the part of a sheet that states its
problem and picks 0–3 of the recurring municipal problems of coach/retrieval/concepts.py.

The answer is guarded (`guard`): names not in the list are dropped, duplicates too, at most
MAX_TAGS are kept, and an answer outside the schema means no tags. `ProblemTagger.tag` never raises:
a timeout, a server error or an open circuit is an outcome, and the caller goes on without tags.
Answers are remembered like the critic's (coach/llm/cache.py), under their own prompt version.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined

from coach.llm.cache import AnswerCache, MemoryCache, cache_key
from coach.llm.calling import InvalidOutput, RawCaller
from coach.llm.critic import CircuitBreaker
from coach.llm.pii import mask
from coach.retrieval.concepts import CONCEPTS, NAMES
from coach.retrieval.problem_tags import ITEM_BUDGET, ITEMS_BUDGET, TEXT_BUDGET, problem_fields
from coach.sheet import Sheet

log = logging.getLogger("coach.llm")
MAX_TAGS = 3
EXAMPLES = 4  # signal words shown to the model for each concept
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm-tags")


def schema() -> dict[str, Any]:
    """What the model must answer. Servers that enforce a schema (llama.cpp's grammar) can only
    write names from the list; others are guarded afterwards all the same."""
    return {"title": "problem_tags", "description": "シートの問題に当たる、一覧の問題の名前（0〜3個）",
            "type": "object", "required": ["tags"],
            "properties": {"tags": {"type": "array", "maxItems": MAX_TAGS,
                                    "items": {"type": "string", "enum": list(NAMES)}}}}


def _template() -> str:
    return resources.files("coach").joinpath("prompts/tags.md.j2").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def system_prompt() -> str:
    concepts = [(name, "、".join(CONCEPTS[name][:EXAMPLES])) for name in NAMES]
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    return env.from_string(_template()).render(concepts=concepts)


@lru_cache(maxsize=1)
def prompt_version() -> str:
    """tags-<sha256 of the rendered system prompt, the schema and the budgets>: any change to what the
    model reads changes it, and with it the stored tags' and the embedding's version."""
    digest = hashlib.sha256(system_prompt().encode())
    digest.update(json.dumps([schema(), TEXT_BUDGET, ITEM_BUDGET, ITEMS_BUDGET], ensure_ascii=False).encode())
    return f"tags-{digest.hexdigest()[:12]}"


def user_prompt(fields: dict[str, str]) -> str:
    lines = [f"業務・案件名: {fields['title']}", f"asis（現状）: {fields['asis']}"]
    lines += [f"problems（問題）: {v}" for k, v in fields.items() if k.startswith("problems.")]
    return "<sheet>\n" + "\n".join(lines).replace("</sheet>", "</ sheet>") + "\n</sheet>"


def guard(answer: Any) -> tuple[str, ...]:
    """The names of the closed list in an answer, in its order, each once, at most MAX_TAGS.
    Anything that is not {"tags": [...]} raises InvalidOutput."""
    tags = answer.get("tags") if isinstance(answer, dict) else None
    if not isinstance(tags, list):
        raise InvalidOutput("no tags list in the answer")
    out: list[str] = []
    for tag in tags:
        name = tag.strip() if isinstance(tag, str) else ""
        if name in CONCEPTS and name not in out:
            out.append(name)
    return tuple(out[:MAX_TAGS])


@dataclass(frozen=True)
class TagAnswer:
    tags: tuple[str, ...]
    outcome: str  # ok | cached | invalid (answered outside the schema: no tags) | unavailable
    seconds: float = 0.0

    @property
    def answered(self) -> bool:
        """The model (or the cache) gave an answer: worth storing, even when it holds no tag."""
        return self.outcome != "unavailable"


class ProblemTagger:
    def __init__(self, call: RawCaller, model: str, *, deadline: float = 30.0, mask_pii: bool = True,
                 cache: AnswerCache | None = None, breaker: CircuitBreaker | None = None) -> None:
        self.call = call
        self.model = model
        self.deadline = deadline
        self.mask_pii = mask_pii
        self.cache = cache if cache is not None else MemoryCache(256)
        self.breaker = breaker or CircuitBreaker()

    @property
    def version(self) -> str:
        """What stored tags and vectors made with them are labelled with: the prompt and the model."""
        return f"{prompt_version()}:{self.model}"[:120]

    def tag(self, sheet: Sheet) -> TagAnswer:
        fields = problem_fields(sheet)
        masked = mask(fields).text if self.mask_pii else fields
        system, user = system_prompt(), user_prompt(masked)
        key = cache_key(prompt_version(), self.model, system, user)
        cache = self.cache if self.mask_pii else None  # like the critic: unmasked text is never kept
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            return TagAnswer(guard(json.loads(hit)), "cached")
        started = time.perf_counter()
        answer = self._ask(system, user)
        seconds = time.perf_counter() - started
        log.info("llm tags %s %s in %d ms", self.model, answer.outcome, round(seconds * 1000),
                 extra={"model": self.model, "outcome": answer.outcome, "duration_ms": round(seconds * 1000)})
        if answer.outcome == "ok" and cache is not None:
            cache.put(key, json.dumps({"tags": list(answer.tags)}, ensure_ascii=False))
        return TagAnswer(answer.tags, answer.outcome, seconds)

    def _ask(self, system: str, user: str) -> TagAnswer:
        if not self.breaker.allow():
            return TagAnswer((), "unavailable")
        future = _POOL.submit(self.call, system, user)
        try:
            tags = guard(future.result(timeout=self.deadline))
        except InvalidOutput as exc:
            self.breaker.success()
            log.warning("LLM tags outside the schema (%s): %s", self.model, str(exc)[:200])
            return TagAnswer((), "invalid")
        except Exception as exc:  # timeouts, 429/5xx, connection errors: no tags now, asked again later
            future.cancel()
            self.breaker.failure()
            log.warning("LLM tags unavailable (%s): %s", self.model, str(exc)[:200])
            return TagAnswer((), "unavailable")
        self.breaker.success()
        return TagAnswer(tags, "ok")
