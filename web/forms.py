"""Reading HTML forms: the one place the web layer reads form data (cleaned by coach/cleaning.py;
`FormDep` for routes), and the sheet editor's form with its values as typed and Japanese errors per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from coach.cleaning import clean_text
from coach.errors import from_validation_error
from coach.sheet import HEADER_FIELDS, MAX_VERSION, TEXT_FIELDS, Sheet, SheetWrite


async def form_of(request: Request) -> FormData:
    """Every route reads its form here: each text value passes the one cleaning rule (NUL and other
    control characters removed, line breaks as LF); uploaded files are left as they are."""
    cached = getattr(request.state, "clean_form", None)
    if isinstance(cached, FormData):
        return cached
    raw = await request.form()  # starlette parses once and keeps it for the request
    form = FormData([(clean_text(k), clean_text(v) if isinstance(v, str) else v) for k, v in raw.multi_items()])
    request.state.clean_form = form
    return form


FormDep = Annotated[FormData, Depends(form_of)]
"""The form, read on the event loop (reading the body is I/O) before the route runs: a route that
declares it can be a plain `def`, which FastAPI runs in a worker thread, so its database work never
stops the event loop (issue #10; tests/loop_guard.py fails any request that runs SQL on the loop)."""


@dataclass
class SheetForm:
    """What the user typed (kept even when invalid), the sheet if valid, and errors by field."""

    values: dict[str, Any]
    sheet: Sheet | None
    errors: dict[str, str] = field(default_factory=dict)
    op: str = "save"
    base_version: int | None = None  # the version the page was opened at (hidden field), if sent
    hearing: bool = False  # 「ヒアリングを希望」 ticked
    leaving: bool = False  # sent by editor.js as the page is left (sendBeacon): the page's last word


def version_number(text: str) -> int | None:
    """The hidden base version; anything else (a page from before it existed, a tampered value) is none."""
    ok = 0 < len(text) <= 10 and text.isascii() and text.isdigit()
    return int(text) if ok and 1 <= int(text) <= MAX_VERSION else None


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def read_sheet_form(form: FormData) -> SheetForm:
    values: dict[str, Any] = {k: _text(form, k) for k in (*HEADER_FIELDS, *TEXT_FIELDS, "margin")}
    values["problems"] = [v for v in form.getlist("problems") if isinstance(v, str)]
    values["tasks"] = [v for v in form.getlist("tasks") if isinstance(v, str)]
    op = _text(form, "op") or "save"
    base = version_number(_text(form, "base_version"))
    hearing = _text(form, "hearing") == "1"
    leaving = _text(form, "leaving") == "1"
    try:
        sheet = SheetWrite.model_validate(values).sheet()
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in from_validation_error(exc).errors:
            label = f"{e.item + 1}行目: " if e.item is not None else ""
            errors.setdefault(e.field, label + e.reason)
        return SheetForm(values=values, sheet=None, errors=errors, op=op, base_version=base, hearing=hearing,
                         leaving=leaving)
    return SheetForm(values=values, sheet=sheet, op=op, base_version=base, hearing=hearing, leaving=leaving)


def values_of(sheet: Sheet) -> dict[str, Any]:
    return sheet.model_dump()
