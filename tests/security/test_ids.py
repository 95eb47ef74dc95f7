"""Huge and tiny integers in every integer path parameter of every route (enumerated from the app),
and in the integer query parameters, on both databases: 2^31, 2^63, 2^64, -1 and 0 must answer
404 or 422 with a Japanese reason, never a 5xx."""

from __future__ import annotations

import pytest

from tests.conftest import sheet_data
from tests.security.conftest import World
from tests.security.hostile import HUGE_AND_TINY_IDS
from tests.security.routes import RouteInfo, id_routes

ROUTES = {r.label: r for r in id_routes()}
# a valid value for every path parameter, so that only the one under attack is wrong
VALID = {"sheet_id": "draft", "number": 1, "user_id": "victim", "theme_id": "theme", "job_id": "none",
         "token_id": "token", "link_id": "link", "notice_id": 1}  # a notice: the only id in its path
DX_PREFIXES = ("/review", "/admin", "/overview", "/export", "/import")


def role_for(route: RouteInfo) -> str:
    if route.is_api:
        return "loopback"
    return "dx" if route.path.startswith(DX_PREFIXES) else "staff"


def _url(world: World, route: RouteInfo, attacked: str, value: int) -> str:
    url = route.path
    for name in (*route.int_params, *route.str_params):
        valid = VALID.get(name, 1)
        default = str(world.ids[valid] if isinstance(valid, str) and valid in world.ids else valid)
        if route.path.startswith("/review") and name == "sheet_id":
            default = str(world.ids["submitted"])
        url = url.replace("{" + name + "}", str(value) if name == attacked else default)
    return url


def test_every_int_param_has_a_valid_value() -> None:
    names = {n for r in ROUTES.values() for n in r.int_params}
    assert names <= set(VALID), f"give the new path parameter a valid value in VALID: {names - set(VALID)}"


@pytest.mark.parametrize("label", sorted(ROUTES))
def test_huge_and_tiny_ids(world: World, label: str) -> None:
    route = ROUTES[label]
    role = role_for(route)
    wrong = []
    for attacked in route.int_params:
        for name, value in HUGE_AND_TINY_IDS.items():
            url = _url(world, route, attacked, value)
            body = {"json": sheet_data()} if route.method in ("PUT", "POST") and route.is_api else {}
            try:
                world.send(role, route.method, url, label, follow_redirects=False, **body)
            except AssertionError as exc:
                wrong.append(f"[{attacked}={name}] {str(exc).splitlines()[0][:300]}")
    assert not wrong, "\n".join(wrong)


QUERY_INTS = {
    "GET /api/v1/sheets/{sheet_id}/similar?k": ("loopback", "/api/v1/sheets/{draft}/similar?k={v}"),
    "GET /review/{sheet_id}?from": ("dx", "/review/{submitted}?from={v}"),
    "GET /review/{sheet_id}?to": ("dx", "/review/{submitted}?to={v}"),
}


@pytest.mark.parametrize("label", sorted(QUERY_INTS))
def test_huge_and_tiny_query_ints(world: World, label: str) -> None:
    role, template = QUERY_INTS[label]
    wrong = []
    for name, value in HUGE_AND_TINY_IDS.items():
        url = template.format(v=value, **world.ids)
        try:
            world.send(role, "GET", url, label, follow_redirects=False)
        except AssertionError as exc:
            wrong.append(f"[{name}] {str(exc).splitlines()[0][:300]}")
    assert not wrong, "\n".join(wrong)
