"""The audit log: who did what to which sheet, stored as typed events (coach/workspace/audit_events.py).

`write_audit` adds one entry in the caller's transaction, so an action and its record commit
together. `AuditLog.entries` reads them back newest first, each with its decoded event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from coach.db import Base, now
from coach.workspace.accounts import Account
from coach.workspace.audit_events import AuditEvent, decode, encode


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("sheets.id"), index=True, default=None)
    user_login: Mapped[str] = mapped_column(String(50))
    user_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    at: Mapped[datetime] = mapped_column(default=now)


@dataclass(frozen=True)
class AuditEntry:
    sheet_id: int | None
    user_login: str
    user_name: str
    action: str
    event: AuditEvent
    at: datetime
    detail: object  # the stored detail as the row holds it (what an export of raw rows would give)

    @property
    def label(self) -> str:
        return self.event.action_label

    def summary(self) -> str:
        return self.event.summary()


def write_audit(s: Session, who: Account, sheet_id: int | None, event: AuditEvent) -> None:
    """One audit entry, in the caller's transaction: the action, its record and the notices it makes
    (coach/workspace/notices.py) commit together."""
    from coach.workspace.notices import from_audit  # notices read the audit log: imported here, not above

    action, detail = encode(event)
    from_audit(s, who, sheet_id, action, detail)
    s.add(AuditRow(organisation_id=who.organisation_id, sheet_id=sheet_id, user_login=who.login,
                   user_name=who.name, action=action, detail=json.dumps(detail, ensure_ascii=False)))


def read_entries(s: Session, organisation_id: int, sheet_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
    """Newest first; a row whose detail is not even JSON still reads (as a generic event)."""
    q = select(AuditRow).where(AuditRow.organisation_id == organisation_id)
    if sheet_id is not None:
        q = q.where(AuditRow.sheet_id == sheet_id)
    return [entry_of(r) for r in s.scalars(q.order_by(AuditRow.id.desc()).limit(limit))]


def entry_of(r: AuditRow) -> AuditEntry:
    """A stored row as a typed entry; a row whose detail is not even JSON still reads (a generic event)."""
    data = _json(r.detail)
    return AuditEntry(r.sheet_id, r.user_login, r.user_name, r.action, decode(r.action, data), r.at, data)


def _json(text: str | None) -> object:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return {}
