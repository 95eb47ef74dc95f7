"""What every response carries, as one plain ASGI middleware: a request id, the security headers
and the access log line.

A plain ASGI layer runs the route in the request's own task (Starlette's `@app.middleware("http")`
starts a task and a memory stream per request per layer), so the request id set here is what the
route's log lines carry, and the editor's autosave pays nothing extra for it under load.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coach import logs

access = logging.getLogger("coach.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # a proxy's id is kept only when it is plainly an id
SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),  # no clickjacking of review buttons
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)
NOT_LOGGED = ("/static/", "/healthz")


def _given_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if _REQUEST_ID.match(given) else ""
    return ""


class Envelope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given_id(scope) or uuid.uuid4().hex
        logs.request_id.set(rid)
        path: str = scope["path"]
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if path != "/docs":  # pages never need to be framed; /docs loads Swagger from a CDN
                    headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
                headers["X-Request-ID"] = rid
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False) \
                    and not path.startswith(NOT_LOGGED):
                method = scope["method"]
                access.info("%s %s %d", method, path, status,
                            extra={"method": method, "path": path, "status": status,
                                   "duration_ms": round((time.perf_counter() - started) * 1000, 1)})

        await self.app(scope, receive, send_with_headers)
