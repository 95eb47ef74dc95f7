"""The login throttle, kept in the database so it holds across worker processes and app instances.

Each login attempt is recorded before the password is checked, under two keys: the normalised
login ID (coach/cleaning.py `normalise_login`, the same form authentication uses) and the client
address. An attempt is refused when the ID already has MAX_PER_LOGIN failures, or the address
MAX_PER_ADDRESS, within WINDOW. A success clears that ID's failures (not the address's). Keys are
SHA-256 digests, so nothing a client typed is stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, now

MAX_PER_LOGIN = 5
MAX_PER_ADDRESS = 30  # a town hall's staff may share one address behind NAT
WINDOW = timedelta(minutes=15)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(70), index=True)  # "login:<sha256>" | "addr:<sha256>"
    at: Mapped[datetime] = mapped_column(default=now, index=True)


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()[:64]}"


class LoginThrottle:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def begin(self, login: str, address: str) -> list[int] | None:
        """Record an attempt (login already normalised). None when it must be refused; else the
        attempt's row ids, to hand to `passed` if the password turns out right."""
        keys = {_key("login", login): MAX_PER_LOGIN, _key("addr", address): MAX_PER_ADDRESS}
        since = now() - WINDOW
        with self._sessions.begin() as s:
            s.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
            rows = [LoginAttempt(key=k) for k in keys]
            s.add_all(rows)
            s.flush()
            ids = [r.id for r in rows]
        with self._sessions() as s:  # counted after our own insert is committed: concurrent tries see each other
            for key, limit in keys.items():
                count = s.scalar(select(func.count()).select_from(LoginAttempt)
                                 .where(LoginAttempt.key == key, LoginAttempt.at >= since))
                if (count or 0) > limit:
                    self._forget(ids)  # a refused attempt does not lengthen the wait
                    return None
        return ids

    def passed(self, login: str, attempt: list[int]) -> None:
        """The password was right: that ID starts afresh; this attempt is not held against the address."""
        with self._sessions.begin() as s:
            s.execute(delete(LoginAttempt).where(LoginAttempt.key == _key("login", login)))
            s.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(attempt)))

    def _forget(self, ids: list[int]) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(ids)))
