"""「欄外メモへ移す」 and its 「元に戻す」, for the editor.

A move first keeps the text as it was (an autosave), then writes the moved text as a version of
its own (kind "move"), so undoing it is exact: the fields the move changed get back the text of
the version before it. With htmx the answer is the feedback and the new values of the changed
fields, never a new form: the person may already be typing in another field. Without JavaScript
both are ordinary form posts followed by a redirect.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from coach.app import Services
from coach.margin import move_to_margin
from coach.repository import StoredSheet, VersionConflict
from coach.sameness import canonical_text
from coach.sheet import LABELS, Sheet
from coach.workspace.accounts import Account
from web.conflict import conflict_of
from web.forms import SheetForm, values_of
from web.htmx import is_htmx, render

FIELDS = ("asis", "tobe", "purpose", "problems", "tasks", "margin")
MOVED = "解決の手段を欄外メモへ移しました。"
UNDONE = "欄外メモへの移動を元に戻しました。"
NOT_MOVED = "移す部分が見つかりませんでした。内容はそのままです。"


def _canonical(value: Any) -> Any:
    if isinstance(value, list):  # a list as stored: blank rows are not rows
        return [canonical_text(v) for v in value if v.strip()]
    return canonical_text(value)


def changed_fields(old: Sheet, new: Sheet) -> list[str]:
    return [f for f in FIELDS if _canonical(getattr(old, f)) != _canonical(getattr(new, f))]


def move(request: Request, stored: StoredSheet, sheet: Sheet, arg: str, who: Account, services: Services,
         form: SheetForm) -> Response:
    field, _, index = arg.partition(":")
    item = int(index) if index.isdigit() else None
    finding = next((f for f in services.critic.critique(sheet).findings
                    if f.code == "SOLUTION_IN_SHEET" and f.field == field and f.item == item), None)
    repo, org = services.repo, who.organisation_id
    try:  # the text as it was becomes a version: 元に戻す returns to it exactly
        before = repo.autosave(stored.id, org, sheet, base_version=form.base_version, author_id=who.id,
                               last_word=True)
        moved_sheet = move_to_margin(sheet, field, item, finding.evidence) if finding is not None else sheet
        moved = repo.save(stored.id, org, moved_sheet, kind="move", base_version=before.version, author_id=who.id)
    except VersionConflict as exc:
        return _conflict(request, who, stored, form, services, exc)
    services.after_save(moved)
    undo = moved.version if moved.changed else None
    flash = MOVED if moved.changed else NOT_MOVED
    if not is_htmx(request):
        return RedirectResponse(f"/sheets/{stored.id}?moved={undo}" if undo else f"/sheets/{stored.id}",
                                status_code=303)
    return _applied(request, moved, changed_fields(sheet, moved.sheet), services, flash, undo)


def undo(request: Request, stored: StoredSheet, sheet: Sheet, arg: str, who: Account, services: Services,
         form: SheetForm) -> Response:
    """Give the fields a move changed their text from before it, if they still hold what the move wrote."""
    repo, org = services.repo, who.organisation_id
    number = int(arg) if arg.isdigit() and len(arg) <= 10 else 0
    kinds = {v.number: v.kind for v in repo.versions(stored.id, org)}
    if kinds.get(number) != "move" or number - 1 not in kinds:
        return _refused(request, who, stored, sheet, services, "元に戻せる移動が見つかりませんでした。内容はそのままです。")
    before, after = repo.version(stored.id, org, number - 1), repo.version(stored.id, org, number)
    fields = changed_fields(before, after)
    edited = [LABELS[f] for f in fields if _canonical(getattr(sheet, f)) != _canonical(getattr(after, f))]
    if edited:
        return _refused(request, who, stored, sheet, services,
                        f"移した後で{'・'.join(edited)}が書き換えられているため、元に戻せませんでした。内容はそのままです。")
    restored = sheet.model_copy(update={f: getattr(before, f) for f in fields})
    try:
        saved = repo.save(stored.id, org, restored, kind="undo", base_version=form.base_version, author_id=who.id)
    except VersionConflict as exc:
        return _conflict(request, who, stored, form, services, exc)
    services.after_save(saved)
    if not is_htmx(request):
        return RedirectResponse(f"/sheets/{stored.id}?undone=1", status_code=303)
    return _applied(request, saved, fields, services, UNDONE, None)


def _applied(request: Request, stored: StoredSheet, fields: list[str], services: Services, flash: str,
             undo: int | None) -> Response:
    values = values_of(stored.sheet)
    context = {"stored": stored, "values": values, "errors": {}, "critique": services.critic.critique(stored.sheet),
               "saved_note": "saved", "oob": True, "conflict": None, "base_version": stored.version,
               "flash": flash, "undo": undo, "applied": fields}
    response = render(request, "_applied.html", context, partial="_applied.html")
    response.headers["X-Coach-Autosave"] = "saved"
    return response


def _refused(request: Request, who: Account, stored: StoredSheet, sheet: Sheet, services: Services,
             reason: str) -> Response:
    if not is_htmx(request):
        from web.editor import render_editor

        return render_editor(request, who, stored, services, flash=reason, status_code=409)
    context = {"stored": stored, "values": values_of(sheet), "errors": {}, "critique": services.critic.critique(sheet),
               "saved_note": "", "oob": True, "conflict": None, "base_version": stored.version,
               "flash": reason, "undo": None, "applied": []}
    return render(request, "_applied.html", context, partial="_applied.html", status_code=409)


def _conflict(request: Request, who: Account, stored: StoredSheet, form: SheetForm, services: Services,
              exc: VersionConflict) -> Response:
    conflict = conflict_of(services.repo, stored.organisation_id, exc)
    if not is_htmx(request):
        from web.editor import render_editor

        latest = services.repo.get(stored.id, stored.organisation_id)
        return render_editor(request, who, latest, services, form=form, status_code=409, conflict=conflict)
    critique = services.critic.critique(form.sheet) if form.sheet is not None else None
    context = {"stored": stored, "values": form.values, "errors": {}, "critique": critique, "saved_note": "conflict",
               "oob": True, "conflict": conflict, "base_version": form.base_version, "flash": "", "undo": None,
               "applied": []}
    response = render(request, "_applied.html", context, partial="_applied.html", status_code=409)
    response.headers["X-Coach-Autosave"] = "conflict"
    return response

