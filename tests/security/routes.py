"""The app's routes as the suite enumerates them: so a route added tomorrow is fuzzed (or fails the
completeness test) without anyone remembering to list it."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    int_params: tuple[str, ...]
    str_params: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def _api_routes(app: Any) -> list[APIRoute]:
    try:  # FastAPI >= 0.120 keeps included routers lazily; this walks them
        from fastapi.routing import iter_route_contexts

        found = [rc.original_route for rc in iter_route_contexts(app.routes)]
    except ImportError:
        found = list(app.routes)
    return [r for r in found if isinstance(r, APIRoute)]


@cache
def all_routes() -> tuple[RouteInfo, ...]:
    """Every method and path of the real app (built once, on an empty temporary data directory)."""
    from coach.settings import Settings
    from web.app import create_app

    with tempfile.TemporaryDirectory(prefix="coach-routes-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp), load_samples=False))
        routes = _api_routes(app)
    out = []
    for route in routes:
        params = route.dependant.path_params
        ints = tuple(p.name for p in params if p.field_info.annotation is int)
        strs = tuple(p.name for p in params if p.field_info.annotation is not int)
        for method in sorted(route.methods or ()):
            out.append(RouteInfo(method, route.path, ints, strs))
    return tuple(sorted(out, key=lambda r: (r.path, r.method)))


def form_routes() -> list[RouteInfo]:
    return [r for r in all_routes() if r.method == "POST" and not r.is_api]


def id_routes() -> list[RouteInfo]:
    return [r for r in all_routes() if r.int_params]
