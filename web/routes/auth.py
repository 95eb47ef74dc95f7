"""Log in and out. The login form has its own CSRF token (a cookie and a field that must match)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coach.cleaning import normalise_login
from coach.workspace.accounts import MIN_PASSWORD
from coach.workspace.audit_events import PasswordChanged
from web.auth import (
    COOKIE,
    LOGIN_COOKIE,
    CsrfFailed,
    UserDep,
    check_csrf,
    csrf_matches,
    session_of,
    set_session_cookie,
)
from web.deps import ServicesDep
from web.forms import FormDep
from web.htmx import render

router = APIRouter(include_in_schema=False)

def safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(request: Request, services: ServicesDep, login: str = "", error: str = "",
                status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    context = {"org_name": services.organisation_name, "login": login, "error": error, "login_csrf": token,
               "next": safe_next(request.query_params.get("next", "/"))}
    response = render(request, "login.html", context, status_code=status_code)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=services.settings.secure_cookies, path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, services: ServicesDep) -> Response:
    if session_of(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next", "/")), status_code=303)
    return _login_page(request, services)


@router.post("/login")
def login(request: Request, services: ServicesDep, form: FormDep) -> Response:
    sent, expected = str(form.get("csrf_token", "")), request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfFailed()
    login_id = normalise_login(str(form.get("login", "")))  # the same form authentication looks up
    password = str(form.get("password", ""))
    shown = login_id[:50]
    address = request.client.host if request.client else ""
    attempt = services.login_throttle.begin(login_id, address)
    if attempt is None:
        return _login_page(request, services, shown, "ログインの失敗が続いたため、15分ほど受け付けを止めています。"
                           "パスワードが分からないときは DX推進チームに連絡してください。", 429)
    # argon2 is deliberately slow: like all of this route, it runs in a worker thread, never on the event loop
    account = services.accounts.authenticate(login_id, password)
    if account is None:
        return _login_page(request, services, shown, "ログインIDかパスワードが違います。", 401)
    services.login_throttle.passed(login_id, attempt)
    token, _ = services.accounts.open_session(account)
    target = safe_next(str(form.get("next", "/")))
    if target == "/" and account.is_dx:
        target = "/review"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token, services.settings.secure_cookies)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, services: ServicesDep, form: FormDep) -> Response:
    session = session_of(request)
    if session is not None:
        csrf_matches(request, session, form)
        services.accounts.close_session(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, who: UserDep, services: ServicesDep) -> Response:
    return render(request, "account.html", {"org_name": services.organisation_name, "errors": {}, "flash": ""})


@router.post("/account/password", dependencies=[Depends(check_csrf)])
def change_password(request: Request, who: UserDep, services: ServicesDep, form: FormDep) -> Response:
    """Change one's own password (argon2 in this worker thread). Every other session of the account
    ends; this one carries on."""
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    errors = {}
    if services.accounts.authenticate(who.login, current) is None:
        errors["current"] = "今のパスワードが違います。"
    elif new != again:
        errors["again"] = "新しいパスワードが2回とも同じになるように入力してください。"
    elif len(new) < MIN_PASSWORD:
        errors["new"] = f"パスワードは{MIN_PASSWORD}文字以上にしてください。"
    if errors:
        context = {"org_name": services.organisation_name, "errors": errors, "flash": ""}
        return render(request, "account.html", context, status_code=422)
    services.accounts.set_password(who.id, who.organisation_id, new)
    services.reviews.audit(who, None, PasswordChanged(who.login))
    token, _ = services.accounts.open_session(who)
    response = RedirectResponse("/account?changed=1", status_code=303)
    set_session_cookie(response, token, services.settings.secure_cookies)
    return response
