"""HTML pages: the list of sheets and the editor with instant coaching. Works without JavaScript."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from coach.app import Services
from coach.critics.rules import RuleCritic
from coach.errors import BadInput
from coach.findings import Critique
from coach.repository import SheetHead, SheetRepository, StoredSheet, VersionConflict
from coach.sameness import is_blank
from coach.service import CritiqueService
from coach.sheet import LIST_FIELDS, Sheet, empty_sheet
from coach.status import ReviewState, State
from coach.workspace.accounts import Account
from coach.workspace.audit_events import Returned
from coach.workspace.permissions import can_edit, visible
from coach.workspace.search import SheetPage, search, sheet_query, state_choices
from coach.workspace.submission import check_editable
from coach.workspace.version_authors import authors
from web import moves
from web.access import editable, editable_head, own_section, readable, with_history, writable
from web.auth import Forbidden, UserDep, check_csrf, user_of
from web.compare import compared
from web.conflict import conflict_of
from web.deep import start_deep
from web.deps import CriticDep, RepoDep, ServicesDep
from web.editor import render_editor, similar_for
from web.forms import SheetForm, form_of, read_sheet_form, version_number
from web.htmx import render
from web.lanes import first_in_lane, in_thread, typing_lane
from web.linked import linked_sheets
from web.params import MAX_ID, SheetId, VersionNumber

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
log = logging.getLogger("coach.web")


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, who: UserDep, critic: CriticDep, services: ServicesDep) -> Response:
    return _index(request, who, services, critic, {"section": who.section or "", "title": ""}, {})


def _search(request: Request, who: Account, services: Services) -> tuple[SheetPage | None, BadInput | None]:
    """The list's search and state filter (GET ?q=…&state=…&page=…), when asked for: one page, in SQL."""
    try:
        query = sheet_query(request.query_params)
    except BadInput as exc:
        return None, exc
    return (search(services.repo, who, query) if query.active else None), None


def _index(request: Request, who: Account, services: Services, critic: CriticDep,
           values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
    """Staff see their own section's sheets first, then other sections' submitted sheets."""
    found, wrong = _search(request, who, services)
    reviews = services.reviews.of_organisation(who.organisation_id)
    common = {"reviews": reviews, "org_name": services.organisation_name, "values": values, "errors": errors,
              "found": found, "wrong": wrong, "q": request.query_params, "state_choices": state_choices()}
    if found is not None:  # a search: its page of results only
        hits = [(s, _stored_critique(s, critic.engine)) for s in found.sheets]
        return render(request, "index.html", {**common, "hits": hits, "mine": [], "by_section": {}, "returned_sheets": []},
                      status_code=status_code)
    sheets = visible(who, services.repo.list(who.organisation_id))
    mine = sorted((s for s in sheets if can_edit(who, s)), key=lambda s: s.updated_at, reverse=True)
    by_section: dict[str, list[tuple[StoredSheet, Critique]]] = {}
    for stored in sorted(sheets, key=lambda s: (s.section, s.title)):
        if stored not in mine:
            by_section.setdefault(stored.section, []).append((stored, _stored_critique(stored, critic.engine)))
    returned = [(s, _last_return(services, s)) for s in mine if (r := reviews.get(s.id)) and r.state == ReviewState.RETURNED]
    context = {**common, "mine": [(s, _stored_critique(s, critic.engine)) for s in mine], "by_section": by_section,
               "returned_sheets": returned, "hits": []}
    return render(request, "index.html", context, status_code=422 if wrong else status_code)


def _last_return(services: Services, stored: StoredSheet) -> object:
    """Who returned the sheet, when, and the note they wrote (the audit event of the move)."""
    return next((e for e in services.reviews.log(stored.organisation_id, stored.id, limit=50)
                 if isinstance(e.event, Returned)), None)


def _stored_critique(stored: StoredSheet, engine: str) -> Critique:
    """The rule findings stored with the sheet's latest version (the list never re-runs the critic)."""
    return Critique(findings=list(stored.findings), engine=engine)


@router.post("/sheets")
async def create(request: Request, who: UserDep, critic: CriticDep, services: ServicesDep) -> Response:
    if who.role != "staff":
        raise Forbidden("シートを作れるのは係の職員です（自分の係のシートだけ作れます）。")
    form = await form_of(request)
    return await in_thread(request, _create, request, who, critic, services, form)


def _create(request: Request, who: Account, critic: CritiqueService, services: Services, form: FormData) -> Response:
    # the section comes from the account, whatever the form says
    values = {"section": who.section or "", "title": str(form.get("title", "")).strip()}
    errors = {}
    if not values["section"]:
        errors["section"] = "係名を入力してください。"
    for k in ("section", "title"):
        if len(values[k]) > 100:
            errors[k] = "100文字以内で入力してください。"
    if errors:
        return _index(request, who, services, critic, values, errors, 422)
    stored = services.repo.create(who.organisation_id, empty_sheet(values["section"], values["title"]))
    services.after_save(stored)
    return _see(f"/sheets/{stored.id}")

FLASHES = {
    "saved": "保存しました（第{}版）。",
    "restored": "第{}版の内容に戻しました。元の内容も履歴に残っています。",
    "moved": moves.MOVED,
    "undone": moves.UNDONE,
    "unchanged": "変更はありません（第{}版のまま）。",
    State.SUBMITTED: "提出しました。DX推進チームのレビューを待っています。他の係からも「似ているシート」として見えるようになります。",
    "withdrawn": "提出を取り下げました。下書きに戻っています。",
    State.REVISING: "改訂を始めました。受理された版は履歴に残っています。直したら、もう一度提出してください。",
}


@router.get("/sheets/{sheet_id}", response_class=HTMLResponse)
@first_in_lane
async def editor(request: Request, sheet_id: SheetId, repo: RepoDep, services: ServicesDep) -> Response:
    # the editor's routes take the person in their one hop (web/lanes.py): no `UserDep` hop of its own
    return await in_thread(request, _editor, request, sheet_id, repo, services)


def _editor(request: Request, sheet_id: int, repo: SheetRepository, services: Services) -> Response:
    who = user_of(request)
    stored = readable(repo, who, sheet_id)
    if not can_edit(who, stored):  # others read it; the DX team reviews it
        return _see(f"/review/{sheet_id}" if who.is_dx else f"/sheets/{sheet_id}/view")
    q = request.query_params
    flash = next((text.format(q[key]) for key, text in FLASHES.items() if q.get(key)), "")
    moved = q.get("moved", "")
    undo = int(moved) if moved.isdigit() and len(moved) <= 10 else None  # 「元に戻す」 without JavaScript
    quiet = not flash and is_blank(stored.sheet)
    return render_editor(request, who, stored, services, flash=flash, undo=undo, quiet=quiet)


@router.post("/sheets/{sheet_id}")
@first_in_lane
async def submit(request: Request, sheet_id: SheetId, repo: RepoDep, services: ServicesDep) -> Response:
    """The form's real action: save, add/remove a row, move a solution to the margin, submit."""
    raw = await form_of(request)
    done = await in_thread(request, _submit, request, sheet_id, repo, services, raw)
    if done is None:  # 「AIコーチに聞く」 without JavaScript posts here
        return await start_deep(request, sheet_id, user_of(request), repo, services)  # the session, looked up
    return done


def _submit(request: Request, sheet_id: int, repo: SheetRepository, services: Services,
            raw: FormData) -> Response | None:
    """The form's action in a worker thread; None: the AI coach is asked (start_deep, on the loop)."""
    who = user_of(request)
    stored = editable(repo, who, sheet_id)
    if str(raw.get("op", "")) == "revise":  # 「改訂する」 on an accepted sheet: the form's text is not read
        services.revise(who, stored)
        return _see(f"/sheets/{sheet_id}?{State.REVISING}=1")
    check_editable(services.submissions.state_of(sheet_id))  # an accepted sheet: 409, nothing saved
    form = read_sheet_form(raw)
    if form.sheet is None:  # keep what was typed, show why next to the field, save nothing
        return render_editor(request, who, stored, services, form=form, status_code=422, partial="_sheet_form.html")
    op, _, arg = form.op.partition(":")
    if op == "overwrite":  # 「この画面の内容を新しい版として保存する」 after a conflict, having seen it
        op, form.base_version = "save", version_number(arg)
    if op == "deep":
        return None
    try:
        return _apply(request, stored, own_section(form.sheet, who), op, arg, form, who, services)
    except VersionConflict as exc:  # someone else saved first: keep the typed text, say what changed
        conflict = conflict_of(repo, who.organisation_id, exc)
        return render_editor(request, who, repo.get(sheet_id, who.organisation_id), services, form=form,
                             status_code=409, partial="_sheet_form.html", conflict=conflict)

def _apply(request: Request, stored: StoredSheet, sheet: Sheet, op: str, arg: str, form: SheetForm,
           who: Account, services: Services) -> Response:
    repo, sheet_id, org = services.repo, stored.id, who.organisation_id
    if op == "move":
        return moves.move(request, stored, sheet, arg, who, services, form)
    if op == "undo":
        return moves.undo(request, stored, sheet, arg, who, services, form)
    if op == "add" and arg in LIST_FIELDS:
        services.after_save(repo.autosave(sheet_id, org, sheet, form.base_version, who.id))
        return _see(f"/sheets/{sheet_id}?add={arg}#{arg}")
    if op == "remove":
        field, _, index = arg.partition(":")
        services.after_save(repo.autosave(sheet_id, org, _remove_row(sheet, field, index), form.base_version, who.id))
        return _see(f"/sheets/{sheet_id}#{field}")
    saved = repo.save(sheet_id, org, sheet, base_version=form.base_version, author_id=who.id)
    if op == "submit":
        services.submit(who, saved, form.hearing)
        return _see(f"/sheets/{sheet_id}?{State.SUBMITTED}=1")
    if op == "unsubmit":
        services.unsubmit(who, saved)
        return _see(f"/sheets/{sheet_id}?withdrawn=1")
    services.after_save(saved)
    if not saved.changed:
        return _see(f"/sheets/{sheet_id}?unchanged={saved.version}")
    return _see(f"/sheets/{sheet_id}?saved={saved.version}")


def _remove_row(sheet: Sheet, field: str, index: str) -> Sheet:
    if field not in LIST_FIELDS or not index.isdigit():
        return sheet
    items = list(getattr(sheet, field))
    if int(index) < len(items):
        del items[int(index)]
    return sheet.model_copy(update={field: items})


@dataclass
class _Checked:
    stored: StoredSheet | SheetHead
    critique: Critique | None
    base: int | None
    saved_note: str = ""
    conflict: object = None
    stale: bool = False  # an autosave sent before the writer's own later save: nothing to show


def _check_and_autosave(request: Request, repo: SheetRepository, critic: CritiqueService, services: Services,
                        sheet_id: int, form: SheetForm) -> _Checked:
    """The editor's typing pause, in a worker thread (database and critic never hold the event loop):
    critique what was typed, then store it with those findings (one critique, computed outside the
    write lock); indexing for similar sheets follows from the outbox, not here."""
    who = user_of(request)
    stored: StoredSheet | SheetHead = writable(services.submissions, who, sheet_id)
    sheet = own_section(form.sheet, who) if form.sheet is not None else None
    if sheet is None:
        return _Checked(stored, None, form.base_version)
    critique = critic.critique(sheet)
    out = _Checked(stored, critique, form.base_version)
    try:
        saved = repo.autosave(sheet_id, who.organisation_id, sheet, base_version=form.base_version,
                              author_id=who.id, last_word=form.leaving,
                              findings=critique.findings if critic.engine == RuleCritic.name else None)
        # no wake: a typing pause's index update is due in AUTOSAVE_DELAY and the worker's poll takes it,
        # with the other typists' in one batch
        out.stored, out.saved_note, out.base = saved, "saved", saved.version  # the form goes on from it
    except VersionConflict as exc:  # the page keeps the text; autosave waits until the writer decides
        if exc.by_self:  # sent before the writer's own later save or move: stale, nothing to show
            out.stale = True
        else:
            out.saved_note, out.conflict = "conflict", conflict_of(repo, who.organisation_id, exc)
    except Exception:  # the page still holds the text; say so instead of failing
        log.exception("autosave failed for sheet %s", sheet_id)
        out.saved_note = "failed"
    return out


@router.post("/sheets/{sheet_id}/check", response_class=HTMLResponse)
@first_in_lane
async def check(request: Request, sheet_id: SheetId, repo: RepoDep, critic: CriticDep,
                services: ServicesDep) -> Response:
    """While typing (htmx): critique what is in the form and autosave it. Returns feedback fragments."""
    form = read_sheet_form(await form_of(request))
    done = await in_thread(request, _check_and_autosave, request, repo, critic, services, sheet_id, form)
    if done.stale:
        return Response(status_code=204)
    context = {"stored": done.stored, "values": form.values, "errors": form.errors, "critique": done.critique,
               "saved_note": done.saved_note, "oob": True, "conflict": done.conflict, "base_version": done.base}
    response = render(request, "_feedback.html", context, partial="_feedback.html",
                      status_code=409 if done.conflict else 200)
    response.headers["X-Coach-Autosave"] = done.saved_note or "invalid"  # editor.js: is the typed text stored?
    if done.saved_note == "saved":  # keep-typing.js: which write the page last knows of (a fold changes it)
        response.headers["X-Coach-Updated"] = done.stored.updated_at.isoformat()
    return response


@router.get("/sheets/{sheet_id}/history", response_class=HTMLResponse)
def history(request: Request, sheet_id: SheetId, who: UserDep, repo: RepoDep, services: ServicesDep,
            from_: Annotated[int | None, Query(alias="from", ge=1, le=MAX_ID, description="比べる版")] = None,
            to: Annotated[int | None, Query(ge=1, le=MAX_ID, description="比べる版")] = None) -> Response:
    stored = with_history(repo, who, sheet_id)
    context = {"stored": stored, "versions": repo.versions(sheet_id, who.organisation_id),
               "org_name": services.organisation_name, "can_restore": can_edit(who, stored),
               "authors": authors(repo.sessions, sheet_id, who.organisation_id),
               **compared(repo, stored, from_, to)}
    return render(request, "history.html", context, status_code=422 if context["compare_error"] else 200)


@router.get("/sheets/{sheet_id}/versions/{number}", response_class=HTMLResponse)
def version(request: Request, sheet_id: SheetId, number: VersionNumber, who: UserDep, repo: RepoDep, critic: CriticDep,
            services: ServicesDep) -> Response:
    stored = with_history(repo, who, sheet_id)
    sheet = repo.version(sheet_id, who.organisation_id, number)
    context = {"stored": stored, "number": number, "sheet": sheet, "critique": critic.critique(sheet),
               "org_name": services.organisation_name, "can_restore": can_edit(who, stored)}
    return render(request, "version.html", context)


@router.post("/sheets/{sheet_id}/versions/{number}/restore")
def restore(sheet_id: SheetId, number: VersionNumber, who: UserDep, repo: RepoDep, services: ServicesDep) -> Response:
    writable(services.submissions, who, sheet_id)
    restored = repo.restore(sheet_id, who.organisation_id, number)
    if not restored.changed:
        return _see(f"/sheets/{sheet_id}?unchanged={restored.version}")
    services.after_save(restored)
    return _see(f"/sheets/{sheet_id}?restored={number}")


@router.get("/sheets/{sheet_id}/view", response_class=HTMLResponse)
def view(request: Request, sheet_id: SheetId, who: UserDep, repo: RepoDep, services: ServicesDep) -> Response:
    """Another section's sheet, read-only (opened from 「似ているシート」)."""
    stored = readable(repo, who, sheet_id)
    context = {"stored": stored, "sheet": stored.sheet, "org_name": services.organisation_name,
               "linked": linked_sheets(services, who, stored.id)}
    return render(request, "view.html", context)


@router.get("/sheets/{sheet_id}/similar", response_class=HTMLResponse)
def similar_panel(request: Request, sheet_id: SheetId, who: UserDep, repo: RepoDep, services: ServicesDep) -> Response:
    stored = with_history(repo, who, sheet_id)
    context = {"stored": stored, "similar": similar_for(services, who, stored, stored.sheet),
               "org_name": services.organisation_name}
    return render(request, "similar.html", context, partial="_similar.html")


@router.post("/sheets/{sheet_id}/similar", response_class=HTMLResponse)
@typing_lane
async def similar_live(request: Request, sheet_id: SheetId, repo: RepoDep,
                       services: ServicesDep) -> Response:
    """While typing (htmx): similar sheets for what is in the form now, saved or not."""
    form = read_sheet_form(await form_of(request))

    def search() -> Response:  # in a worker thread: the index and the database never hold the loop
        who = user_of(request)
        stored: StoredSheet | SheetHead
        if form.sheet is None:  # nothing valid typed: the stored text
            full = editable(repo, who, sheet_id)
            stored, sheet = full, full.sheet
        else:  # the typed text: the sheet's head is enough
            stored, sheet = editable_head(repo, who, sheet_id), form.sheet
        context = {"stored": stored, "similar": similar_for(services, who, stored, sheet),
                   "org_name": services.organisation_name}
        return render(request, "similar.html", context, partial="_similar.html")  # the whole page reads the session

    return await in_thread(request, search)
