"""操作の記録, narrowed: by person, kind and date (JST days), a page at a time, in SQL.

The parameters come from a bookmarkable URL; `audit_query` says in Japanese what is wrong with each.
The rows are coach/workspace/review.py's; entries are built from them exactly as `Reviews.log` builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from coach.errors import BadInput, FieldError
from coach.workspace.audit import AuditEntry, AuditRow, entry_of
from coach.workspace.audit_events import ACTIONS
from coach.workspace.search import page_or_error

PAGE_SIZE = 50
JST_OFFSET = timedelta(hours=9)  # the log stores UTC; a day here is a day in Japan
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class AuditQuery:
    person: str = ""  # a login
    kind: str = ""  # an ACTIONS key
    since: str = ""  # YYYY-MM-DD, inclusive
    until: str = ""  # YYYY-MM-DD, inclusive
    page: int = 1

    def url(self, **changes: object) -> str:
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        return "/review/log?" + urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == 1)})

    @property
    def narrowed(self) -> bool:
        return any((self.person, self.kind, self.since, self.until))

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.person:
            out.append(AuditRow.user_login == self.person)
        if self.kind:
            out.append(AuditRow.action == self.kind)
        if self.since:
            out.append(AuditRow.at >= _utc_start(date.fromisoformat(self.since)))
        if self.until:
            out.append(AuditRow.at < _utc_start(date.fromisoformat(self.until) + timedelta(days=1)))
        return out


def _utc_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day) - JST_OFFSET


def _day(params: Mapping[str, str], name: str, label: str, errors: list[FieldError]) -> str:
    raw = params.get(name, "").strip()[:20]
    if not raw:
        return ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or len(raw) != 10 or not EARLIEST <= day <= date.today() + timedelta(days=1):
        errors.append(FieldError(name, None, f"{label}は 2026-04-01 の形の日付で入力してください。"))
        return ""
    return raw


def audit_query(params: Mapping[str, str], people: dict[str, str]) -> AuditQuery:
    """The log's filters from a URL; `people` (login → name) are those the log mentions."""
    errors: list[FieldError] = []
    person = params.get("person", "")[:60]
    if person and person not in people:
        errors.append(FieldError("person", None, "その人の記録はありません。一覧から選んでください。"))
    kind = params.get("kind", "")[:40]
    if kind and kind not in ACTIONS:
        errors.append(FieldError("kind", None, "操作の種類を一覧から選んでください。"))
    since, until = _day(params, "since", "いつから", errors), _day(params, "until", "いつまで", errors)
    if since and until and since > until:
        errors.append(FieldError("until", None, "「いつまで」は「いつから」と同じ日か、それより後にしてください。"))
    page = page_or_error(params, errors)
    if errors:
        raise BadInput(errors, "絞り込みの条件に誤りがあります。")
    return AuditQuery(person, kind, since, until, page)


def people(sessions: sessionmaker[Session], organisation_id: int) -> dict[str, str]:
    """Everyone the town's log mentions (login → the latest name), for the person filter."""
    with sessions() as s:
        rows = s.execute(select(AuditRow.user_login, func.max(AuditRow.user_name))
                         .where(AuditRow.organisation_id == organisation_id)
                         .group_by(AuditRow.user_login).order_by(AuditRow.user_login).limit(1000))
        return {login: name for login, name in rows}


def count(sessions: sessionmaker[Session], organisation_id: int, query: AuditQuery) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count(distinct(AuditRow.id)))
                            .where(AuditRow.organisation_id == organisation_id, *query.conditions())) or 0)


def entries(sessions: sessionmaker[Session], organisation_id: int, query: AuditQuery) -> list[AuditEntry]:
    """The entries on the query's page, newest first (read as `Reviews.log` reads them)."""
    with sessions() as s:
        rows = s.scalars(select(AuditRow).where(AuditRow.organisation_id == organisation_id, *query.conditions())
                         .order_by(AuditRow.id.desc()).limit(PAGE_SIZE).offset((query.page - 1) * PAGE_SIZE))
        return [entry_of(r) for r in rows]
