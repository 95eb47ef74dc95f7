"""Accounts, roles and login sessions.

Passwords are argon2id hashes. A session is a random token in an HttpOnly cookie; only its
SHA-256 is stored, next to the session's CSRF token, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, String, Text, bindparam, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.cleaning import normalise_login
from coach.db import Base, Section, now, reading
from coach.errors import BadInput, FieldError

ROLES = {"staff": "係の職員", "dx": "DX推進チーム"}
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,49}$")
# an address a town's mail server will take: no spaces, one @, a dot in the domain (not a full RFC 5322 parser)
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")
OnceItems = list[dict[str, str]]  # what a session shows once (Accounts.put_once / take_once)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    login: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), default=None)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    email: Mapped[str | None] = mapped_column(String(254), default=None)  # for notices by e-mail (optional)


class LoginSession(Base):
    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_seen: Mapped[datetime] = mapped_column(default=now)
    # what the next page shows once and forgets (a new password, a new token's secret, a message): JSON list
    once: Mapped[str | None] = mapped_column(Text, default=None)


@dataclass(frozen=True)
class Account:
    id: int
    organisation_id: int
    login: str
    name: str
    role: str  # staff | dx | local (the unauthenticated loopback API, contract §6) | token (coach/workspace/tokens.py)
    section: str | None  # for a token: its reach (None = the whole town)
    active: bool = True
    scope: str | None = None  # for a token: "read" or "write"
    email: str | None = None

    @property
    def is_dx(self) -> bool:
        return self.role == "dx"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, "APIトークン" if self.role == "token" else "ローカル")


@dataclass(frozen=True)
class OpenSession:
    account: Account
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A password a person can type from a printout: 12 letters/digits without look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


class Accounts:
    def __init__(self, sessions: sessionmaker[Session], idle: timedelta = timedelta(hours=8),
                 lifetime: timedelta = timedelta(hours=24)) -> None:
        self._sessions = sessions
        self._idle = idle
        self._lifetime = lifetime

    # -- accounts ---------------------------------------------------------------------------------

    def create(self, organisation_id: int, login: str, name: str, role: str, password: str,
               section: str | None = None, email: str | None = None) -> Account:
        login = normalise_login(login)
        section = (section or "").strip() or None
        email = (email or "").strip() or None
        errors = _check(login, name, role, section, password) + _check_email(email)
        if errors:
            raise BadInput(errors)
        with self._sessions.begin() as s:
            if s.scalar(select(User.id).where(User.login == login)) is not None:
                raise BadInput([FieldError("login", None, "このログインIDはすでに使われています。")])
            section_id = _section_id(s, organisation_id, section) if role == "staff" and section else None
            user = User(organisation_id=organisation_id, login=login, name=name.strip(), role=role,
                        section_id=section_id, password_hash=_hasher.hash(password), email=email)
            s.add(user)
            s.flush()
            return self._account(s, user)

    def set_password(self, user_id: int, organisation_id: int, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise BadInput([FieldError("password", None, f"パスワードは{MIN_PASSWORD}文字以上にしてください。")])
        with self._sessions.begin() as s:
            user = self._user(s, user_id, organisation_id)
            user.password_hash = _hasher.hash(password)
            s.execute(delete(LoginSession).where(LoginSession.user_id == user.id))

    def set_email(self, user_id: int, organisation_id: int, email: str | None) -> None:
        email = (email or "").strip() or None
        errors = _check_email(email)
        if errors:
            raise BadInput(errors)
        with self._sessions.begin() as s:
            self._user(s, user_id, organisation_id).email = email

    def set_active(self, user_id: int, organisation_id: int, active: bool) -> None:
        with self._sessions.begin() as s:
            user = self._user(s, user_id, organisation_id)
            user.active = active
            if not active:
                s.execute(delete(LoginSession).where(LoginSession.user_id == user.id))

    def get(self, user_id: int, organisation_id: int) -> Account:
        with self._sessions() as s:
            return self._account(s, self._user(s, user_id, organisation_id))

    def by_login(self, login: str) -> Account | None:
        with self._sessions() as s:
            user = s.scalar(select(User).where(User.login == normalise_login(login)))
            return self._account(s, user) if user else None

    def list(self, organisation_id: int) -> list[Account]:
        with self._sessions() as s:
            users = s.scalars(select(User).where(User.organisation_id == organisation_id).order_by(User.role, User.login))
            return [self._account(s, u) for u in users]

    def authenticate(self, login: str, password: str) -> Account | None:
        with self._sessions.begin() as s:
            user = s.scalar(select(User).where(User.login == normalise_login(login)))
            try:
                # verify against a dummy hash for unknown logins: the answer takes as long either way
                _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                return None
            if user is None or not user.active:
                return None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            return self._account(s, user)

    # -- sessions ---------------------------------------------------------------------------------

    def open_session(self, account: Account) -> tuple[str, str]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._sessions.begin() as s:
            s.add(LoginSession(token_hash=_digest(token), user_id=account.id, csrf=csrf))
        return token, csrf

    def session(self, token: str) -> OpenSession | None:
        """The open session of a cookie: one read of plain columns on every request (no mapped objects);
        a write only when the session ends here or its last-seen time is a minute old."""
        if not token:
            return None
        with reading(self._sessions) as conn:
            found = conn.execute(_SESSION_LOOKUP, {"token_hash": _digest(token)}).one_or_none()
        if found is None:
            return None
        t = now()
        if (t - found.last_seen > self._idle or t - found.created_at > self._lifetime
                or found.user_id is None or not found.active):
            self._end(found.session_id)
            return None
        if t - found.last_seen > timedelta(minutes=1):
            with self._sessions.begin() as s:
                s.execute(update(LoginSession).where(LoginSession.id == found.session_id).values(last_seen=t))
        account = Account(found.user_id, found.organisation_id, found.login, found.name, found.role, found.section,
                          found.active)
        return OpenSession(account, found.csrf)

    def _end(self, session_id: int) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(LoginSession).where(LoginSession.id == session_id))

    def put_once(self, token: str, item: dict[str, str]) -> None:
        """Keep `item` for the session's next page only (after a POST's redirect): never in a URL."""
        with self._sessions.begin() as s:
            row = s.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
            if row is not None:
                row.once = json.dumps([*json.loads(row.once or "[]"), item], ensure_ascii=False)

    def take_once(self, token: str) -> OnceItems:
        """What put_once kept, read and forgotten in one transaction: a reload shows it no more."""
        if not token:
            return []
        with self._sessions.begin() as s:
            row = s.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token))
                           .with_for_update())
            if row is None or not row.once:
                return []
            items: OnceItems = json.loads(row.once)
            row.once = None
            return items

    def close_session(self, token: str) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _user(s: Session, user_id: int, organisation_id: int) -> User:
        user = s.get(User, user_id)
        if user is None or user.organisation_id != organisation_id:
            raise BadInput([FieldError("user", None, "そのアカウントは見つかりません。")])
        return user

    @staticmethod
    def _account(s: Session, user: User) -> Account:
        section = s.get(Section, user.section_id).name if user.section_id else None  # type: ignore[union-attr]
        return Account(user.id, user.organisation_id, user.login, user.name, user.role, section, user.active,
                       email=user.email)


# Built once: every request of a logged-in person runs it.
_SESSION_LOOKUP = (select(LoginSession.id.label("session_id"), LoginSession.created_at, LoginSession.last_seen,
                          LoginSession.csrf, User.id.label("user_id"), User.organisation_id, User.login, User.name,
                          User.role, User.active, Section.name.label("section"))
                   .outerjoin(User, User.id == LoginSession.user_id)
                   .outerjoin(Section, Section.id == User.section_id)
                   .where(LoginSession.token_hash == bindparam("token_hash")))


def _section_id(s: Session, organisation_id: int, name: str) -> int:
    section = s.scalar(select(Section).where(Section.organisation_id == organisation_id, Section.name == name))
    if section is None:
        section = Section(organisation_id=organisation_id, name=name)
        s.add(section)
        s.flush()
    return section.id


def _check(login: str, name: str, role: str, section: str | None, password: str) -> list[FieldError]:
    errors = []
    if not LOGIN_RE.match(login):
        errors.append(FieldError("login", None, "ログインIDは半角の英小文字・数字・「._-」で3〜50文字にしてください。"))
    if not name.strip() or len(name) > 100:
        errors.append(FieldError("name", None, "氏名を100文字以内で入力してください。"))
    if role not in ROLES:
        errors.append(FieldError("role", None, "役割は「係の職員」か「DX推進チーム」を選んでください。"))
    if role == "staff" and not section:
        errors.append(FieldError("section", None, "係の職員には所属の係を入力してください。"))
    if section and len(section) > 100:
        errors.append(FieldError("section", None, "係名は100文字以内で入力してください。"))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("password", None, f"パスワードは{MIN_PASSWORD}文字以上にしてください。"))
    return errors


def _check_email(email: str | None) -> list[FieldError]:
    if email is None or (len(email) <= 254 and EMAIL_RE.match(email)):
        return []
    return [FieldError("email", None, "メールアドレスは taro@town.example.jp のような形で入力してください（使わないときは空のまま）。")]
