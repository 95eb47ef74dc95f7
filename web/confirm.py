"""The confirmation step of a destructive action: a page of its own (works without JavaScript) whose
form posts the action with `confirmed=1`; a POST without it is sent to that page first (303)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from coach.app import Services
from web.htmx import render


@dataclass(frozen=True)
class Confirm:
    question: str  # the page's heading, e.g. 「パスワードを再発行しますか？」
    action: str  # where the form posts
    button: str  # what the button says, e.g. 「再発行する」
    lines: list[str]  # what will happen, in plain words
    fields: dict[str, str] = field(default_factory=dict)  # hidden fields the action needs
    cancel: str = "/admin"


def confirmed(form: FormData) -> bool:
    return form.get("confirmed") == "1"


def confirm_page(request: Request, services: Services, confirm: Confirm) -> Response:
    return render(request, "confirm.html", {"org_name": services.organisation_name, "confirm": confirm})
