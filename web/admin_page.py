"""The administration page (accounts, themes, API tokens), rendered by the admin and the token routes."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from coach.app import Services
from coach.workspace.accounts import ROLES, Account
from coach.workspace.tokens import SCOPES
from web.htmx import render


def admin_page(request: Request, who: Account, services: Services, *, values: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, issued: tuple[str, str] | None = None, flash: str = "",
               token_issued: tuple[str, str] | None = None, status_code: int = 200) -> Response:
    org = who.organisation_id
    sections = services.repo.sections(org)
    context = {
        "org_name": services.organisation_name, "accounts": services.accounts.list(org), "roles": ROLES,
        "sections": sections, "values": values or {"role": "staff"}, "errors": errors or {}, "issued": issued,
        "flash": flash, "themes": services.cycle.themes(org), "tokens": services.tokens.list(org),
        "scopes": SCOPES, "token_issued": token_issued,
    }
    return render(request, "admin.html", context, status_code=status_code)
