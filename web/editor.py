"""The sheet editor's page: the form, the rules' findings, similar sheets, linked sheets and the DX team's comments.

Rendered by the page routes and by the AI coach's flow without JavaScript (web/deep.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from coach.app import Services
from coach.repository import SheetHead, StoredSheet
from coach.retrieval.entries import ref_of
from coach.retrieval.panel import Panel, build_panel
from coach.sheet import LIST_FIELDS, Sheet
from coach.workspace.accounts import Account
from coach.workspace.submission import FROZEN, state_of
from web.auth import session_of
from web.conflict import Conflict
from web.forms import SheetForm, values_of
from web.htmx import render


def render_editor(request: Request, who: Account, stored: StoredSheet, services: Services, *, form: SheetForm | None = None,
                  flash: str = "", status_code: int = 200, partial: str | None = None,
                  deep: dict[str, Any] | None = None, conflict: Conflict | None = None, undo: int | None = None,
                  quiet: bool = False) -> Response:
    """The editor. `quiet`: a sheet nothing has been written in yet opens without findings (no red
    未記入 boxes before the first keystroke); they come with the first autosave or a save. `undo`: the
    version a 「元に戻す」 button (no JavaScript) would undo."""
    critic = services.critic
    values = form.values if form else values_of(stored.sheet)
    sheet = form.sheet if form else stored.sheet
    critique = critic.critique(sheet) if sheet is not None and not quiet else None
    similar = similar_for(services, who, stored, sheet or stored.sheet)
    add = request.query_params.get("add", "")
    review = services.reviews.get(stored.id)
    cycle = state_of(stored.status, review)
    context: dict[str, Any] = {
        "stored": stored,
        "values": values,
        "errors": form.errors if form else {},
        "critique": critique,
        "flash": flash,
        "undo": undo,
        "saved_note": "",
        # a blank row to type into (two after 「＋追加」); none on a frozen (accepted) sheet
        "rows": {f: list(values[f]) + ([""] * (0 if cycle in FROZEN else 2 if add == f else 1))
                 for f in LIST_FIELDS},
        "org_name": services.organisation_name,
        "similar": similar,
        "deep_state": "off" if critic.llm is None else "idle",
        "job": None,
        "result": None,
        "rules_findings": [],
        "review": review,
        "comments": _comments_for_author(services, stored.id, review),
        "dx_added": _added_for_author(services, stored.id, review),
        "cycle": cycle.value,
        "frozen": cycle in FROZEN,
        # the version the typed text started from: a conflict keeps the form's own, so nothing is saved
        # over the other person's version until the writer chooses to
        "base_version": form.base_version if form and form.base_version is not None else stored.version,
        "conflict": conflict,
        "linked": _linked_for(request, services, stored),
    }
    if deep:
        context.update({k: deep[k] for k in ("deep_state", "result", "rules_findings", "error") if k in deep})
    return render(request, "editor.html", context, partial=partial, status_code=status_code)


def _linked_for(request: Request, services: Services, stored: StoredSheet) -> list[Any]:
    """Sheets the DX team linked to this one as the same problem, those the viewer may read."""
    from web.linked import linked_sheets

    session = session_of(request)
    return linked_sheets(services, session.account, stored.id) if session is not None else []


def _comments_for_author(services: Services, sheet_id: int, review: Any) -> dict[str, list[Any]]:
    """The DX team's comments on the last round, by field, for the editor."""
    if review is None:
        return {}
    out: dict[str, list[Any]] = {}
    for c in services.reviews.comments(sheet_id):
        if c.version == review.submitted_version:
            out.setdefault(c.field, []).append(c)
    return out


def _added_for_author(services: Services, sheet_id: int, review: Any) -> dict[str, list[Any]]:
    """Findings the DX team added in the last round (「見落としを追加」), by field, shown as theirs."""
    if review is None:
        return {}
    out: dict[str, list[Any]] = {}
    for _, label in services.reviews.labels(sheet_id):
        if label.verdict == "added" and label.version >= review.submitted_version:
            out.setdefault(label.field, []).append(label)
    return out


def similar_for(services: Services, who: Account, stored: StoredSheet | SheetHead, sheet: Sheet) -> Panel:
    """The panel for `sheet` (as stored, or as typed in the form): what `who` may read, other sections
    apart from the sheet's own section."""
    return build_panel(services.similar, who, sheet, stored.section, ref_of(stored), stored.id)
