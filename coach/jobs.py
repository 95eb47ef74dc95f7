"""The AI coach's deep critiques as jobs kept in the database, so several workers share them.

The process that starts a job runs it in its own thread pool and writes the result into the job's
row; any process serves the progress stream by reading that row, and any process can cancel it.
A row is only ever moved out of "running" once (`UPDATE … WHERE state = 'running'`), so a late
answer never overwrites a cancel, and a cancel never overwrites an answer. A job still running
after its deadline belonged to a process that died or hung: whoever reads it then marks it failed.
Rows older than KEEP are purged whenever a job starts.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Boolean, ForeignKey, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, now

if TYPE_CHECKING:  # the critic (SudachiPy, LangChain) loads when a job runs, not with the tables
    from coach.service import CritiqueService, DeepResult
    from coach.sheet import Sheet

log = logging.getLogger("coach.jobs")
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="deep")
KEEP = timedelta(minutes=10)
State = Literal["running", "done", "failed", "cancelled"]
DIED = "AIコーチの講評を受け取れませんでした（処理していたサーバーが応答しなくなりました）。"
BROKEN = "AIコーチの講評の途中で問題が起きました。"


class DeepJobRow(Base):
    __tablename__ = "deep_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(default=None)  # who asked (None: a program on this machine)
    state: Mapped[str] = mapped_column(String(12), default="running")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[str | None] = mapped_column(Text, default=None)  # DeepResult as JSON
    error: Mapped[str | None] = mapped_column(String(300), default=None)  # Japanese, for the page
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)
    deadline_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


@dataclass(frozen=True)
class JobView:
    """A job as any process sees it."""

    id: str
    state: State
    result: DeepResult | None
    error: str
    started: datetime

    def elapsed(self) -> int:
        return max(0, int((now() - self.started).total_seconds()))


@dataclass(frozen=True)
class Started:
    """A job as the process that runs it holds it (the future serves the page without JavaScript)."""

    id: str
    future: concurrent.futures.Future[DeepResult | None]


class Jobs:
    def __init__(self, sessions: sessionmaker[Session], deadline: float = 90.0) -> None:
        self._sessions = sessions
        self.deadline = deadline  # seconds a job may run before it counts as lost

    def open(self, sheet_id: int, organisation_id: int, user_id: int | None, seconds: float | None = None) -> str:
        """Write a new running job's row (and purge old ones); returns its id."""
        job_id = uuid.uuid4().hex
        at = now()
        with self._sessions.begin() as s:
            s.execute(delete(DeepJobRow).where(DeepJobRow.created_at < at - KEEP))
            s.add(DeepJobRow(id=job_id, sheet_id=sheet_id, organisation_id=organisation_id, user_id=user_id,
                             created_at=at, deadline_at=at + timedelta(seconds=self.deadline if seconds is None
                                                                       else seconds)))
        return job_id

    def start(self, critic: CritiqueService, sheet: Sheet, references: list[Sheet], sheet_id: int,
              organisation_id: int, user_id: int | None = None) -> Started:
        job_id = self.open(sheet_id, organisation_id, user_id)
        return Started(job_id, _POOL.submit(self._run, job_id, critic, sheet, references))

    def _run(self, job_id: str, critic: CritiqueService, sheet: Sheet, references: list[Sheet]) -> DeepResult | None:
        if self._state(job_id) != "running":  # cancelled (from any process) before its turn came
            return None
        try:
            result = critic.deep(sheet, references)
        except Exception:
            log.exception("deep critique %s failed", job_id)
            self._finish(job_id, "failed", error=BROKEN)
            return None
        self._finish(job_id, "done", result=json.dumps(dump_result(result), ensure_ascii=False))
        return result

    def get(self, job_id: str, sheet_id: int, organisation_id: int) -> JobView | None:
        """The job, if it is this sheet's in this organisation. One past its deadline is failed first."""
        with self._sessions() as s:
            row = s.scalar(select(DeepJobRow).where(DeepJobRow.id == job_id[:32], DeepJobRow.sheet_id == sheet_id,
                                                    DeepJobRow.organisation_id == organisation_id))
        if row is None:
            return None
        if row.state == "running" and row.deadline_at <= now():
            self._finish(job_id, "failed", error=DIED)
            return self.get(job_id, sheet_id, organisation_id)
        result = load_result(json.loads(row.result)) if row.result else None
        return JobView(row.id, row.state, result, row.error or "", row.created_at)  # type: ignore[arg-type]

    def cancel(self, job_id: str, sheet_id: int, organisation_id: int) -> bool:
        """Cancel a running job from any process. A call already under way finishes; its answer is dropped."""
        with self._sessions.begin() as s:
            done = s.execute(update(DeepJobRow)
                             .where(DeepJobRow.id == job_id[:32], DeepJobRow.sheet_id == sheet_id,
                                    DeepJobRow.organisation_id == organisation_id, DeepJobRow.state == "running")
                             .values(state="cancelled", cancelled=True, finished_at=now())
                             .execution_options(synchronize_session=False))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def _state(self, job_id: str) -> str | None:
        with self._sessions() as s:
            return s.scalar(select(DeepJobRow.state).where(DeepJobRow.id == job_id))

    def _finish(self, job_id: str, state: State, result: str | None = None, error: str | None = None) -> None:
        with self._sessions.begin() as s:
            s.execute(update(DeepJobRow).where(DeepJobRow.id == job_id, DeepJobRow.state == "running")
                      .values(state=state, result=result, error=error, finished_at=now())
                      .execution_options(synchronize_session=False))


def dump_result(result: DeepResult) -> dict[str, Any]:
    return {"critique": result.critique.model_dump(), "rejected_total": result.critique.rejected,
            "rules_rejected": result.critique.rules_rejected, "notice": result.notice, "masked": result.masked,
            "added": result.added, "rejected": result.rejected, "invalid": result.invalid,
            "llm_raw": [f.model_dump() for f in result.llm_raw], "llm_kept": [f.model_dump() for f in result.llm_kept]}


def load_result(data: dict[str, Any]) -> DeepResult:
    from coach.findings import Critique, Finding
    from coach.service import DeepResult

    critique = Critique.model_validate(data["critique"])
    critique._rejected = int(data.get("rejected_total", 0))
    critique._rules_rejected = int(data.get("rules_rejected", 0))
    return DeepResult(critique, notice=data["notice"], masked=list(data["masked"]), added=int(data["added"]),
                      rejected=int(data["rejected"]), invalid=int(data["invalid"]),
                      llm_raw=[Finding.model_validate(f) for f in data["llm_raw"]],
                      llm_kept=[Finding.model_validate(f) for f in data["llm_kept"]])
