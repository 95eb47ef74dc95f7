"""Notices: who learns what happened to a sheet, derived from the audit events where they are written.

`from_audit` runs inside the transaction that writes the audit entry (coach/workspace/review.py
`write_audit`), so a move of the review cycle, its record and its notices commit together or not at all:
- the DX team (every active DX account) learns that a sheet was submitted, or resubmitted after a return
  (then the notice leads to the changes since the returned version);
- the section's staff learn that their sheet came back (差し戻し), was accepted, or got a comment.
The person who acted is never told. A notice for someone with an e-mail address is marked for mail;
coach/mail.py sends it after the commit, in the background (only when COACH_SMTP_HOST is set).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, SheetRow, now
from coach.workspace.accounts import Account, User
from coach.workspace.returns import returned_version

KINDS = {"submit": "提出", "resubmit": "再提出", "return": "差し戻し", "accept": "受理", "comment": "コメント"}
TO_DX = ("submit",)
TO_SECTION = ("return", "accept", "comment")
NOTE_CHARS = 300  # what a notice keeps of a comment; the whole comment is on the sheet


class NoticeRow(Base):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("sheets.id"), default=None)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    # '' (no address), 'pending', 'sending', 'sent', 'failed', 'expired' (coach/mail.py)
    mail: Mapped[str] = mapped_column(String(10), default="")


@dataclass(frozen=True)
class Notice:
    id: int
    sheet_id: int | None
    kind: str
    actor: str
    title: str
    note: str
    link: str
    created_at: datetime
    read_at: datetime | None

    @property
    def headline(self) -> str:
        return headline(self.kind, self.actor, self.title)

    @property
    def unread(self) -> bool:
        return self.read_at is None


def headline(kind: str, actor: str, title: str) -> str:
    title = f"「{title or '（業務・案件名なし）'}」"
    return {
        "submit": f"{actor}さんが{title}を提出しました。",
        "resubmit": f"{actor}さんが{title}を再提出しました。差し戻してからの変更を確かめられます。",
        "return": f"{title}が差し戻されました（{actor}さん）。",
        "accept": f"{title}が受理されました（{actor}さん）。",
        "comment": f"{actor}さんが{title}にコメントしました。",
    }.get(kind, f"{title}：{KINDS.get(kind, kind)}")


def from_audit(s: Session, who: Account, sheet_id: int | None, action: str, detail: dict[str, Any]) -> None:
    """The notices an audit event makes, added to the caller's transaction (none for most events)."""
    if sheet_id is None or action not in (*TO_DX, *TO_SECTION):
        return
    sheet = s.get(SheetRow, sheet_id)
    if sheet is None:
        return
    kind, link = action, f"/sheets/{sheet_id}"
    recipients = select(User).where(User.organisation_id == sheet.organisation_id, User.active.is_(True),
                                    User.id != who.id)
    if action in TO_DX:
        recipients = recipients.where(User.role == "dx")
        link = f"/review/{sheet_id}"
        returned = returned_version(s, sheet_id)
        if returned is not None:
            kind, link = "resubmit", f"/review/{sheet_id}?from={returned}&to={detail.get('version', sheet.version)}"
    else:
        recipients = recipients.where(User.role == "staff", User.section_id == sheet.section_id)
    note = str(detail.get("note") or detail.get("body") or "")[:NOTE_CHARS]
    with s.no_autoflush:
        users = list(s.scalars(recipients))
    for user in users:
        s.add(NoticeRow(organisation_id=sheet.organisation_id, user_id=user.id, sheet_id=sheet_id, kind=kind,
                        actor=who.name[:100], title=sheet.title[:100], note=note, link=link,
                        mail="pending" if user.email else ""))


class Notices:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def unread_count(self, user_id: int) -> int:
        with self._sessions() as s:
            return int(s.scalar(select(func.count(NoticeRow.id)).where(
                NoticeRow.user_id == user_id, NoticeRow.read_at.is_(None))) or 0)

    def of(self, user_id: int, limit: int = 100) -> list[Notice]:
        with self._sessions() as s:
            rows = s.scalars(select(NoticeRow).where(NoticeRow.user_id == user_id)
                             .order_by(NoticeRow.id.desc()).limit(limit))
            return [_notice(r) for r in rows]

    def open(self, user_id: int, notice_id: int) -> Notice | None:
        """Someone's own notice, marked read; None when it is not theirs (or does not exist)."""
        with self._sessions.begin() as s:
            row = s.get(NoticeRow, notice_id)
            if row is None or row.user_id != user_id:
                return None
            if row.read_at is None:
                row.read_at = now()
            return _notice(row)

    def read_all(self, user_id: int) -> int:
        with self._sessions.begin() as s:
            result = s.execute(update(NoticeRow).where(NoticeRow.user_id == user_id, NoticeRow.read_at.is_(None))
                               .values(read_at=now()))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _notice(r: NoticeRow) -> Notice:
    return Notice(r.id, r.sheet_id, r.kind, r.actor, r.title, r.note, r.link, r.created_at, r.read_at)
