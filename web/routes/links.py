"""横連携: the DX team links sheets that share a problem (or rejects a suggested match) on the review
page, sees and undoes the links in the 「同じ問題」 view; both sections see the link on their sheet."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coach.errors import BadInput, FieldError
from coach.repository import StoredSheet
from coach.workspace.links import REJECTED, Group, groups
from web.auth import DxDep, check_csrf
from web.deps import ServicesDep
from web.forms import FormDep
from web.htmx import render
from web.params import LinkId, SheetId, bounded_id

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


def _other(form_value: object) -> int:
    other = bounded_id(str(form_value or ""))
    if other is None:
        raise BadInput([FieldError("other", None, "つなぐ相手のシートを選んでください。")])
    return other


def _back(sheet_id: int, done: str) -> Response:
    return RedirectResponse(f"/review/{sheet_id}?done={done}#links", status_code=303)


@router.post("/review/{sheet_id}/links")
def link(sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    services.links.link(who, sheet_id, _other(form.get("other")), str(form.get("label", "")))
    return _back(sheet_id, "linked")


@router.post("/review/{sheet_id}/links/reject")
def reject(sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    services.links.reject(who, sheet_id, _other(form.get("other")))
    return _back(sheet_id, "rejected")


@router.post("/review/{sheet_id}/links/{link_id}/delete")
def unlink_here(sheet_id: SheetId, link_id: LinkId, who: DxDep, services: ServicesDep) -> Response:
    if link_id not in {lk.id for lk in services.links.of_sheet(who.organisation_id, sheet_id)}:
        raise BadInput([FieldError("link", None, "このシートのつながりではありません。ページを読み込み直してください。")])
    services.links.remove(who, link_id)
    return _back(sheet_id, "unlinked")


@dataclass(frozen=True)
class GroupView:
    group: Group
    sheets: list[StoredSheet]

    @property
    def sections(self) -> list[str]:
        return sorted({s.section for s in self.sheets})


@router.get("/links", response_class=HTMLResponse)
def links_page(request: Request, who: DxDep, services: ServicesDep) -> Response:
    """Every group of sheets the DX team linked as one problem, and the matches it rejected."""
    org = who.organisation_id
    sheets = {s.id: s for s in services.repo.list(org)}
    links = services.links.of_organisation(org)
    shown = [GroupView(g, [sheets[i] for i in g.sheet_ids if i in sheets]) for g in groups(links)]
    rejected = [lk for lk in links if lk.state == REJECTED and lk.a in sheets and lk.b in sheets]
    context = {"org_name": services.organisation_name, "groups": shown, "rejected": rejected, "sheets": sheets,
               "flash": request.query_params.get("done", "")}
    return render(request, "links.html", context)


@router.post("/links/{link_id}/delete")
def unlink(link_id: LinkId, who: DxDep, services: ServicesDep) -> Response:
    services.links.remove(who, link_id)
    return RedirectResponse("/links?done=removed", status_code=303)
