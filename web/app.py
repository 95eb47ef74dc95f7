"""Builds the FastAPI app: services, routes, static files, and errors that never become a 500."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from coach.errors import BadInput, FieldError, from_validation_error
from coach.repository import SheetNotFound
from coach.settings import Settings, get_settings
from web.htmx import templates
from web.routes import api, deep, pages
from web.services import build_services

log = logging.getLogger("coach.web")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="curry-coach",
        description="カレーライスシート（AsIs/ToBe）のコーチング API",
        version="1.0",
    )
    app.state.services = build_services(settings)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(deep.router)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        bad = from_validation_error(exc, skip_prefix=1)
        return JSONResponse(bad.as_dict(), status_code=422)

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput) -> Response:
        return JSONResponse(exc.as_dict(), status_code=422)

    @app.exception_handler(SheetNotFound)
    async def _not_found(request: Request, exc: SheetNotFound) -> Response:
        return _error(request, 404, "シートが見つかりません。", "id")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        reasons = {
            400: "送信内容を読み取れません。UTF-8 の JSON で送ってください。",
            404: "ページが見つかりません。",
            405: "この方法では操作できません。",
        }
        return _error(request, exc.status_code, reasons.get(exc.status_code, "リクエストを処理できませんでした。"), "body")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _error(request, 500, "サーバーで問題が起きました。入力内容は失われていません。時間をおいてもう一度お試しください。", "body")

    return app


def _error(request: Request, status: int, reason: str, field: str) -> Response:
    if _wants_json(request):
        body = BadInput([FieldError(field, None, reason)], message=reason).as_dict()
        return JSONResponse(body, status_code=status)
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "reason": reason, "org_name": ""}, status_code=status
    )
