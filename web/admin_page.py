"""The administration page (accounts, themes, API tokens), rendered by the admin and the token routes.

Every successful POST there redirects (303) here; what it has to say — a message, a new password, a new
token's secret — is kept in the login session for this one page (`remember`), never in the URL."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from coach.app import Services
from coach.workspace.accounts import ROLES, Account
from coach.workspace.tokens import SCOPES
from web.auth import COOKIE
from web.htmx import render


def admin_page(request: Request, who: Account, services: Services, *, values: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, issued: tuple[str, str] | None = None, flash: str = "",
               token_issued: tuple[str, str] | None = None, status_code: int = 200) -> Response:
    org = who.organisation_id
    for item in services.accounts.take_once(request.cookies.get(COOKIE, "")):  # what the POST before left
        flash = item.get("flash", flash)
        if "password" in item:
            issued = (item["login"], item["password"])
        if "token" in item:
            token_issued = (item["name"], item["token"])
    sections = services.repo.sections(org)
    context = {
        "org_name": services.organisation_name, "accounts": services.accounts.list(org), "roles": ROLES,
        "sections": sections, "values": values or {"role": "staff"}, "errors": errors or {}, "issued": issued,
        "flash": flash, "themes": services.cycle.themes(org), "tokens": services.tokens.list(org),
        "scopes": SCOPES, "token_issued": token_issued,
    }
    return render(request, "admin.html", context, status_code=status_code)


def remember(request: Request, services: Services, **item: str) -> None:
    """Keep `item` for the next GET of the page after the redirect, shown once."""
    services.accounts.put_once(request.cookies.get(COOKIE, ""), item)


def back(request: Request, services: Services, to: str = "/admin", **item: str) -> Response:
    """The answer to every successful POST of the page: 303 to a GET, the item remembered for it."""
    remember(request, services, **item)
    return RedirectResponse(to, status_code=303)
