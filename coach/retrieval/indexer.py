"""Draining the index outbox (coach/outbox.py) into the vector store, in the background or once.

`Indexer.drain` claims pending rows, reads each sheet as the database has it now, embeds and upserts
them in one batch (or removes the vectors of sheets that are gone), then removes the rows. A failure
is recorded on the rows, which are retried with backoff; it is never raised to a request.
`IndexWorker` runs the drain in a thread of the server process: woken after a save, and every
`poll` seconds anyway, so rows queued by another process or left while the store was down are
caught up without any request.

With LLM problem tags on (COACH_LLM_TAGS, coach/retrieval/problem_tags.py) each entry carries the
sheet's stored tags, and a submitted sheet with none for its text is asked for them *after* its vector
is updated, then indexed again with them: the save and the submit never wait for the model. When the
model cannot answer, the sheet keeps its vector without tags and its row is retried with backoff.
A slow model never outlasts the drainer's claim: a sheet is asked only while the claim has room for
the longest answer, and the rows not reached are released (already indexed, without tags) so this or
another drainer asks for them under a new claim — no drainer repeats another's work.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from coach.background import BackgroundLoop
from coach.db import now
from coach.outbox import Outbox, Pending
from coach.repository import SheetNotFound, SheetRepository, StoredSheet
from coach.retrieval.entries import entry_of
from coach.retrieval.store import IndexMismatch, SimilarStore, StoreUnavailable
from coach.status import SheetStatus

if TYPE_CHECKING:
    from coach.retrieval.problem_tags import ProblemTags

log = logging.getLogger("coach.retrieval")
WORKER_NAME = "coach-index-worker"
ROOM = timedelta(seconds=10)  # kept on a claim beyond the model's longest answer (storing the tags, a slow clock)


@dataclass
class Drained:
    done: int = 0
    failed: int = 0
    untagged: int = 0  # indexed, but the model gave no problem tags yet: queued again for them
    released: int = 0  # indexed; their tags are asked under a new claim (this one had no room left)

    def __iadd__(self, other: Drained) -> Drained:
        self.done += other.done
        self.failed += other.failed
        self.untagged += other.untagged
        self.released += other.released
        return self


class Indexer:
    def __init__(self, outbox: Outbox, repo: SheetRepository, store: SimilarStore, batch: int = 50,
                 tags: ProblemTags | None = None) -> None:
        self.outbox = outbox
        self.repo = repo
        self.store = store
        self.batch = batch
        self.tags = tags

    def drain(self, due_only: bool = True, max_rounds: int = 1000, stop: threading.Event | None = None) -> Drained:
        """Claim and process batches until none is left (bounded by `max_rounds`). A batch that fails
        stays pending with its error, and this drain ends: the store is not hammered while down."""
        total = Drained()
        for _ in range(max_rounds):
            if stop is not None and stop.is_set():
                break
            claimed = self.outbox.claim(self.batch, due_only=due_only)
            if not claimed:
                break
            result = self._process(claimed)
            total += result
            if result.failed or result.untagged:
                break
        return total

    def _process(self, claimed: list[Pending]) -> Drained:
        present: list[tuple[Pending, StoredSheet]] = []
        gone: list[Pending] = []
        for item in claimed:
            try:
                present.append((item, self.repo.get(item.sheet_id, item.organisation_id)))
            except SheetNotFound:
                gone.append(item)
        known = self.tags.stored((stored.id, stored.sheet) for _, stored in present) if self.tags else {}
        try:
            self.store.upsert(entry_of(stored, known.get(stored.id, ())) for _, stored in present)
            for org in {item.organisation_id for item in gone}:
                self.store.delete(org, (item.sheet_id for item in gone if item.organisation_id == org))
        except (StoreUnavailable, IndexMismatch) as exc:
            log.warning("similar-sheet index not updated (%d pending, retried later): %s", len(claimed), exc)
            for item in claimed:
                self.outbox.failed(item, f"{type(exc).__name__}: {exc}")
            return Drained(failed=len(claimed))
        untagged = released = asked = 0
        for item, stored in present:
            if self.tags and stored.status == SheetStatus.SUBMITTED and stored.id not in known:
                if asked and not self._room_to_ask(item):  # the first is always asked: every claim progresses
                    self.outbox.release(item)
                    released += 1
                    continue
                asked += 1
                error = self._tag(stored)
                if error:
                    self.outbox.failed(item, error)  # asked again after its backoff
                    untagged += 1
                    continue
            self.outbox.done(item)
        for item in gone:
            self.outbox.done(item)
        return Drained(done=len(claimed) - untagged - released, untagged=untagged, released=released)

    def _room_to_ask(self, item: Pending) -> bool:
        """Whether the claim on `item` outlasts the model's longest answer (another drainer may take the row
        once it ends, and would ask again)."""
        assert self.tags is not None
        return item.claimed_until is None or now() + self.tags.longest_answer + ROOM <= item.claimed_until

    def _tag(self, stored: StoredSheet) -> str:
        """Ask the model for a submitted sheet's tags and index it again with them; the error, or ""."""
        assert self.tags is not None
        answer = self.tags.ask(stored.id, stored.version, stored.sheet)
        if not answer.answered:
            log.warning("LLM problem tags of sheet %d not available now (retried later)", stored.id)
            return "LLM problem tags: the model did not answer (retried later)"
        if answer.tags:
            try:
                self.store.upsert([entry_of(stored, answer.tags)])
            except (StoreUnavailable, IndexMismatch) as exc:
                return f"{type(exc).__name__}: {exc}"
        return ""


class IndexWorker(BackgroundLoop):
    """The drain in a thread of the server process. `settle` lets a burst of autosaves coalesce first;
    `stop` finishes the batch in hand (rows not reached stay queued for the next start)."""

    def __init__(self, indexer: Indexer, poll: float = 2.0, settle: float = 0.5) -> None:
        super().__init__(WORKER_NAME, self._drain, log, "index worker: draining the outbox failed", poll, settle)
        self.indexer = indexer

    def _drain(self) -> None:
        self.indexer.drain(stop=self.stopping)
