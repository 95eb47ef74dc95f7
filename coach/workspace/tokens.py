"""API tokens for the town's other programs: created and revoked by the DX team, sent as a Bearer header.

A token is shown once; only its SHA-256 is stored (like a session). Each has a name, a scope
(read: GET only; write: also POST/PUT), a reach (the whole town, or one section) and an optional
last day of validity. A token acts as a principal (`Account` with role "token"), never as a person:
it opens the JSON API only, never a page.

Every use is in the audit log (action "token"): every write gets its own entry; reads by one token
fold into at most one entry a minute, whose `calls` says how many calls the token had made by then.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, ForeignKey, Integer, String, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, Section, SheetRow, now
from coach.errors import BadInput, FieldError
from coach.workspace.accounts import Account
from coach.workspace.audit import write_audit
from coach.workspace.audit_events import TokenCreated, TokenRevoked, TokenUsed

SCOPES = {"read": "読み取りだけ", "write": "読み取りと書き込み"}
PREFIX = "cct_"  # "curry-coach token": lets secret scanners and people recognise one
TOWN = ZoneInfo("Asia/Tokyo")  # an expiry date is a day in the town's calendar
AUDIT_EVERY = timedelta(minutes=1)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a token in the list
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(10))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), default=None)  # None: the town
    expires_on: Mapped[date | None] = mapped_column(Date, default=None)  # valid through this day (JST)
    created_at: Mapped[datetime] = mapped_column(default=now)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(100), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    last_audit_at: Mapped[datetime | None] = mapped_column(default=None)
    calls: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class ApiToken:
    id: int
    organisation_id: int
    hint: str
    name: str
    scope: str
    section: str | None
    expires_on: date | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None
    calls: int

    @property
    def scope_label(self) -> str:
        return SCOPES[self.scope]

    @property
    def reach_label(self) -> str:
        return self.section or "町全体"

    @property
    def expired(self) -> bool:
        return self.expires_on is not None and today() > self.expires_on

    @property
    def state_label(self) -> str:
        return "取り消し済み" if self.revoked_at else "期限切れ" if self.expired else "有効"

    def principal(self) -> Account:
        """What the API's permission rules see: read or write, in one section or the whole town."""
        return Account(0, self.organisation_id, f"token:{self.id}", f"APIトークン「{self.name}」", "token",
                       self.section, scope=self.scope)


class TokenRejected(Exception):
    """A presented token that opens nothing: the reason is for the caller, in Japanese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def today() -> date:
    return datetime.now(TOWN).date()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokens:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, who: Account, name: str, scope: str, section: str | None,
               expires_on: date | None) -> tuple[str, ApiToken]:
        """A new token: returns its secret (to show once) and what is stored about it."""
        name, section = name.strip(), (section or "").strip() or None
        errors = _check(name, scope, expires_on)
        with self._sessions.begin() as s:
            section_id = None
            if section is not None:
                section_id = s.scalar(select(Section.id).where(Section.organisation_id == who.organisation_id,
                                                               Section.name == section))
                if section_id is None:
                    errors.append(FieldError("section", None, "係は一覧にある係から選んでください。"))
            if errors:
                raise BadInput(errors)
            secret = PREFIX + secrets.token_urlsafe(32)
            row = ApiTokenRow(organisation_id=who.organisation_id, token_hash=_digest(secret),
                              hint=secret[: len(PREFIX) + 6], name=name, scope=scope, section_id=section_id,
                              expires_on=expires_on, created_by=who.name)
            s.add(row)
            s.flush()
            write_audit(s, who, None, TokenCreated(name, scope, section or "town", _iso(expires_on)))
            return secret, _token(s, row)

    def revoke(self, who: Account, token_id: int) -> ApiToken:
        with self._sessions.begin() as s:
            row = self._row(s, who.organisation_id, token_id)
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = now(), who.name
                write_audit(s, who, None, TokenRevoked(row.name))
            return _token(s, row)

    def get(self, organisation_id: int, token_id: int) -> ApiToken:
        with self._sessions() as s:
            return _token(s, self._row(s, organisation_id, token_id))

    def list(self, organisation_id: int) -> list[ApiToken]:
        with self._sessions() as s:
            rows = s.scalars(select(ApiTokenRow).where(ApiTokenRow.organisation_id == organisation_id)
                             .order_by(ApiTokenRow.revoked_at.is_not(None), ApiTokenRow.id.desc()))
            return [_token(s, r) for r in rows]

    def use(self, secret: str, method: str, path: str, sheet_id: int | None) -> ApiToken:
        """The token behind `secret`, or TokenRejected. Counts the call and writes the audit entry."""
        with self._sessions.begin() as s:
            row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(secret)))
            if row is None:
                raise TokenRejected("API トークンが正しくありません。設定画面で発行されたトークンか確かめてください。")
            if row.revoked_at is not None:
                raise TokenRejected("この API トークンは取り消されています。DX推進チームに新しいトークンを頼んでください。")
            if row.expires_on is not None and today() > row.expires_on:
                raise TokenRejected(f"この API トークンは有効期限（{row.expires_on:%Y年%m月%d日}）が切れています。")
            t = now()
            s.execute(update(ApiTokenRow).where(ApiTokenRow.id == row.id)
                      .values(calls=ApiTokenRow.calls + 1, last_used_at=t))
            token = _token(s, row)
            sheet = s.get(SheetRow, sheet_id) if sheet_id is not None else None
            sheet_id = sheet.id if sheet is not None and sheet.organisation_id == row.organisation_id else None
            if method != "GET" or self._claim_audit(s, row.id, t):
                calls = s.scalar(select(ApiTokenRow.calls).where(ApiTokenRow.id == row.id))
                write_audit(s, token.principal(), sheet_id, TokenUsed(method, path, row.name, calls))
            return token

    @staticmethod
    def _claim_audit(s: Session, token_id: int, t: datetime) -> bool:
        """True for the first read of a minute (one UPDATE, so two processes never both win)."""
        won = s.execute(update(ApiTokenRow).where(
            ApiTokenRow.id == token_id,
            or_(ApiTokenRow.last_audit_at.is_(None), ApiTokenRow.last_audit_at <= t - AUDIT_EVERY),
        ).values(last_audit_at=t))
        return bool(won.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def _row(s: Session, organisation_id: int, token_id: int) -> ApiTokenRow:
        row = s.get(ApiTokenRow, token_id)
        if row is None or row.organisation_id != organisation_id:
            raise BadInput([FieldError("token", None, "その API トークンは見つかりません。")])
        return row


def parse_expiry(text: str) -> date | None:
    """The form's optional 有効期限 (YYYY-MM-DD, what <input type=date> sends)."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text.replace("/", "-"))
    except ValueError as exc:
        raise BadInput([FieldError("expires_on", None, "有効期限は「2026-03-31」の形の日付で入力してください。")]) from exc


def _check(name: str, scope: str, expires_on: date | None) -> list[FieldError]:
    errors = []
    if not name or len(name) > 80:
        errors.append(FieldError("name", None, "トークンの名前（使うプログラムの名前など）を80文字以内で入力してください。"))
    if scope not in SCOPES:
        errors.append(FieldError("scope", None, "権限は「読み取りだけ」か「読み取りと書き込み」を選んでください。"))
    if expires_on is not None and expires_on < today():
        errors.append(FieldError("expires_on", None, "有効期限には今日以降の日付を入力してください。"))
    return errors


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _token(s: Session, r: ApiTokenRow) -> ApiToken:
    section = s.get(Section, r.section_id).name if r.section_id else None  # type: ignore[union-attr]
    return ApiToken(r.id, r.organisation_id, r.hint, r.name, r.scope, section, r.expires_on, r.created_at,
                    r.created_by, r.revoked_at, r.last_used_at, r.calls)
