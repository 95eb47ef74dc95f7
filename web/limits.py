"""Two gates in front of the app (pure ASGI, before any body is read or any route runs):

- HostGuard: only the Host names in COACH_ALLOWED_HOSTS are served (a browser on this machine
  cannot be turned against the loopback-open API by DNS rebinding);
- BodyLimit: a request body over its route's limit answers 413 — at once when Content-Length says
  so, otherwise as soon as the streamed (e.g. chunked) bytes pass the limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
MB = 1024 * KB
FORM_AND_JSON_LIMIT = 256 * KB
UPLOAD_LIMIT = 5 * MB
UPLOAD_PATHS = {"/import": UPLOAD_LIMIT + 64 * KB}  # the file itself may be 5 MB; the form around it is small

BAD_HOST = "このホスト名では受け付けていません。管理者に COACH_ALLOWED_HOSTS の設定を確認してもらってください。"


class BodyTooLarge(HTTPException):
    """Raised while a route reads a streamed body past the limit; answered as 413 by the app."""

    def __init__(self, limit: int) -> None:
        shown = f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"
        super().__init__(413, f"送信内容が大きすぎます。{shown}までにしてください。")


async def _answer(scope: Scope, send: Send, status: int, reason: str, field: str) -> None:
    """A small answer in the app's error shape: JSON under /api/, a short Japanese page elsewhere."""
    if str(scope.get("path", "")).startswith("/api/"):
        body = json.dumps({"detail": reason, "errors": [{"field": field, "item": None, "label": field,
                                                         "reason": reason}]}, ensure_ascii=False).encode()
        media = b"application/json"
    else:
        body = (f'<!doctype html><html lang="ja"><meta charset="utf-8"><title>{status}</title>'
                f"<p role=\"alert\">{reason}</p></html>").encode()
        media = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, default: int = FORM_AND_JSON_LIMIT,
                 by_path: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.by_path = UPLOAD_PATHS if by_path is None else by_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope["path"], self.default)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _answer(scope, send, 413, BodyTooLarge(limit).detail, "body")
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as exc:  # raised outside the app's own handlers (e.g. a middleware read it)
            if started:
                raise
            await _answer(scope, send, 413, exc.detail, "body")


# Health probes answer on any Host: a load balancer or a container's health check often sends an IP,
# and they say nothing a DNS-rebinding page could use (no login, no data, only check names).
PROBES = frozenset({"/healthz", "/readyz"})


class HostGuard:
    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = {h.strip().lower().strip("[]") for h in allowed if h.strip()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or "*" in self.allowed or scope.get("path") in PROBES:
            await self.app(scope, receive, send)
            return
        if not self.allows(host_name(_header(scope, b"host") or "")):
            await _answer(scope, send, 400, BAD_HOST, "host")
            return
        await self.app(scope, receive, send)

    def allows(self, host: str) -> bool:
        return bool(host) and any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in self.allowed)


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower-cased ('' if malformed)."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else ""
    return header.split(":", 1)[0]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None
