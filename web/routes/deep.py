"""「AIコーチに聞く」: start a deep critique, stream its progress (SSE), cancel it. Works without JS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from coach.jobs import DIED, JobView
from web.access import editable
from web.auth import UserDep, check_csrf
from web.deep import deep_context, done_context, start_deep
from web.deps import RepoDep, ServicesDep
from web.htmx import render, templates
from web.params import SheetId

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
POLL = 1.0  # seconds between two reads of a job's row while the page waits


@router.post("/sheets/{sheet_id}/deep", response_class=HTMLResponse)
async def start(request: Request, sheet_id: SheetId, who: UserDep, repo: RepoDep, services: ServicesDep) -> Response:
    return await start_deep(request, sheet_id, who, repo, services)


def _sse(event: str, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {event}\n{data}\n\n"


@router.get("/sheets/{sheet_id}/deep/{job_id}/events")
async def events(request: Request, sheet_id: SheetId, job_id: str, who: UserDep, repo: RepoDep,
                 services: ServicesDep) -> Response:
    """Progress of a job that any worker may be running: its row is read every POLL seconds until it
    leaves "running" or its deadline passes (then it is marked failed), and the final panel is sent.
    A stream, so this stays a coroutine: every read and the final panel run in a worker thread."""
    stored = await run_in_threadpool(editable, repo, who, sheet_id)
    org = who.organisation_id

    def panel(**extra: Any) -> str:
        context = deep_context(stored, services, stored.sheet.model_dump(), request=request, **extra)
        return templates.get_template("_deep.html").render(context)

    async def stream() -> AsyncIterator[str]:
        polls = int((services.jobs.deadline + 5) / POLL) + 1  # bounded even if the clock misbehaves
        for _ in range(polls):
            job = await run_in_threadpool(services.jobs.get, job_id, sheet_id, org)
            if job is None:
                yield _sse("done", panel(deep_state="idle"))
                return
            if job.state != "running":  # the final panel runs the rules (CPU): off the loop too
                yield _sse("done", await run_in_threadpool(_final, job))
                return
            if await request.is_disconnected():
                return
            yield _sse("progress", f'<span class="spinner" aria-hidden="true"></span>'
                                   f"AIコーチが読んでいます…（{job.elapsed()}秒）")
            await asyncio.sleep(POLL)
        yield _sse("done", panel(deep_state="failed", error=DIED))

    def _final(job: JobView) -> str:
        if job.state == "done" and job.result is not None:
            return templates.get_template("_deep.html").render(
                {**done_context(stored, services, stored.sheet, job.result), "request": request})
        if job.state == "cancelled":
            return panel(deep_state="cancelled")
        return panel(deep_state="failed", error=job.error or DIED)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/sheets/{sheet_id}/deep/{job_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, sheet_id: SheetId, job_id: str, who: UserDep, repo: RepoDep,
           services: ServicesDep) -> Response:
    stored = editable(repo, who, sheet_id)
    services.jobs.cancel(job_id, sheet_id, who.organisation_id)
    return render(request, "_deep.html",
                  deep_context(stored, services, stored.sheet.model_dump(), deep_state="cancelled"))
