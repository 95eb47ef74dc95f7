"""Builds the FastAPI app: services, routes, static files, and errors that never become a 500."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from coach import __version__
from coach.app import build_services
from coach.errors import BadInput, FieldError, from_validation_error
from coach.production import check as check_production
from coach.repository import SheetNotFound, VersionConflict
from coach.settings import Settings, get_settings
from coach.sheet import LABELS
from coach.workspace.submission import NotAllowed
from coach.workspace.tokens import TokenRejected
from web.auth import CsrfFailed, Forbidden, NeedLogin
from web.envelope import Envelope
from web.htmx import is_htmx, templates
from web.limits import BodyLimit, BodyTooLarge, HostGuard
from web.routes import admin, api, auth, deep, docs, links, notices, ops, pages, review, tokens, workspace

log = logging.getLogger("coach.web")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The index worker drains the outbox while the server runs; at shutdown it finishes its batch."""
    worker, mailer = app.state.services.index_worker, app.state.services.mailer
    worker.start()
    if mailer is not None:
        mailer.start()
    try:
        yield
    finally:
        await run_in_threadpool(worker.stop)
        if mailer is not None:
            await run_in_threadpool(mailer.stop)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_production(settings)  # raises UnsafeSettings: no launcher starts around it
    production = settings.env == "production"
    app = FastAPI(
        title="curry-coach",
        description="カレーライスシート（AsIs/ToBe）のコーチング API",
        version=__version__,
        # in production the docs need a login or a token: web/routes/docs.py serves them then
        docs_url=None if production else "/docs", redoc_url=None if production else "/redoc",
        openapi_url=None if production else "/openapi.json", lifespan=_lifespan,
    )
    app.state.services = build_services(settings)
    # innermost, right around the routes: nothing between it and a route's read wraps its BodyTooLarge
    app.add_middleware(BodyLimit)
    app.add_middleware(Envelope)  # request id, security headers, access log
    app.add_middleware(HostGuard, allowed=settings.allowed_host_list())  # outermost: unknown Host, nothing runs
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(ops.router)
    app.include_router(api.router)
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(deep.router)
    app.include_router(review.router)
    app.include_router(links.router)
    app.include_router(workspace.router)
    app.include_router(admin.router)
    app.include_router(tokens.router)
    app.include_router(notices.router)
    if production:
        app.include_router(docs.router)

    @app.exception_handler(NeedLogin)
    async def _need_login(request: Request, exc: NeedLogin) -> Response:
        if _wants_json(request):
            return await _error(request, 401, "ログインが必要です。プログラムからは API トークンを「Authorization: Bearer トークン」で"
                                        "送ってください（ブラウザーからはログインしてお使いください）。", "login")
        target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if is_htmx(request):  # the page keeps what was typed; editor.js says so and offers to log in again
            return Response(status_code=401, headers={"HX-Trigger": "coach-login-expired"})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(TokenRejected)
    async def _bad_token(request: Request, exc: TokenRejected) -> Response:
        response = await _error(request, 401, exc.reason, "authorization")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return await _error(request, 403, exc.reason, "login")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return await _error(request, 403, "送信の確認ができませんでした。ページを読み込み直してから、もう一度操作してください。",
                      "csrf_token")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        bad = from_validation_error(exc, skip_prefix=1)
        if _wants_json(request):
            return JSONResponse(bad.as_dict(), status_code=422)
        first = bad.errors[0] if bad.errors else None
        reason = f"{LABELS.get(first.field, first.field)}: {first.reason}" if first else bad.message
        return await _error(request, 422, reason, first.field if first else "body")

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput) -> Response:
        if _wants_json(request):
            return JSONResponse(exc.as_dict(), status_code=422)
        reason = exc.errors[0].reason if exc.errors else exc.message
        return await _error(request, 422, reason, exc.errors[0].field if exc.errors else "body")

    @app.exception_handler(VersionConflict)
    async def _conflict(request: Request, exc: VersionConflict) -> Response:
        """Someone else saved first (the editor shows this with the typed text kept; see pages.py)."""
        if _wants_json(request):
            body = BadInput([FieldError("base_version", None, exc.reason)], message=exc.reason).as_dict()
            return JSONResponse({**body, "latest_version": exc.latest}, status_code=409,
                                headers={"ETag": f'"{exc.latest}"'})
        return await _error(request, 409, exc.reason, "base_version")

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        """A move the review cycle does not allow (coach/workspace/submission.py): 409, or 403 for a role."""
        return await _error(request, exc.status, exc.reason, "status")

    @app.exception_handler(SheetNotFound)
    async def _not_found(request: Request, exc: SheetNotFound) -> Response:
        return await _error(request, 404, "シートが見つかりません。", "id")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        reasons = {
            400: "送信内容を読み取れません。UTF-8 の JSON で送ってください。",
            404: "ページが見つかりません。",
            405: "この方法では操作できません。",
        }
        if isinstance(exc, BodyTooLarge):
            return await _error(request, 413, str(exc.detail), "body")
        return await _error(request, exc.status_code, reasons.get(exc.status_code, "リクエストを処理できませんでした。"), "body")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return await _error(request, 500, "サーバーで問題が起きました。入力内容は失われていません。時間をおいてもう一度お試しください。", "body")

    return app


async def _error(request: Request, status: int, reason: str, field: str) -> Response:
    if _wants_json(request):
        body = BadInput([FieldError(field, None, reason)], message=reason).as_dict()
        return JSONResponse(body, status_code=status)
    # the page's header reads the session and the unread notices: database work, so in a worker thread
    return await run_in_threadpool(
        templates.TemplateResponse, request, "error.html", {"status": status, "reason": reason, "org_name": ""},
        status_code=status)
