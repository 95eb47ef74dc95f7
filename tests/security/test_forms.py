"""Every HTML form route (every POST outside /api/), fuzzed with hypothesis as the role that may use it.

Field values are hostile text (control characters incl. NUL, 10k characters, combining marks,
emoji, bidi, numbers as text, empty) mixed with the values the form offers, so requests also get
past the first check. Requests carry the session's CSRF token; ids point at sheets the account may
work on. The bar: no 5xx, and every 4xx page shows a Japanese reason (next to the field, in a
notice, or as the error page's heading).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from coach.findings import FIELDS_OF
from coach.workspace.cycle import OUTCOME_KINDS, STAGES
from coach.workspace.review import COMMENT_FIELDS
from tests.conftest import PASSWORD
from tests.security.budget import Budget, fuzz_settings
from tests.security.conftest import World
from tests.security.hostile import hostile_text
from tests.security.routes import form_routes

EXAMPLES = {"sqlite": 20, "postgresql": 10}
SECONDS = 3.0


def one_of_or_hostile(*valid: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(list(valid)), hostile_text)


def rows() -> st.SearchStrategy[list[str]]:
    return st.lists(hostile_text, max_size=3)


SHEET_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    **{k: hostile_text for k in ("section", "title", "asis", "tobe", "purpose", "margin")},
    "problems": rows(), "tasks": rows(),
}
DATES = ("2026-01-15", "2999-01-01", "0001-01-01", "2026-02-30", "")
ROW = one_of_or_hostile("1", "0", "2", "999999999999999999999")


@dataclass(frozen=True)
class FormSpec:
    role: str  # staff (owning section), dx, anon
    fields: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # path param -> key in World.ids (or a literal)
    upload: bool = False


FORMS: dict[str, FormSpec] = {
    "/login": FormSpec("anon", {"login": one_of_or_hostile("fz-madoguchi"), "password": hostile_text,
                                "next": one_of_or_hostile("/", "//evil.example", "/review")}),
    "/logout": FormSpec("staff"),
    "/notices/read": FormSpec("staff"),
    "/account/password": FormSpec("staff", {"current": one_of_or_hostile(PASSWORD + "x"), "new": hostile_text,
                                            "again": hostile_text}),
    "/sheets": FormSpec("staff", {"title": hostile_text}),
    "/sheets/{sheet_id}": FormSpec("staff", {
        **SHEET_FIELDS, "hearing": one_of_or_hostile("1"),
        "op": one_of_or_hostile("save", "submit", "unsubmit", "deep", "add:problems", "add:tasks",
                                "remove:problems:0", "remove:tasks:99999999999999999999", "move:tobe:",
                                "move:problems:0", "move:x:-1")}, {"sheet_id": "draft"}),
    "/sheets/{sheet_id}/check": FormSpec("staff", SHEET_FIELDS, {"sheet_id": "draft"}),
    "/sheets/{sheet_id}/similar": FormSpec("staff", SHEET_FIELDS, {"sheet_id": "draft"}),
    "/sheets/{sheet_id}/deep": FormSpec("staff", SHEET_FIELDS, {"sheet_id": "draft"}),
    "/sheets/{sheet_id}/deep/{job_id}/cancel": FormSpec("staff", {}, {"sheet_id": "draft", "job_id": "text"}),
    "/sheets/{sheet_id}/versions/{number}/restore": FormSpec("staff", {}, {"sheet_id": "draft", "number": "version"}),
    "/admin/accounts": FormSpec("dx", {"login": hostile_text, "name": hostile_text,
                                       "role": one_of_or_hostile("staff", "dx", "local"),
                                       "section": one_of_or_hostile("住民窓口係", ""),
                                       "email": one_of_or_hostile("fz@town.example.jp", "")}),
    "/admin/accounts/{user_id}/password": FormSpec("dx", {"confirmed": one_of_or_hostile("1")}, {"user_id": "victim"}),
    "/admin/accounts/{user_id}/active": FormSpec("dx", {"active": one_of_or_hostile("0", "1"),
                                                        "confirmed": one_of_or_hostile("1")}, {"user_id": "victim"}),
    "/admin/sections": FormSpec("dx", {"names": hostile_text}),
    "/admin/themes": FormSpec("dx", {"name": hostile_text}),
    "/admin/themes/{theme_id}/delete": FormSpec("dx", {"confirmed": one_of_or_hostile("1")}, {"theme_id": "theme"}),
    "/admin/tokens": FormSpec("dx", {"token_name": hostile_text, "scope": one_of_or_hostile("read", "write"),
                                     "reach": one_of_or_hostile("town", "住民窓口係"),
                                     "expires_on": one_of_or_hostile("", *DATES)}),
    "/admin/tokens/{token_id}/revoke": FormSpec("dx", {"confirmed": one_of_or_hostile("1")}, {"token_id": "token"}),
    "/review/{sheet_id}/links": FormSpec("dx", {"other": ROW, "label": hostile_text}, {"sheet_id": "submitted"}),
    "/review/{sheet_id}/links/reject": FormSpec("dx", {"other": ROW}, {"sheet_id": "submitted"}),
    "/review/{sheet_id}/links/{link_id}/delete": FormSpec("dx", {}, {"sheet_id": "submitted", "link_id": "link"}),
    "/links/{link_id}/delete": FormSpec("dx", {}, {"link_id": "link"}),
    "/review/{sheet_id}/findings": FormSpec("dx", {
        "code": one_of_or_hostile(*FIELDS_OF), "field": one_of_or_hostile(*COMMENT_FIELDS), "item": ROW,
        "verdict": one_of_or_hostile("confirmed", "dismissed")}, {"sheet_id": "submitted"}),
    "/review/{sheet_id}/missed": FormSpec("dx", {
        "code": one_of_or_hostile(*FIELDS_OF), "field": one_of_or_hostile(*COMMENT_FIELDS), "item": ROW},
        {"sheet_id": "submitted"}),
    "/review/{sheet_id}/comments": FormSpec("dx", {"field": one_of_or_hostile(*COMMENT_FIELDS), "item": ROW,
                                                   "body": hostile_text}, {"sheet_id": "submitted"}),
    "/review/{sheet_id}/decision": FormSpec("dx", {"decision": one_of_or_hostile("return", "accept"),
                                                   "note": hostile_text}, {"sheet_id": "submitted"}),
    "/review/{sheet_id}/stage": FormSpec("dx", {"stage": one_of_or_hostile(*STAGES), "on": one_of_or_hostile(*DATES)},
                                         {"sheet_id": "submitted"}),
    "/review/{sheet_id}/themes": FormSpec("dx", {"theme": st.lists(one_of_or_hostile("1", "2", str(2**63)),
                                                                   max_size=3)}, {"sheet_id": "submitted"}),
    "/review/{sheet_id}/outcomes": FormSpec("dx", {
        "kind": one_of_or_hostile(*OUTCOME_KINDS), "value": one_of_or_hostile("12", "1,200", "-3.5", "nan", "1e999"),
        "unit": hostile_text, "on": one_of_or_hostile(*DATES), "label": hostile_text, "note": hostile_text},
        {"sheet_id": "submitted"}),
    "/import": FormSpec("dx", {"name": one_of_or_hostile("sheets.csv", "sheets.xlsx", "x"),
                               "content": hostile_text}, upload=True),
    "/import/{token}": FormSpec("dx", {}, {"token": "text"}),
}
ROUTES = {r.path: r for r in form_routes()}


def test_every_form_route_is_fuzzed() -> None:
    assert sorted(ROUTES) == sorted(FORMS), "add the new form route to FORMS (role, fields, ids)"


def _path_value(data: st.DataObject, world: World, key: str) -> str:
    if key == "text":
        text = data.draw(st.one_of(st.just("abc"), hostile_text.filter(bool).map(lambda t: t[:300])), "path text")
        return quote(text, safe="")
    if key == "version":
        return str(data.draw(st.sampled_from([1, 2, 3, 99]), "version"))
    return str(data.draw(st.sampled_from([world.ids[key], world.ids[key], 999_999]), key))


def _login_token(world: World) -> str:
    page = BeautifulSoup(world.client("anon").get("/login").text, "html.parser")
    return str(page.select_one("input[name=csrf_token]")["value"])  # type: ignore[index]


def _with_login_token(world: World, spec: FormSpec, body: dict[str, Any]) -> dict[str, Any]:
    """The login form's own CSRF token comes from the page, at sending time."""
    if spec.role != "anon":
        return body
    return {**body, "data": {**body["data"], "csrf_token": _login_token(world)}}


def _request(data: st.DataObject, world: World, path: str, spec: FormSpec) -> tuple[str, dict[str, Any]]:
    url = path
    for name, key in spec.ids.items():
        url = url.replace("{" + name + "}", _path_value(data, world, key))
    values = {name: data.draw(strategy, name) for name, strategy in spec.fields.items()}
    if data.draw(st.booleans(), "extra field"):
        values[data.draw(hostile_text.filter(bool), "extra name")] = data.draw(hostile_text, "extra value")
    if spec.upload:
        name, content = str(values.pop("name")), str(values.pop("content"))
        return url, {"data": values, "files": {"file": (name, content.encode("utf-8", "surrogatepass"))}}
    return url, {"data": values}


@pytest.mark.parametrize("path", sorted(FORMS))
def test_form_route(world: World, path: str) -> None:
    spec = FORMS[path]
    budget = Budget(SECONDS)
    send: Callable[..., Any] = world.send

    @given(data=st.data())
    @fuzz_settings(world.db, EXAMPLES)
    def run(data: st.DataObject) -> None:
        url, body = _request(data, world, path, spec)
        budget.send(lambda: send(spec.role, "POST", url, f"POST {path}",
                                 sent=[url, body.get("data"), body.get("files")], **_with_login_token(world, spec, body)))

    run()
