"""The JSON API of contract §6, under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response

from coach.errors import BadInput, FieldError
from coach.findings import Critique
from coach.retrieval.entries import entry_of
from coach.sheet import MAX_VERSION, Sheet, SheetWrite
from coach.workspace.permissions import can_create_in
from web.access import readable, with_history, writable
from web.auth import ApiCallerDep, Forbidden
from web.deps import CriticDep, RepoDep, ServicesDep
from web.params import SheetId

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
def get_sheet(sheet_id: SheetId, who: ApiCallerDep, repo: RepoDep, response: Response) -> dict[str, object]:
    stored = readable(repo, who, sheet_id)
    response.headers["ETag"] = etag(stored.version)
    return stored.as_api()


@router.put("/sheets/{sheet_id}", summary="シートを更新する（新しい版）",
            description="編集を始めた版を本文の `base_version` か `If-Match` ヘッダー（GET の ETag）で送ると、"
                        "その後に別の人が保存していた場合は保存せずに 409 を返します。送らなければ従来どおり保存します。",
            responses={409: {"description": "別の人が先に保存しました（本文に最新の版 `latest_version`）"}})
def update_sheet(sheet_id: SheetId, body: SheetWrite, who: ApiCallerDep, repo: RepoDep, services: ServicesDep,
                 response: Response, if_match: Annotated[str | None, Header(max_length=100)] = None,
                 ) -> dict[str, object]:
    if body.id is not None and str(body.id) != str(sheet_id):
        raise BadInput([FieldError("id", None, f"URL のシート（{sheet_id}）と本文の id（{body.id}）が違います。")])
    writable(services.submissions, who, sheet_id)  # an accepted sheet: 409 (改訂する first)
    if not can_create_in(who, body.section):
        raise Forbidden("シートを別の係へ移すことはできません。")
    base = body.base_version if body.base_version is not None else version_of(if_match)
    stored = repo.save(sheet_id, who.organisation_id, body.sheet(), base_version=base, author_id=who.id or None)
    services.after_save(stored)
    response.headers["ETag"] = etag(stored.version)
    return stored.as_api()


def etag(version: int) -> str:
    return f'"{version}"'


def version_of(if_match: str | None) -> int | None:
    """`If-Match: "3"` (the ETag of GET), also W/"3" or 3; `*` or no header: no check."""
    if if_match is None or if_match.strip() in ("", "*"):
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not (0 < len(text) <= 10 and text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_VERSION):
        raise BadInput([FieldError("If-Match", None, "If-Match には編集を始めた版の番号（GET の ETag、例 \"3\"）を"
                                                     "1つだけ指定してください。")])
    return int(text)


@router.get("/sheets/{sheet_id}/versions", summary="版の一覧")
def list_versions(sheet_id: SheetId, who: ApiCallerDep, repo: RepoDep) -> list[dict[str, object]]:
    with_history(repo, who, sheet_id)
    org = who.organisation_id
    return [
        {"number": v.number, "kind": v.kind, "created_at": v.created_at.isoformat(timespec="seconds") + "Z"}
        for v in repo.versions(sheet_id, org)
    ]


@router.get("/sheets/{sheet_id}/similar", summary="似ているシート（同じ組織、提出済み・同じ係のもの）")
def similar(sheet_id: SheetId, who: ApiCallerDep, repo: RepoDep, services: ServicesDep,
            k: Annotated[int, Query(ge=1, le=20, description="件数")] = 5) -> JSONResponse:
    stored = readable(repo, who, sheet_id)
    result = services.similar.similar(who, stored.sheet, k=k, exclude_ref=entry_of(stored).ref, sheet_id=stored.id)
    if result.unavailable:
        body = BadInput([FieldError("similar", None, result.unavailable)], message=result.unavailable).as_dict()
        return JSONResponse(body, status_code=503)
    return JSONResponse([
        {"id": m.hit.id, "score": m.hit.score, "section": m.hit.section, "title": m.hit.title}
        for m in result.matches
    ])
