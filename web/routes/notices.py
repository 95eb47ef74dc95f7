"""The notice list (/notices): newest first, opened (and so marked read) one by one or all at once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coach.workspace.notices import KINDS
from web.auth import UserDep, check_csrf
from web.deps import ServicesDep
from web.htmx import render
from web.params import NoticeId

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


@router.get("/notices", response_class=HTMLResponse)
def notice_list(request: Request, who: UserDep, services: ServicesDep) -> Response:
    context = {"org_name": services.organisation_name, "notices": services.notices.of(who.id), "kinds": KINDS}
    return render(request, "notices.html", context)


@router.get("/notices/{notice_id}")
def open_notice(request: Request, notice_id: NoticeId, who: UserDep, services: ServicesDep) -> Response:
    """Marks the notice read and goes where it points (the sheet, the review, the changes since a return)."""
    notice = services.notices.open(who.id, notice_id)
    if notice is None:
        return render(request, "error.html", {"status": 404, "reason": "お知らせが見つかりません。",
                                              "org_name": services.organisation_name}, status_code=404)
    return RedirectResponse(notice.link, status_code=303)


@router.post("/notices/read")
def read_all(who: UserDep, services: ServicesDep) -> Response:
    services.notices.read_all(who.id)
    return RedirectResponse("/notices", status_code=303)
