"""Finding sheets: the sheet list's search (title, section and the latest version's text) and its
state filter, done in SQL and a page at a time, so a town with thousands of sheets is never loaded whole.

Query parameters arrive as strings from a bookmarkable URL; `sheet_query` checks them and says in
Japanese what is wrong, field by field (the page shows it; nothing here raises a server fault).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true

from coach.db import Section as SectionRow
from coach.db import SheetRow, VersionRow
from coach.errors import BadInput, FieldError
from coach.repository import SheetRepository, StoredSheet
from coach.status import STATE_LABELS, ReviewState, SheetStatus, State
from coach.workspace.accounts import Account
from coach.workspace.review import ReviewRow

PAGE_SIZE = 50
MAX_PAGE = 1000
MAX_QUERY = 100  # characters of the search text
MAX_TERMS = 5


@dataclass(frozen=True)
class SheetQuery:
    text: str = ""
    state: str = ""  # a State value, or "" for every state
    page: int = 1

    @property
    def terms(self) -> list[str]:
        return self.text.split()[:MAX_TERMS]

    @property
    def active(self) -> bool:
        return bool(self.text or self.state)

    def url(self, page: int) -> str:
        from urllib.parse import urlencode

        params = {k: v for k, v in (("q", self.text), ("state", self.state)) if v}
        return "/?" + urlencode({**params, "page": page})


@dataclass(frozen=True)
class SheetPage:
    query: SheetQuery
    sheets: list[StoredSheet]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def page_number(raw: str, field: str = "page") -> int:
    """A page number from a URL: 1 when absent, a Japanese reason when it is not one."""
    if raw == "":
        return 1
    if not raw.isdigit() or not 1 <= int(raw[:6]) <= MAX_PAGE or len(raw) > 6:
        raise BadInput([FieldError(field, None, f"ページは1〜{MAX_PAGE}の数字で指定してください。")],
                       "検索の条件に誤りがあります。")
    return int(raw)


def page_or_error(params: Mapping[str, str], errors: list[FieldError]) -> int:
    """The `page` parameter, or 1 with its reason added to `errors` (so every wrong field is named at once)."""
    try:
        return page_number(params.get("page", ""))
    except BadInput as exc:
        errors.extend(exc.errors)
        return 1


def sheet_query(params: Mapping[str, str]) -> SheetQuery:
    """The list's search from its query parameters (q, state, page), or BadInput naming each wrong one."""
    errors: list[FieldError] = []
    text = " ".join(params.get("q", "").split())
    if len(text) > MAX_QUERY:
        errors.append(FieldError("q", None, f"検索する言葉は{MAX_QUERY}文字以内で入力してください。"))
    state = params.get("state", "")
    if state and state not in {s.value for s in State}:
        choices = "・".join(STATE_LABELS.values())
        errors.append(FieldError("state", None, f"状態は「{choices}」から選んでください。"))
    page = page_or_error(params, errors)
    if errors:
        raise BadInput(errors, "検索の条件に誤りがあります。")
    return SheetQuery(text, state, page)


def _state_is(state: str) -> ColumnElement[bool]:
    """The cycle's state (coach/workspace/submission.py `state_of`) as a SQL condition."""
    if state == State.DRAFT:
        return and_(ReviewRow.sheet_id.is_(None), SheetRow.status != SheetStatus.SUBMITTED)
    if state == State.SUBMITTED:
        return or_(ReviewRow.state == ReviewState.WAITING, and_(ReviewRow.sheet_id.is_(None), SheetRow.status == SheetStatus.SUBMITTED))
    return ReviewRow.state == state


def _readable(who: Account) -> ColumnElement[bool]:
    """`permissions.can_read` in SQL: staff read their own section and other sections' submitted sheets."""
    if who.role in ("dx", "local") or (who.role == "token" and who.section is None):
        return true()
    if who.section is None:
        return SheetRow.status == SheetStatus.SUBMITTED
    return or_(SectionRow.name == who.section, SheetRow.status == SheetStatus.SUBMITTED)


def _matches(term: str) -> ColumnElement[bool]:
    return or_(SheetRow.title.icontains(term, autoescape=True), SectionRow.name.icontains(term, autoescape=True),
               VersionRow.content.icontains(term, autoescape=True))


def search(repo: SheetRepository, who: Account, query: SheetQuery) -> SheetPage:
    """One page of the sheets `who` may read that match every search term and the state, newest first."""
    where: list[ColumnElement[bool]] = [SheetRow.organisation_id == who.organisation_id, _readable(who)]
    where += [_matches(t) for t in query.terms]
    if query.state:
        where.append(_state_is(query.state) if query.state in {s.value for s in State} else false())
    base = (select(SheetRow.id)
            .join(SectionRow, SectionRow.id == SheetRow.section_id)
            .join(VersionRow, and_(VersionRow.sheet_id == SheetRow.id, VersionRow.number == SheetRow.version))
            .outerjoin(ReviewRow, ReviewRow.sheet_id == SheetRow.id)
            .where(*where))
    with repo.sessions() as s:
        total = int(s.scalar(select(func.count()).select_from(base.subquery())) or 0)
        ids = list(s.scalars(base.order_by(SheetRow.updated_at.desc(), SheetRow.id.desc())
                             .limit(PAGE_SIZE).offset((query.page - 1) * PAGE_SIZE)))
    return SheetPage(query, repo.some(who.organisation_id, ids), total)


def state_choices() -> list[tuple[str, Any]]:
    return [(s.value, STATE_LABELS[s]) for s in State]
