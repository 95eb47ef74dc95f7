"""Huge, negative and zero ids never become a 500 (issue #9 item 10), on SQLite and PostgreSQL:
every integer in a path or query is bounded where it is declared."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.conftest import LOOPBACK, logged_in, sheet_data
from tests.web.conftest import JAPANESE

BAD_IDS = ["2147483648", str(2**63), str(2**64), "-1", "0", "99999999999999999999999"]


def _all_routes(routes: list[Any]) -> list[APIRoute]:
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):  # FastAPI wraps included routers
            out += _all_routes(route.original_router.routes)
    return out


def _int_routes(app: Any) -> list[tuple[str, str, list[str]]]:
    out = []
    for route in _all_routes(app.routes):
        ints = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        if ints:
            out.extend((method, route.path, ints) for method in sorted(route.methods))
    return out


def _url(path: str, ints: list[str], bad: str) -> str:
    for name in ints:
        path = path.replace("{" + name + "}", bad)
    return path.replace("{job_id}", "x").replace("{token}", "x")


def _assert_refused(r: Any, what: str) -> None:
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:200])
    text = str(r.json()) if r.headers.get("content-type", "").startswith("application/json") else r.text
    assert JAPANESE.search(text), what


def test_every_integer_path_parameter_is_bounded(db_app: Any) -> None:
    routes = _int_routes(db_app)
    assert len(routes) >= 20  # the API and the pages: sheets, versions, reviews, accounts, themes, print …
    dx = logged_in(db_app, "dxteam", "dx", None)
    local = TestClient(db_app, client=LOOPBACK)
    for method, path, ints in routes:
        caller = local if path.startswith("/api/") else dx
        for bad in BAD_IDS:
            url = _url(path, ints, bad)
            body = {"json": sheet_data()} if method == "PUT" else {}
            _assert_refused(caller.request(method, url, follow_redirects=False, **body), f"{method} {url}")


def test_integers_in_queries_and_forms_are_bounded(db_app: Any) -> None:
    staff = logged_in(db_app, "madoguchi", "staff", "住民窓口係")
    dx = logged_in(db_app, "dxteam", "dx", None)
    sid = staff.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    staff.post(f"/sheets/{sid}", data={**sheet_data(), "op": "submit"})
    local = TestClient(db_app, client=LOOPBACK)
    for bad in BAD_IDS:
        _assert_refused(local.get(f"/api/v1/sheets/{sid}/similar?k={bad}"), f"k={bad}")
        for query in (f"from={bad}", f"to={bad}", f"from=1&to={bad}"):
            _assert_refused(dx.get(f"/review/{sid}?{query}"), query)
        for path, data in [(f"/review/{sid}/comments", {"field": "problems", "item": bad, "body": "行は？"}),
                           (f"/review/{sid}/missed", {"code": "PROBLEM_NOT_GAP", "field": "problems", "item": bad}),
                           (f"/review/{sid}/themes", {"theme": bad})]:
            r = dx.post(path, data=data, follow_redirects=False)
            assert r.status_code < 500, (path, bad, r.status_code)
            if r.status_code >= 400:
                _assert_refused(r, f"{path} {bad}")
