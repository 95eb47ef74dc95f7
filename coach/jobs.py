"""Deep critiques run in the background while the page shows progress over server-sent events."""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from dataclasses import dataclass, field

from coach.service import CritiqueService, DeepResult
from coach.sheet import Sheet

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="deep")
KEEP_SECONDS = 600


@dataclass
class Job:
    id: str
    sheet_id: int
    organisation_id: int
    future: concurrent.futures.Future[DeepResult]
    started: float = field(default_factory=time.monotonic)
    cancelled: bool = False

    def elapsed(self) -> int:
        return int(time.monotonic() - self.started)


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, critic: CritiqueService, sheet: Sheet, references: list[Sheet], sheet_id: int,
              organisation_id: int) -> Job:
        job = Job(uuid.uuid4().hex, sheet_id, organisation_id, _POOL.submit(critic.deep, sheet, references))
        with self._lock:
            now = time.monotonic()
            for key in [k for k, j in self._jobs.items() if now - j.started > KEEP_SECONDS]:
                del self._jobs[key]
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str, sheet_id: int, organisation_id: int) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.sheet_id != sheet_id or job.organisation_id != organisation_id:
            return None
        return job

    def cancel(self, job_id: str, sheet_id: int, organisation_id: int) -> bool:
        job = self.get(job_id, sheet_id, organisation_id)
        if job is None:
            return False
        job.cancelled = True
        job.future.cancel()  # a call already running finishes in the background; its answer is dropped
        return True
