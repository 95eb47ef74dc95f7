"""Every JSON API route, fuzzed from the app's own OpenAPI schema (schemathesis + hypothesis).

Each operation runs as a program on this machine (no login) and as a logged-in member of staff
(session cookie + X-CSRF-Token), on SQLite and PostgreSQL. Cases are schemathesis' valid and
invalid ones; half of the JSON bodies then get a hostile string (controls incl. NUL, bidi, 10k
characters, numbers as text) in one field, and half of the ids point at a real sheet. The bar:
no 5xx, and every 4xx a JSON body with a Japanese reason.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.security.budget import Budget, fuzz_settings
from tests.security.conftest import SURVEY, World
from tests.security.hostile import hostile_text, json_reason
from web.routes.api import router

OPERATIONS = sorted(f"{m} {r.path}" for r in router.routes if isinstance(r, APIRoute) for m in r.methods)
SHEET_KEYS = ["section", "title", "asis", "tobe", "purpose", "margin", "problems", "tasks", "id"]


@schemathesis.check
def japanese_reason(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx answers JSON with the reason in Japanese (`detail` or `errors[].reason`)."""
    if 400 <= response.status_code < 500:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"{response.status_code} without a JSON body") from None
        if not json_reason(body):
            raise AssertionError(f"{response.status_code} without a Japanese reason: {str(body)[:300]}")
    return None


_schemas: dict[int, Any] = {}


def schema_of(world: World) -> Any:
    if id(world.app) not in _schemas:
        _schemas[id(world.app)] = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    return _schemas[id(world.app)]


def test_every_api_route_is_in_the_schema(world: World) -> None:
    """The fuzz list is the router's routes; the served schema must describe exactly those."""
    served = sorted(r.ok().label for r in schema_of(world).get_all_operations())
    assert served == OPERATIONS


def _hostile_case(data: st.DataObject, world: World, case: Any) -> None:
    """Point half of the ids at real sheets, and put a hostile string into half of the JSON bodies."""
    if "sheet_id" in (case.path_parameters or {}) and data.draw(st.booleans(), "real id"):
        case.path_parameters["sheet_id"] = data.draw(st.sampled_from(sorted(world.ids.values())), "sheet id")
    if isinstance(case.body, dict) and data.draw(st.booleans(), "hostile field"):
        key = data.draw(st.sampled_from(SHEET_KEYS), "field")
        value = data.draw(hostile_text, "value")
        case.body[key] = [value] if key in ("problems", "tasks") else value


def _send(world: World, caller: str, case: Any) -> Any:
    kw = case.as_transport_kwargs()
    body = {"json": kw["json"]} if "json" in kw else {"content": kw["data"]} if "data" in kw else {}
    return world.send(caller, kw["method"], kw["url"], case.operation.label, sent=kw.get("json", kw.get("data")),
                      params=kw.get("params") or None, headers=kw.get("headers") or None, **body)


@pytest.mark.parametrize("caller", ["loopback", "staff"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_api_operation(world: World, caller: str, operation: str) -> None:
    method, path = operation.split(" ", 1)
    op = schema_of(world)[path][method]
    budget = Budget()

    @given(data=st.data())
    @fuzz_settings(world.db)
    def run(data: st.DataObject) -> None:
        mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]), "mode")
        case = data.draw(op.as_strategy(generation_mode=mode), "case")
        _hostile_case(data, world, case)

        def send() -> None:
            response = _send(world, caller, case)
            if not SURVEY:
                case.validate_response(response, checks=[not_a_server_error, japanese_reason])

        budget.send(send)

    run()
