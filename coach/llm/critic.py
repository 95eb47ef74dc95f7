"""The LLM critic: mask → prompt → typed answer (retried once) → unmask → findings for the guard.

Failures never reach the user as errors: timeouts and server errors are retried once with backoff,
repeated failures open a circuit breaker, and the caller keeps the rules' feedback either way.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field

from coach.findings import Finding, severity_of
from coach.llm.cache import AnswerCache, MemoryCache, cache_key
from coach.llm.calling import Caller, InvalidOutput
from coach.llm.pii import Masked, mask
from coach.llm.prompts import prompt_version, render, sheet_block
from coach.llm.schema import LLMCritique
from coach.sheet import LIST_FIELDS, Sheet

log = logging.getLogger("coach.llm")
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm")


class LLMUnavailable(RuntimeError):
    """The model could not answer now. `notice` is what the user reads."""

    def __init__(self, notice: str, reason: str = "") -> None:
        super().__init__(reason or notice)
        self.notice = notice


@dataclass
class LLMAnswer:
    findings: list[Finding]
    masked: list[str] = field(default_factory=list)  # kinds of personal data kept from the model
    invalid: int = 0  # answers outside the schema (retried/dropped)
    dropped: int = 0  # findings dropped while converting (e.g. unknown row)
    cached: bool = False


class CircuitBreaker:
    """After `threshold` failures in a row, refuse calls for `cooldown` seconds."""

    def __init__(self, threshold: int = 3, cooldown: float = 60.0) -> None:
        self.threshold, self.cooldown = threshold, cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at >= self.cooldown:
                self.opened_at = None  # half-open: let one try through
                self.failures = self.threshold - 1
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self.failures, self.opened_at = 0, None

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = time.monotonic()


class LLMCritic:
    def __init__(self, call: Caller, model: str, *, mask_pii: bool = True, retries: int = 1,
                 backoff: float = 1.0, breaker: CircuitBreaker | None = None, cache_size: int = 256,
                 deadline: float = 30.0, cache: AnswerCache | None = None) -> None:
        self.call = call
        # The HTTP client's timeout is per read: a server trickling bytes could hold a call forever.
        self.deadline = deadline
        self.model = model
        self.name = f"llm:{model}"
        self.mask_pii = mask_pii
        self.retries = retries
        self.backoff = backoff
        self.breaker = breaker or CircuitBreaker()
        # Masked answers only (coach/llm/cache.py): without masking, nothing is remembered.
        self.cache: AnswerCache | None = cache or (MemoryCache(cache_size) if cache_size > 0 else None)

    @property
    def prompt_version(self) -> str:
        return prompt_version()

    def critique(self, sheet: Sheet, references: list[Sheet] | None = None) -> LLMAnswer:
        references = references or []
        system, user, masked = self._prompt(sheet, references)
        cache = self.cache if masked is not None else None
        key = cache_key(prompt_version(), self.model, system, user)
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            stored = json.loads(hit)
            answer = self._convert(LLMCritique.model_validate(stored["answer"]), sheet, masked)
            answer.invalid, answer.cached = int(stored["invalid"]), True
            return answer
        started = time.perf_counter()
        outcome = "error"
        try:
            parsed, invalid = self._ask(system, user)
            outcome = "invalid" if parsed is None else "ok"
        except LLMUnavailable:
            outcome = "unavailable"
            raise
        finally:  # duration and outcome only: never the sheet's text or the model's words
            ms = round((time.perf_counter() - started) * 1000)
            log.info("llm call %s %s in %d ms", self.model, outcome, ms,
                     extra={"model": self.model, "outcome": outcome, "duration_ms": ms})
        if parsed is None:  # retried once and still outside the schema: dropped, never shown raw
            return LLMAnswer(findings=[], masked=_kinds(masked), invalid=invalid)
        if cache is not None:
            cache.put(key, json.dumps({"answer": parsed.model_dump(), "invalid": invalid}, ensure_ascii=False))
        answer = self._convert(parsed, sheet, masked)
        answer.invalid = invalid
        return answer

    def _prompt(self, sheet: Sheet, references: list[Sheet]) -> tuple[str, str, Masked | None]:
        """The system and user messages as the model will read them, personal data masked."""
        fields = {"section": sheet.section, "title": sheet.title, "asis": sheet.asis, "tobe": sheet.tobe,
                  "purpose": sheet.purpose}
        fields |= {f"problems.{i}": p for i, p in enumerate(sheet.problems)}
        fields |= {f"tasks.{i}": t for i, t in enumerate(sheet.tasks)}
        masked = mask(fields) if self.mask_pii else None
        text = masked.text if masked else fields
        view = {"section": text["section"], "title": text["title"], "asis": text["asis"], "tobe": text["tobe"],
                "purpose": text["purpose"],
                "problems": [text[f"problems.{i}"] for i in range(len(sheet.problems))],
                "tasks": [text[f"tasks.{i}"] for i in range(len(sheet.tasks))]}
        refs = []
        for ref in references:  # past sheets are data too, and their people stay home as well
            ref_fields = {"s": sheet_block(ref, budget=0.4)}
            refs.append(mask(ref_fields).text["s"] if self.mask_pii else ref_fields["s"])
        system, user = render(sheet_block(view), refs)
        return system, user, masked

    def _ask(self, system: str, user: str) -> tuple[LLMCritique | None, int]:
        """The model's typed answer (None when it stayed outside the schema) and how many answers were."""
        if not self.breaker.allow():
            raise LLMUnavailable("AIコーチは今、応答が続けて失敗したため休止しています。しばらくしてからお試しください。",
                                 "circuit open")
        invalid = 0
        attempt = 0
        end = time.monotonic() + self.deadline  # one deadline for the whole call, retries and backoff included
        while True:
            try:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer within {self.deadline:g} s")
                future = _POOL.submit(self.call, system, user)
                try:
                    parsed = future.result(timeout=left)
                except concurrent.futures.TimeoutError as exc:
                    future.cancel()
                    raise TimeoutError(f"no answer within {self.deadline:g} s") from exc
                self.breaker.success()
                break
            except InvalidOutput as exc:
                invalid += 1
                log.warning("LLM answer outside the schema (%s): %s", self.model, str(exc)[:200])
                if invalid > 1:  # retried once; drop, never show raw
                    self.breaker.success()
                    return None, invalid
            except Exception as exc:  # timeouts, 429/5xx, connection errors
                attempt += 1
                log.warning("LLM call failed (%s, try %d): %s", self.model, attempt, exc)
                pause = self.backoff * attempt
                if attempt > self.retries or time.monotonic() + pause >= end:
                    self.breaker.failure()
                    raise LLMUnavailable("AIコーチに今はつながりません。ルールによる指摘はそのまま使えます。",
                                         str(exc)) from exc
                time.sleep(pause)
        return parsed, invalid

    def _convert(self, parsed: LLMCritique, sheet: Sheet, masked: Masked | None) -> LLMAnswer:
        """The model's findings read back against the sheet that asked: unmasked, rows and evidence checked."""
        findings, dropped = [], 0
        unmask = masked.unmask if masked else (lambda s: s)
        for f in parsed.findings:
            evidence = _snap(unmask(f.evidence), sheet.text_of(f.field) if f.field not in LIST_FIELDS else "")
            item = None
            if f.field in LIST_FIELDS:
                item = _row(getattr(sheet, f.field), f.item, evidence)
                if item is None:
                    dropped += 1
                    continue
                evidence = _snap(evidence, getattr(sheet, f.field)[item])
            findings.append(Finding(code=f.code, field=f.field, item=item, severity=severity_of(f.code),
                                    evidence=evidence, message=unmask(f.message), question=unmask(f.question)))
        return LLMAnswer(findings=findings, masked=_kinds(masked), dropped=dropped)


_LABEL = re.compile(r"^\s*(?:asis|tobe|purpose|problems\[\d+\]|tasks\[\d+\])?\s*（[^）]*）\s*[:：]\s*")


def _snap(evidence: str, source: str) -> str:
    """Evidence the model copied with the line's label or quote marks around it, cut back to the
    verbatim text. Nothing is invented: if the trimmed text is not in the field, it stays as it was
    (and the guard rejects it)."""
    if not source or evidence in source:
        return evidence
    trimmed = _LABEL.sub("", evidence).strip().strip("「」『』\"'")
    return trimmed if trimmed and trimmed in source else evidence


def _row(items: list[str], item: int | None, evidence: str) -> int | None:
    """The row a list finding points at: the model's number if the evidence is there, else the one
    row that holds the evidence verbatim, else none (the finding is dropped)."""
    if item is not None and 0 <= item < len(items) and _snap(evidence, items[item]) in items[item]:
        return item
    holders = [i for i, text in enumerate(items) if evidence and _snap(evidence, text) in text]
    return holders[0] if len(holders) == 1 else None


def _kinds(masked) -> list[str]:  # type: ignore[no-untyped-def]
    if masked is None:
        return []
    kinds: list[str] = []
    for kind, _ in masked.summary():
        if kind not in kinds:
            kinds.append(kind)
    return kinds
