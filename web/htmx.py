"""One place decides between a full page and a partial (`_name.html`) for htmx requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import StrictUndefined

from web import view


def _who(request: Request) -> dict[str, Any]:
    """Every template sees the person logged in (or None) and the session's CSRF token."""
    from web.auth import session_of

    try:
        session = session_of(request)
    except Exception:  # an error page must render even when the database does not answer
        session = None
    account = session.account if session else None

    def unread() -> int:  # called by base.html only: a partial (an autosave's answer) costs no query
        return request.app.state.services.notices.unread_count(account.id) if account else 0  # type: ignore[no-any-return]

    return {"user": account, "csrf": session.csrf if session else "", "unread": unread}


templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"), context_processors=[_who])
templates.env.undefined = StrictUndefined
# The templates ship with the package and do not change under a running server: no stat() per render.
templates.env.auto_reload = False
view.register(templates.env)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request, page: str, context: dict[str, Any], partial: str | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render `page`, or only `partial` when htmx asked for it."""
    name = partial if partial and is_htmx(request) else page
    return templates.TemplateResponse(request, name, context, status_code=status_code)
