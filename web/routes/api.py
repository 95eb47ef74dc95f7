"""The JSON API of contract §6, under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from coach.errors import BadInput, FieldError
from coach.findings import Critique
from coach.permissions import can_create_in
from coach.retrieval.entries import entry_of
from coach.sheet import Sheet, SheetWrite
from web.access import editable, readable, with_history
from web.auth import ApiCallerDep, Forbidden
from web.deps import CriticDep, RepoDep, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["api"])


@router.post("/critique", response_model=Critique, summary="シートを講評する")
def critique(sheet: Sheet, critic: CriticDep) -> Critique:
    return critic.critique(sheet)


@router.post("/sheets", status_code=201, summary="シートを保存する（第1版）")
def create_sheet(body: SheetWrite, who: ApiCallerDep, repo: RepoDep, services: ServicesDep) -> JSONResponse:
    if not can_create_in(who, body.section):
        raise Forbidden("シートを作れるのは、その係の職員です。")
    stored = repo.create(who.organisation_id, body.sheet())
    services.after_save(stored)
    return JSONResponse(stored.as_api(), status_code=201, headers={"Location": f"/api/v1/sheets/{stored.id}"})


@router.get("/sheets/{sheet_id}", summary="シートを読む（最新版）")
def get_sheet(sheet_id: int, who: ApiCallerDep, repo: RepoDep) -> dict[str, object]:
    return readable(repo, who, sheet_id).as_api()


@router.put("/sheets/{sheet_id}", summary="シートを更新する（新しい版）")
def update_sheet(sheet_id: int, body: SheetWrite, who: ApiCallerDep, repo: RepoDep,
                 services: ServicesDep) -> dict[str, object]:
    if body.id is not None and str(body.id) != str(sheet_id):
        raise BadInput([FieldError("id", None, f"URL のシート（{sheet_id}）と本文の id（{body.id}）が違います。")])
    editable(repo, who, sheet_id)
    if not can_create_in(who, body.section):
        raise Forbidden("シートを別の係へ移すことはできません。")
    stored = repo.save(sheet_id, who.organisation_id, body.sheet())
    services.after_save(stored)
    return stored.as_api()


@router.get("/sheets/{sheet_id}/versions", summary="版の一覧")
def list_versions(sheet_id: int, who: ApiCallerDep, repo: RepoDep) -> list[dict[str, object]]:
    with_history(repo, who, sheet_id)
    org = who.organisation_id
    return [
        {"number": v.number, "kind": v.kind, "created_at": v.created_at.isoformat(timespec="seconds") + "Z"}
        for v in repo.versions(sheet_id, org)
    ]


@router.get("/sheets/{sheet_id}/similar", summary="似ているシート（同じ組織、提出済み・同じ係のもの）")
def similar(sheet_id: int, who: ApiCallerDep, repo: RepoDep, services: ServicesDep,
            k: Annotated[int, Query(ge=1, le=20, description="件数")] = 5) -> JSONResponse:
    stored = readable(repo, who, sheet_id)
    org = who.organisation_id
    # Drafts shown are the viewer's own section's: staff reading another section's submitted sheet
    # must not see that section's drafts among its neighbours.
    viewer = who.section if who.role == "staff" and who.section else stored.section
    result = services.similar.similar(org, stored.sheet, k=k, exclude_ref=entry_of(stored).ref,
                                      viewer_section=viewer, sheet_id=stored.id)
    if result.unavailable:
        body = BadInput([FieldError("similar", None, result.unavailable)], message=result.unavailable).as_dict()
        return JSONResponse(body, status_code=503)
    return JSONResponse([
        {"id": m.hit.id, "score": m.hit.score, "section": m.hit.section, "title": m.hit.title}
        for m in result.matches
    ])
