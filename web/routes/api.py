"""The JSON API of contract §6, under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from coach.errors import BadInput, FieldError
from coach.findings import Critique
from coach.retrieval.entries import entry_of
from coach.sheet import Sheet, SheetWrite
from web.deps import CriticDep, OrgDep, RepoDep, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["api"])


@router.post("/critique", response_model=Critique, summary="シートを講評する")
def critique(sheet: Sheet, critic: CriticDep) -> Critique:
    return critic.critique(sheet)


@router.post("/sheets", status_code=201, summary="シートを保存する（第1版）")
def create_sheet(body: SheetWrite, repo: RepoDep, org: OrgDep, services: ServicesDep) -> JSONResponse:
    stored = repo.create(org, body.sheet())
    services.after_save(stored)
    return JSONResponse(stored.as_api(), status_code=201, headers={"Location": f"/api/v1/sheets/{stored.id}"})


@router.get("/sheets/{sheet_id}", summary="シートを読む（最新版）")
def get_sheet(sheet_id: int, repo: RepoDep, org: OrgDep) -> dict[str, object]:
    return repo.get(sheet_id, org).as_api()


@router.put("/sheets/{sheet_id}", summary="シートを更新する（新しい版）")
def update_sheet(sheet_id: int, body: SheetWrite, repo: RepoDep, org: OrgDep,
                 services: ServicesDep) -> dict[str, object]:
    if body.id is not None and str(body.id) != str(sheet_id):
        raise BadInput([FieldError("id", None, f"URL のシート（{sheet_id}）と本文の id（{body.id}）が違います。")])
    stored = repo.save(sheet_id, org, body.sheet())
    services.after_save(stored)
    return stored.as_api()


@router.get("/sheets/{sheet_id}/versions", summary="版の一覧")
def list_versions(sheet_id: int, repo: RepoDep, org: OrgDep) -> list[dict[str, object]]:
    return [
        {"number": v.number, "kind": v.kind, "created_at": v.created_at.isoformat(timespec="seconds") + "Z"}
        for v in repo.versions(sheet_id, org)
    ]


@router.get("/sheets/{sheet_id}/similar", summary="似ているシート（同じ組織、提出済み・同じ係のもの）")
def similar(sheet_id: int, repo: RepoDep, org: OrgDep, services: ServicesDep,
            k: Annotated[int, Query(ge=1, le=20, description="件数")] = 5) -> JSONResponse:
    stored = repo.get(sheet_id, org)
    result = services.similar.similar(org, stored.sheet, k=k, exclude_ref=entry_of(stored).ref,
                                      viewer_section=stored.section)
    if result.unavailable:
        body = BadInput([FieldError("similar", None, result.unavailable)], message=result.unavailable).as_dict()
        return JSONResponse(body, status_code=503)
    return JSONResponse([
        {"id": m.hit.id, "score": m.hit.score, "section": m.hit.section, "title": m.hit.title}
        for m in result.matches
    ])
