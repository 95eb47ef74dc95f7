"""API tokens on the 設定 page: the DX team creates one (its secret shown once) and revokes it after a
confirmation (every POST answers 303 to a GET). The tokens themselves open the JSON API only (web/auth.py `bearer_caller`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coach.errors import BadInput
from coach.workspace.tokens import parse_expiry
from web.admin_page import admin_page, back
from web.auth import DxDep, check_csrf
from web.confirm import confirmed
from web.deps import ServicesDep
from web.forms import FormDep
from web.htmx import render
from web.params import TokenId

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
FIELDS = ("token_name", "scope", "reach", "expires_on")


@router.post("/admin/tokens")
def create_token(request: Request, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    try:
        secret, token = services.tokens.create(who, values["token_name"], values["scope"],
                                               None if values["reach"] == "town" else values["reach"],
                                               parse_expiry(values["expires_on"]))
    except BadInput as exc:
        errors = {("token_name" if e.field == "name" else e.field): e.reason for e in exc.errors}
        return admin_page(request, who, services, values={**values, "role": "staff"}, errors=errors, status_code=422)
    return back(request, services, "/admin#tokens", name=token.name, token=secret,
                flash=f"API トークン「{token.name}」を作りました。")


@router.get("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
def confirm_revoke(request: Request, token_id: TokenId, who: DxDep, services: ServicesDep) -> Response:
    token = services.tokens.get(who.organisation_id, token_id)
    return render(request, "token_revoke.html", {"org_name": services.organisation_name, "token": token})


@router.post("/admin/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: TokenId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    if not confirmed(form):  # asked on the page above first
        return RedirectResponse(f"/admin/tokens/{token_id}/revoke", status_code=303)
    token = services.tokens.revoke(who, token_id)
    return back(request, services, "/admin#tokens",
                flash=f"API トークン「{token.name}」を取り消しました。これ以降は使えません。")
