"""Answers of the model, remembered so the same question is not asked twice.

The key is a SHA-256 of the prompt's version, the model and the prompt exactly as sent — that is,
after personal data was masked — and the value is the model's answer as it came back, still
masked. Nothing in a cache is personal data the model did not see: the answer is unmasked again
for the sheet that asks, so two sheets that differ only in a masked name share one answer, each
reading its own name. With masking off (COACH_LLM_MASK_PII=false) nothing is cached.

Two kinds: `MemoryCache` for one process (the CLI's evaluations), `DatabaseCache` for the web
service, shared by all its workers and replicas, bounded by age and by count.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, now

MAX_AGE = timedelta(days=7)
MAX_ROWS = 2000


def cache_key(prompt_version: str, model: str, system: str, user: str) -> str:
    raw = "\x1f".join((prompt_version, model, system, user))
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


class AnswerCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, answer: str) -> None: ...


class MemoryCache:
    """Least recently used, in this process only."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: str, answer: str) -> None:
        with self._lock:
            self._items[key] = answer
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class LLMCacheRow(Base):
    __tablename__ = "llm_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer: Mapped[str] = mapped_column(Text)  # the model's answer as JSON, masked as the model wrote it
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)


class DatabaseCache:
    """Shared by every process on the database. Entries older than `max_age` are not used and are
    purged when an answer is written, as are the oldest beyond `max_rows`."""

    def __init__(self, sessions: sessionmaker[Session], max_age: timedelta = MAX_AGE, max_rows: int = MAX_ROWS) -> None:
        self._sessions = sessions
        self.max_age, self.max_rows = max_age, max_rows

    def get(self, key: str) -> str | None:
        with self._sessions() as s:
            return s.scalar(select(LLMCacheRow.answer).where(LLMCacheRow.key == key,
                                                             LLMCacheRow.created_at >= now() - self.max_age))

    def put(self, key: str, answer: str) -> None:
        try:
            with self._sessions.begin() as s:
                s.execute(delete(LLMCacheRow).where(LLMCacheRow.key == key))
                s.add(LLMCacheRow(key=key, answer=answer))
        except IntegrityError:  # another worker wrote the same answer a moment ago
            return
        self._purge()

    def count(self) -> int:
        with self._sessions() as s:
            return int(s.scalar(select(func.count()).select_from(LLMCacheRow)) or 0)

    def _purge(self) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(LLMCacheRow).where(LLMCacheRow.created_at < now() - self.max_age))
            cutoff = s.scalar(select(LLMCacheRow.created_at).order_by(LLMCacheRow.created_at.desc())
                              .offset(self.max_rows).limit(1))
            if cutoff is not None:
                s.execute(delete(LLMCacheRow).where(LLMCacheRow.created_at <= cutoff))
