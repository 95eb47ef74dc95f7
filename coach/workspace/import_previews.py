"""Uploaded files waiting for the DX team's confirmation, kept in the database.

A preview is claimed once, atomically (`UPDATE … WHERE claimed = false`, then the row count):
of two confirmations at the same moment, in one process or several, exactly one imports; the
others learn it was already imported. Only the SHA-256 of the token is stored, as for sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, now

KEEP = timedelta(hours=1)  # a preview nobody confirmed within the hour is forgotten


class ImportPreviewRow(Base):
    __tablename__ = "import_previews"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)


@dataclass(frozen=True)
class Pending:
    filename: str
    data: bytes


class NotPending(LookupError):
    """No such preview (never made, expired, or started by another account)."""


class AlreadyImported(LookupError):
    """The preview was confirmed already (perhaps a moment ago, by a double click)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ImportPreviews:
    def __init__(self, sessions: sessionmaker[Session], keep: timedelta = KEEP) -> None:
        self._sessions = sessions
        self._keep = keep

    def add(self, user_id: int, filename: str, data: bytes) -> str:
        token = secrets.token_urlsafe(24)
        with self._sessions.begin() as s:
            s.execute(delete(ImportPreviewRow).where(ImportPreviewRow.created_at < now() - self._keep))
            s.add(ImportPreviewRow(token_hash=_digest(token), user_id=user_id, filename=filename[:300], data=data))
        return token

    def claim(self, token: str, user_id: int) -> Pending:
        """The file to import, exactly once. Raises NotPending or AlreadyImported."""
        where = (ImportPreviewRow.token_hash == _digest(token), ImportPreviewRow.user_id == user_id,
                 ImportPreviewRow.created_at >= now() - self._keep)
        with self._sessions.begin() as s:
            done = s.execute(update(ImportPreviewRow).where(*where, ImportPreviewRow.claimed.is_(False))
                             .values(claimed=True).execution_options(synchronize_session=False))
            row = s.scalar(select(ImportPreviewRow).where(*where))
            if row is None:
                raise NotPending(token)
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise AlreadyImported(token)
            pending = Pending(row.filename, row.data)
            row.data = b""  # the file is not needed any more; the claimed row answers "already imported"
            return pending
