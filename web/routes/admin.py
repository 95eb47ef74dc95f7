"""The DX team's settings: accounts (create, reset a password, stop/restart), sections, the theme list;
the API tokens' routes (web/routes/tokens.py) render this page too. A destructive action asks first on a
page of its own (web/confirm.py); every successful POST answers 303 to a GET (web/admin_page.py `back`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coach.errors import BadInput, FieldError
from coach.workspace.accounts import new_password
from coach.workspace.audit_events import AccountActivated, AccountCreated, PasswordReset, SectionsAdded
from web.admin_page import admin_page, back
from web.auth import DxDep, check_csrf
from web.confirm import Confirm, confirm_page, confirmed
from web.deps import ServicesDep
from web.forms import FormDep
from web.params import ThemeId, UserId

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, who: DxDep, services: ServicesDep) -> Response:
    return admin_page(request, who, services)


@router.post("/admin/accounts")
def create_account(request: Request, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    values = {k: str(form.get(k, "")).strip() for k in ("login", "name", "role", "section", "email")}
    password = new_password()
    try:
        account = services.accounts.create(  # argon2 hashing: in this worker thread, off the event loop
            who.organisation_id, values["login"], values["name"], values["role"],
            password, values["section"] if values["role"] == "staff" else None, values["email"])
    except BadInput as exc:
        errors = {e.field: e.reason for e in exc.errors}
        return admin_page(request, who, services, values=values, errors=errors, status_code=422)
    services.reviews.audit(who, None, AccountCreated(account.login, account.role))
    return back(request, services, login=account.login, password=password,
                flash=f"{account.name}さんのアカウントを作りました。")


@router.get("/admin/accounts/{user_id}/password", response_class=HTMLResponse)
def confirm_reset(request: Request, user_id: UserId, who: DxDep, services: ServicesDep) -> Response:
    account = services.accounts.get(user_id, who.organisation_id)
    return confirm_page(request, services, Confirm(
        "パスワードを再発行しますか？", f"/admin/accounts/{user_id}/password", "再発行する",
        [f"{account.name}（{account.login}）のパスワードを新しく作ります。",
         "今のパスワードは使えなくなり、ログイン中の画面もログアウトされます。新しいパスワードは次の画面に一度だけ表示されます。"]))


@router.post("/admin/accounts/{user_id}/password")
def reset_password(request: Request, user_id: UserId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    if not confirmed(form):  # a one-click form of an older page: ask first
        return RedirectResponse(f"/admin/accounts/{user_id}/password", status_code=303)
    account = services.accounts.get(user_id, who.organisation_id)
    password = new_password()
    services.accounts.set_password(user_id, who.organisation_id, password)
    services.reviews.audit(who, None, PasswordReset(account.login))
    return back(request, services, login=account.login, password=password,
                flash=f"{account.name}さんのパスワードを新しくしました。今のログインは切れます。")


@router.get("/admin/accounts/{user_id}/deactivate", response_class=HTMLResponse)
def confirm_deactivate(request: Request, user_id: UserId, who: DxDep, services: ServicesDep) -> Response:
    account = services.accounts.get(user_id, who.organisation_id)
    return confirm_page(request, services, Confirm(
        "アカウントを停止しますか？", f"/admin/accounts/{user_id}/active", "停止する",
        [f"{account.name}（{account.login}）はログインできなくなり、ログイン中の画面もログアウトされます。",
         "シートや記録は消えません。あとから「再開する」で元に戻せます。"], {"active": "0"}))


@router.post("/admin/accounts/{user_id}/active")
def set_active(request: Request, user_id: UserId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    active = form.get("active") == "1"
    if user_id == who.id and not active:
        raise BadInput([FieldError("active", None, "自分のアカウントは停止できません。")])
    if not active and not confirmed(form):
        return RedirectResponse(f"/admin/accounts/{user_id}/deactivate", status_code=303)
    account = services.accounts.get(user_id, who.organisation_id)
    services.accounts.set_active(user_id, who.organisation_id, active)
    services.reviews.audit(who, None, AccountActivated(active, account.login))
    return back(request, services, flash=f"{account.name}さんのアカウントを{'再開' if active else '停止'}しました。")


@router.post("/admin/sections")
def add_sections(request: Request, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    """Paste the town's list of sections (one per line): the overview counts which have a sheet."""
    text = str(form.get("names", ""))
    names = [n.strip() for n in text.replace("、", "\n").splitlines() if n.strip()]
    if any(len(n) > 100 for n in names):
        raise BadInput([FieldError("names", None, "係名は100文字以内で、1行に1つずつ書いてください。")])
    added = services.repo.add_sections(who.organisation_id, names)
    services.reviews.audit(who, None, SectionsAdded(added))
    return back(request, services, "/admin#sections", flash=f"{added} 件の係を追加しました。")


@router.post("/admin/themes")
def add_theme(request: Request, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    name = str(form.get("name", ""))
    try:
        services.cycle.add_theme(who, name)
    except BadInput as exc:
        return admin_page(request, who, services, values={"theme": name, "role": "staff"},
                     errors={"theme": exc.errors[0].reason}, status_code=422)
    return RedirectResponse("/admin#themes", status_code=303)


@router.get("/admin/themes/{theme_id}/delete", response_class=HTMLResponse)
def confirm_remove_theme(request: Request, theme_id: ThemeId, who: DxDep, services: ServicesDep) -> Response:
    org = who.organisation_id
    theme = next((t for t in services.cycle.themes(org) if t.id == theme_id), None)
    if theme is None:
        raise BadInput([FieldError("theme", None, "そのテーマは見つかりません。")])
    carrying = sum(theme.name in names for names in services.cycle.sheet_themes(org).values())
    return confirm_page(request, services, Confirm(
        f"テーマ「{theme.name}」を削除しますか？", f"/admin/themes/{theme_id}/delete", "削除する",
        [f"このテーマが付いているシート {carrying} 件から、テーマが外れます。シートの内容は変わりません。",
         "元に戻すには、同じ名前のテーマを作り直して、シートに付け直してください。"], cancel="/admin#themes"))


@router.post("/admin/themes/{theme_id}/delete")
def remove_theme(request: Request, theme_id: ThemeId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    if not confirmed(form):
        return RedirectResponse(f"/admin/themes/{theme_id}/delete", status_code=303)
    services.cycle.remove_theme(who, theme_id)
    return RedirectResponse("/admin#themes", status_code=303)
