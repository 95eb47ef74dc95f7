"""「AIコーチに聞く」: start a deep critique, stream its progress (SSE), cancel it. Works without JS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from web.access import editable
from web.auth import UserDep, check_csrf
from web.deep import deep_context, done_context, start_deep
from web.deps import RepoDep, ServicesDep
from web.htmx import render, templates
from web.params import SheetId

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


@router.post("/sheets/{sheet_id}/deep", response_class=HTMLResponse)
async def start(request: Request, sheet_id: SheetId, who: UserDep, repo: RepoDep, services: ServicesDep) -> Response:
    return await start_deep(request, sheet_id, who, repo, services)


def _sse(event: str, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {event}\n{data}\n\n"


@router.get("/sheets/{sheet_id}/deep/{job_id}/events")
async def events(request: Request, sheet_id: SheetId, job_id: str, who: UserDep, repo: RepoDep,
                 services: ServicesDep) -> Response:
    stored = editable(repo, who, sheet_id)
    job = services.jobs.get(job_id, sheet_id, who.organisation_id)

    async def stream() -> AsyncIterator[str]:
        if job is None:
            html = templates.get_template("_deep.html").render(
                deep_context(stored, services, stored.sheet.model_dump(), deep_state="idle", request=request))
            yield _sse("done", html)
            return
        while not job.future.done():
            if job.cancelled or await request.is_disconnected():
                return
            yield _sse("progress", f'<span class="spinner" aria-hidden="true"></span>'
                                   f"AIコーチが読んでいます…（{job.elapsed()}秒）")
            await asyncio.sleep(1.0)
        if job.cancelled:
            return
        result = job.future.result()
        sheet = stored.sheet
        html = templates.get_template("_deep.html").render(
            {**done_context(stored, services, sheet, result), "request": request})
        yield _sse("done", html)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/sheets/{sheet_id}/deep/{job_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, sheet_id: SheetId, job_id: str, who: UserDep, repo: RepoDep,
           services: ServicesDep) -> Response:
    stored = editable(repo, who, sheet_id)
    services.jobs.cancel(job_id, sheet_id, who.organisation_id)
    return render(request, "_deep.html",
                  deep_context(stored, services, stored.sheet.model_dump(), deep_state="cancelled"))
