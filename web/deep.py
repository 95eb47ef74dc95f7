"""The AI coach's flow shared by its routes and the editor's no-JavaScript form: start a job, build its context."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from coach.app import Services
from coach.jobs import BROKEN, Started
from coach.repository import SheetRepository, StoredSheet, VersionConflict
from coach.service import DeepResult
from coach.sheet import Sheet
from coach.workspace.accounts import Account
from web.access import editable, own_section
from web.editor import render_editor
from web.forms import SheetForm, form_of, read_sheet_form
from web.htmx import is_htmx, render


def deep_context(stored: StoredSheet, services: Services, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"stored": stored, "values": values, "org_name": services.organisation_name, "job": None,
            "result": None, "rules_findings": [], **extra}


def done_context(stored: StoredSheet, services: Services, sheet: Sheet, result: DeepResult) -> dict[str, Any]:
    rules = services.critic.critique(sheet).findings
    return deep_context(stored, services, sheet.model_dump(), deep_state="done", result=result, rules_findings=rules)


async def start_deep(request: Request, sheet_id: int, who: Account, repo: SheetRepository,
                     services: Services) -> Response:
    """Start the AI coach on the sheet (saving the typed text first); without JavaScript, wait and show
    the page. The database work runs in worker threads (one hop to start, one to show the answer),
    the wait for the answer on the event loop without holding a thread."""
    form = read_sheet_form(await form_of(request))
    begun = await run_in_threadpool(_begin, request, sheet_id, who, repo, services, form)
    if isinstance(begun, Response):
        return begun
    stored, sheet, job = begun
    # Without JavaScript: wait for the answer (this process runs it) and show the whole page with it.
    result = await asyncio.wrap_future(job.future)
    return await run_in_threadpool(_answer, request, who, stored, services, sheet, result)


def _begin(request: Request, sheet_id: int, who: Account, repo: SheetRepository, services: Services,
           form: SheetForm) -> Response | tuple[StoredSheet, Sheet, Started]:
    """In a worker thread: check access, save the typed text, start the job; the panel to answer with,
    or (without JavaScript) what to wait for."""
    stored = editable(repo, who, sheet_id)
    org = who.organisation_id
    sheet = own_section(form.sheet, who) if form.sheet is not None else stored.sheet
    if form.sheet is not None:  # what the AI reads is what the user sees: keep it safe first
        try:
            stored = repo.autosave(sheet_id, org, sheet, base_version=form.base_version, author_id=who.id)
            services.after_save(stored)
        except VersionConflict:  # someone else saved first: the coach still reads the page; the editor's
            pass  # autosave shows the conflict and keeps the text

    if services.critic.llm is None:
        return render(request, "_deep.html", deep_context(stored, services, sheet.model_dump(), deep_state="off"))
    job = services.jobs.start(services.critic, sheet, services.references(who, stored, sheet), sheet_id, org, who.id)
    if is_htmx(request):
        return render(request, "_deep.html",
                      deep_context(stored, services, sheet.model_dump(), deep_state="running", job=job))
    return stored, sheet, job


def _answer(request: Request, who: Account, stored: StoredSheet, services: Services, sheet: Sheet,
            result: DeepResult | None) -> Response:
    deep = (done_context(stored, services, sheet, result) if result is not None else
            deep_context(stored, services, sheet.model_dump(), deep_state="failed", error=BROKEN))
    return render_editor(request, who, stored, services, deep=deep)
