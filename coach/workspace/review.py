"""The DX team's review of submitted sheets: flags, comments, verdicts on findings, decisions, audit log.

A sheet's content lives in `sheets`/`sheet_versions`; everything about its review lives here, in
tables of its own, so an older database only gains tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, SheetRow, now
from coach.errors import BadInput, FieldError
from coach.findings import FIELDS_OF, Finding, counts, severity_of
from coach.sheet import FIELDS, LABELS, Sheet
from coach.status import REVIEW_STATE_LABELS, ReviewState
from coach.workspace.accounts import Account
from coach.workspace.audit import AuditEntry, AuditRow, read_entries, write_audit
from coach.workspace.audit_events import AuditEvent, Commented, Confirmed, Dismissed, Missed

__all__ = ["AuditEntry", "AuditRow", "write_audit"]  # their home is coach/workspace/audit.py

FLAGS = {
    "errors": "要見直しの指摘が残っている",  # the editor's word for an error finding
    "llm_unavailable": "AIコーチが使えなかった",
    "hearing": "ヒアリング希望",
}
STATES = REVIEW_STATE_LABELS  # reviews.state -> its label (coach/status.py)
VERDICTS = {"confirmed": "指摘どおり", "dismissed": "指摘は不要", "added": "見落とし（レビューで追加）"}
COMMENT_FIELDS = ("general", "title", *FIELDS)


class ReviewRow(Base):
    __tablename__ = "reviews"
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=ReviewState.WAITING.value)
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    submitted_version: Mapped[int] = mapped_column(Integer, default=1)
    hearing: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated FLAGS keys
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str] = mapped_column(String(100), default="rules")
    findings: Mapped[str] = mapped_column(Text, default="[]")  # what the critics said at submit time
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    # the version last accepted: set by 受理する, kept through a revision (coach/workspace/submission.py)
    accepted_version: Mapped[int | None] = mapped_column(Integer, default=None)


class CommentRow(Base):
    __tablename__ = "review_comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(20))
    item: Mapped[int | None] = mapped_column(Integer, default=None)
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=now)


class LabelRow(Base):
    """A reviewer's verdict on one finding of one version: labelled data for the evals."""

    __tablename__ = "finding_labels"
    __table_args__ = (UniqueConstraint("sheet_id", "version", "code", "field", "item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(20))
    item: Mapped[int | None] = mapped_column(Integer, default=None)
    evidence: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=now)


@dataclass(frozen=True)
class Review:
    sheet_id: int
    state: str
    submitted_at: datetime
    submitted_version: int
    hearing: bool
    flags: list[str]
    errors: int
    warnings: int
    engine: str
    decided_at: datetime | None
    decided_by: str | None
    findings_json: str = "[]"  # the findings as stored: listing pages read the counts, not these
    accepted_version: int | None = None

    @cached_property
    def findings(self) -> list[Finding]:
        """The findings stored at submit time, decoded when first asked for (one review page, not a queue)."""
        return [Finding.model_validate(f) for f in json.loads(self.findings_json)]

    @property
    def flagged(self) -> bool:
        return is_flagged(self.flags, self.state)


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    field: str
    item: int | None
    body: str
    version: int
    created_at: datetime


@dataclass(frozen=True)
class Label:
    version: int
    code: str
    field: str
    item: int | None
    evidence: str
    verdict: str
    reviewer: str


def is_flagged(flags: list[str], state: str) -> bool:
    """A sheet waiting for review with any flag raised: the one rule for "flagged" (queue, review page)."""
    return bool(flags) and state == ReviewState.WAITING


@dataclass
class Submission:
    """What the critics said at submit time, and whether staff asked for a hearing."""

    findings: list[Finding]
    engine: str = "rules"
    llm_unavailable: bool = False
    hearing: bool = False
    flags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if counts(self.findings)["error"]:
            self.flags.append("errors")
        if self.llm_unavailable:
            self.flags.append("llm_unavailable")
        if self.hearing:
            self.flags.append("hearing")


class Reviews:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, sheet_id: int) -> Review | None:
        with self._sessions() as s:
            row = s.get(ReviewRow, sheet_id)
            return _review(row) if row else None

    def of_organisation(self, organisation_id: int) -> dict[int, Review]:
        with self._sessions() as s:
            rows = s.scalars(select(ReviewRow).join(SheetRow, SheetRow.id == ReviewRow.sheet_id)
                             .where(SheetRow.organisation_id == organisation_id))
            return {r.sheet_id: _review(r) for r in rows}

    # -- comments and verdicts -----------------------------------------------------------------

    def comment(self, who: Account, sheet_id: int, version: int, field_name: str, item: int | None,
                body: str) -> Comment:
        body = body.strip()
        if field_name not in COMMENT_FIELDS:
            raise BadInput([FieldError("field", None, "コメントする欄を選んでください。")])
        if not body or len(body) > 2000:
            raise BadInput([FieldError("body", None, "コメントを2000文字以内で入力してください。")])
        with self._sessions.begin() as s:
            row = CommentRow(sheet_id=sheet_id, author=who.name, field=field_name, item=item, body=body,
                             version=version)
            s.add(row)
            write_audit(s, who, sheet_id, Commented(field_name, item, body))
            s.flush()
            return _comment(row)

    def comments(self, sheet_id: int) -> list[Comment]:
        with self._sessions() as s:
            rows = s.scalars(select(CommentRow).where(CommentRow.sheet_id == sheet_id).order_by(CommentRow.id))
            return [_comment(r) for r in rows]

    def judge(self, who: Account, sheet_id: int, version: int, finding: Finding, verdict: str) -> None:
        if verdict not in ("confirmed", "dismissed"):
            raise BadInput([FieldError("verdict", None, "「指摘どおり」か「指摘は不要」を選んでください。")])
        assert finding.code is not None
        with self._sessions.begin() as s:
            row = self._label(s, sheet_id, version, finding)
            if row is None:
                row = LabelRow(sheet_id=sheet_id, version=version, code=finding.code, field=finding.field,
                               item=finding.item, evidence=finding.evidence, verdict=verdict, reviewer=who.name)
                s.add(row)
            row.verdict, row.reviewer, row.at = verdict, who.name, now()
            kind = Confirmed if verdict == "confirmed" else Dismissed
            write_audit(s, who, sheet_id, kind(version, finding.code, finding.field, finding.item))

    def add_missed(self, who: Account, sheet_id: int, version: int, sheet: Sheet, code: str, field_name: str,
                   item: int | None) -> None:
        """A finding the coach should have given and did not: labelled data the evals lack most."""
        if code not in FIELDS_OF:
            raise BadInput([FieldError("code", None, "指摘の種類を一覧から選んでください。")])
        if field_name not in FIELDS_OF[code]:
            allowed = "・".join(LABELS[f] for f in FIELDS_OF[code])
            raise BadInput([FieldError("field", None, f"この指摘は「{allowed}」の欄にだけ付けられます。")])
        rows = getattr(sheet, field_name)
        if isinstance(rows, list) and code != "FIELD_EMPTY":
            if item is None or not 0 <= item < len(rows):
                raise BadInput([FieldError("item", None, f"行の番号を1〜{len(rows)}で入力してください。")])
        else:
            item = None
        finding = Finding(code=code, field=field_name, item=item, severity=severity_of(code),  # type: ignore[arg-type]
                          evidence=sheet.text_of(field_name, item)[:4000], message="")
        with self._sessions.begin() as s:
            row = self._label(s, sheet_id, version, finding)
            if row is None:
                s.add(LabelRow(sheet_id=sheet_id, version=version, code=code, field=field_name, item=item,
                               evidence=finding.evidence, verdict="added", reviewer=who.name))
            else:
                row.verdict, row.reviewer, row.at = "added", who.name, now()
            write_audit(s, who, sheet_id, Missed(version, code, field_name, item))

    @staticmethod
    def _label(s: Session, sheet_id: int, version: int, finding: Finding) -> LabelRow | None:
        return s.scalar(select(LabelRow).where(
            LabelRow.sheet_id == sheet_id, LabelRow.version == version, LabelRow.code == finding.code,
            LabelRow.field == finding.field,
            LabelRow.item.is_(None) if finding.item is None else LabelRow.item == finding.item))

    def labels(self, sheet_id: int | None = None) -> list[tuple[int, Label]]:
        with self._sessions() as s:
            q = select(LabelRow).order_by(LabelRow.sheet_id, LabelRow.version, LabelRow.id)
            if sheet_id is not None:
                q = q.where(LabelRow.sheet_id == sheet_id)
            return [(r.sheet_id, Label(r.version, r.code, r.field, r.item, r.evidence, r.verdict, r.reviewer))
                    for r in s.scalars(q)]

    # -- audit log ------------------------------------------------------------------------------

    def audit(self, who: Account, sheet_id: int | None, event: AuditEvent) -> None:
        with self._sessions.begin() as s:
            write_audit(s, who, sheet_id, event)

    def returned_versions(self, organisation_id: int) -> dict[int, int]:
        """Sheets whose latest decision is a return: the version returned (coach/workspace/returns.py)."""
        from coach.workspace.returns import returned_versions

        with self._sessions() as s:
            return returned_versions(s, organisation_id)

    def log(self, organisation_id: int, sheet_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
        with self._sessions() as s:
            return read_entries(s, organisation_id, sheet_id, limit)


def _review(r: ReviewRow) -> Review:
    return Review(r.sheet_id, r.state, r.submitted_at, r.submitted_version, r.hearing,
                  [f for f in r.flags.split(",") if f], r.errors, r.warnings, r.engine, r.decided_at, r.decided_by,
                  r.findings or "[]", r.accepted_version)


def _comment(r: CommentRow) -> Comment:
    return Comment(r.id, r.author, r.field, r.item, r.body, r.version, r.created_at)
