"""Who is asking: the session cookie, the CSRF check, and the dependency aliases routes declare.

Pages need a login. Every unsafe request from a page carries the session's CSRF token (a hidden
`csrf_token` field, or the `X-CSRF-Token` header htmx sends from `<body hx-headers>`). The JSON API
of contract §6 also answers, without a login, to programs on this machine (`COACH_API_OPEN`), and to
programs anywhere that send an API token (`Authorization: Bearer …`, coach/workspace/tokens.py) — never a page.
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from coach.workspace.accounts import Account, OpenSession
from coach.workspace.permissions import can_manage, can_review
from coach.workspace.tokens import TokenRejected
from web.forms import form_of
from web.lanes import admit_first, in_thread, in_typing_lane

COOKIE = "coach_session"
LOGIN_COOKIE = "coach_login_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class NeedLogin(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, reason: str = "この操作をする権限がありません。") -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfFailed(Exception):
    pass


def session_of(request: Request) -> OpenSession | None:
    """The request's login session, looked up once (from code already in a worker thread)."""
    if not hasattr(request.state, "session"):
        services = request.app.state.services
        request.state.session = services.accounts.session(request.cookies.get(COOKIE, ""))
    return request.state.session  # type: ignore[no-any-return]


async def open_session(request: Request) -> OpenSession | None:
    """The same from a coroutine: the lookup (a database read) runs in a worker thread, never on the
    event loop, and once per request (in the editor's lane for its typing requests, web/lanes.py)."""
    if not hasattr(request.state, "session"):
        await in_thread(request, session_of, request)
    return request.state.session  # type: ignore[no-any-return]


def user_of(request: Request) -> Account:
    session = session_of(request)
    if session is None:
        raise NeedLogin()
    return session.account


async def require_user(request: Request) -> Account:
    """A coroutine, like every dependency that does no blocking work: a plain `def` dependency costs a
    hop to the thread pool and back on every request (issue #10's load bench counted five per pause)."""
    await open_session(request)
    return user_of(request)


def _sends_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(("application/x-www-form", "multipart/"))


def csrf_matches(request: Request, session: OpenSession, form: FormData | None) -> None:
    """The header htmx sends, or else the form's hidden field, must be the session's token."""
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and form is not None and _sends_form(request):
        sent = str(form.get("csrf_token", ""))
    if not sent or not secrets.compare_digest(sent, session.csrf):
        raise CsrfFailed()


def _admit(request: Request, form: FormData | None) -> None:
    """In a worker thread: a login session whose token the request carries."""
    session = session_of(request)
    if session is None:
        raise NeedLogin()
    csrf_matches(request, session, form)


async def check_csrf(request: Request) -> None:
    """For every unsafe request from a page: the token must match the session's.

    The editor's typing requests (web/lanes.py) check it at the start of their route's one hop to a
    worker thread, before any of its work; every other route here, before the route runs."""
    if request.method not in UNSAFE:
        return
    needs_form = not request.headers.get("X-CSRF-Token", "") and _sends_form(request)
    if in_typing_lane(request):
        admit_first(request, functools.partial(_admit, request, await form_of(request) if needs_form else None))
        return
    session = await open_session(request)
    if session is None:
        raise NeedLogin()
    csrf_matches(request, session, await form_of(request) if needs_form else None)  # the form is read once


async def require_dx(who: Annotated[Account, Depends(require_user)]) -> Account:
    if not (can_review(who) and can_manage(who)):
        raise Forbidden("この画面は DX推進チームのアカウントで使えます。")
    return who


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bearer_caller(request: Request) -> Account | None:
    """The program behind an `Authorization: Bearer` header (None without one; 401 when it opens nothing).

    A header is not sent by a browser on its own, so a bearer request needs no CSRF token."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    if not hasattr(request.state, "bearer"):
        scheme, _, secret = header.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret or " " in secret:
            raise TokenRejected("Authorization ヘッダーは「Bearer トークン」の形で送ってください。")
        raw_id = str(request.path_params.get("sheet_id", ""))
        token = request.app.state.services.tokens.use(
            secret, request.method, request.url.path, int(raw_id) if raw_id.isdigit() else None)
        request.state.bearer = token.principal()
    who: Account = request.state.bearer
    if request.method in UNSAFE and who.scope != "write":
        raise Forbidden("この API トークンは読み取りだけです。書き込むには「読み取りと書き込み」のトークンを使ってください。")
    return who


def api_caller(request: Request) -> Account:
    """A program with an API token, a logged-in person (writes need the X-CSRF-Token header), or a
    program on this machine."""
    program = bearer_caller(request)
    if program is not None:
        return program
    session = session_of(request)
    if session is None and request.cookies.get(COOKIE):
        raise NeedLogin()  # a presented but dead, revoked or forged session never becomes "local"
    if session is not None:
        if request.method in UNSAFE and not secrets.compare_digest(
                request.headers.get("X-CSRF-Token", ""), session.csrf):
            raise CsrfFailed()
        return session.account
    services = request.app.state.services
    if services.settings.api_open and _loopback(request.client.host if request.client else None):
        return Account(0, services.organisation_id, "local", "この端末のプログラム", "local", None)
    raise NeedLogin()


def docs_reader(request: Request) -> Account:
    """The OpenAPI docs in production: any logged-in person, or any valid API token."""
    return bearer_caller(request) or user_of(request)


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")


UserDep = Annotated[Account, Depends(require_user)]
DxDep = Annotated[Account, Depends(require_dx)]
ApiCallerDep = Annotated[Account, Depends(api_caller)]
