"""Explicit hostile text in every text field of the sheet API and of the main forms, on both databases.

Each field gets NUL, every other C0 control character, DEL, bidi overrides and isolates, 10,000
characters, combining marks, emoji sequences and formula-like text; the JSON API also gets lone
surrogates (only possible as raw `\\ud800` escapes in the JSON bytes). One test per route and field
sends its cases and lists every case that broke, so one run shows the whole picture.

The budget (the full product was ~4,700 requests, most of the suite's time): every field of every
route gets one case of each input class (CORE: NUL, a C0 control, DEL, bidi, 10,000 characters, a
lone surrogate), and the other cases are dealt out over the route's fields, so every case still
reaches every route on both databases. The deal is fixed (the same requests every run, so a rerun
reproduces a failure); `COACH_FUZZ_FULL=1` sends every case into every field (`make fuzz-deep`).
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import sheet_data
from tests.security.budget import FULL
from tests.security.conftest import LEDGER, SECTION, World
from tests.security.hostile import LONE_SURROGATES, NAMED_TEXT, input_class

API_FIELDS = ["section", "title", "asis", "tobe", "purpose", "margin", "problems", "tasks"]
API_ROUTES = ["POST /api/v1/critique", "POST /api/v1/sheets", "PUT /api/v1/sheets/{sheet_id}"]


CASES: list[tuple[str, str]] = [*NAMED_TEXT.items(), *LONE_SURROGATES.items()]
CORE = ("c0-00", "c0-1b", "del", "bidi-override", "long-10k", "lone-high")  # one per input class


def dealt(route: str, field: str, fields: list[str]) -> list[tuple[str, str]]:
    """The cases `field` of `route` gets: CORE, and every len(fields)-th other case, starting at a
    place fixed by the route's name (so routes pair cases with different fields)."""
    if FULL:
        return CASES
    turn = (fields.index(field) + zlib.crc32(route.encode())) % len(fields)
    others = [case for case in CASES if case[0] not in CORE]
    return [case for case in CASES if case[0] in CORE] + others[turn::len(fields)]


def every_case(cases: list[tuple[str, str]], send: Callable[[str, Any], None]) -> list[str]:
    """Runs `send(case name, value)` for each case; returns what went wrong, case by case."""
    wrong = []
    for name, value in cases:
        try:
            send(name, value)
        except AssertionError as exc:
            wrong.append(f"[{name}] {str(exc).splitlines()[0][:400]}")
    return wrong


def _json_bytes(field: str, value: str, raw: bool) -> bytes:
    """The sheet as JSON with `value` in `field`; `raw` values are JSON escapes put in as they are."""
    marker = "\ue000MARK\ue000"
    sheet = sheet_data(**{field: [marker] if field in ("problems", "tasks") else marker})
    text = json.dumps(sheet, ensure_ascii=False)
    return text.replace(marker, value if raw else json.dumps(value, ensure_ascii=False)[1:-1]).encode("utf-8")


@pytest.mark.parametrize("field", API_FIELDS)
@pytest.mark.parametrize("route", API_ROUTES)
def test_api_text_field(world: World, route: str, field: str) -> None:
    """As a program on this machine, which may write in any section (staff go through the same
    validation and storage; their permission checks are fuzzed in test_api_schema)."""
    method, path = route.split(" ", 1)
    url = path.replace("{sheet_id}", str(world.ids["draft"]))

    def send(name: str, value: str) -> None:
        body = _json_bytes(field, value, raw=name in LONE_SURROGATES)
        world.send("loopback", method, url, route, sent={field: value}, content=body,
                   headers={"content-type": "application/json"})

    wrong = every_case(dealt(route, field, API_FIELDS), send)
    assert not wrong, "\n".join(wrong)


def _sheet_form(**changes: Any) -> dict[str, Any]:
    return {**sheet_data(), "op": "save", **changes}


_logins = itertools.count()

# route -> (role, url with ids as World.ids keys, the fields to attack, the other fields)
FORM_TEXT: dict[str, tuple[str, str, list[str], Callable[[], dict[str, Any]]]] = {
    "POST /login": ("anon", "/login", ["login", "password"], lambda: {"login": "fz-madoguchi", "password": "x"}),
    "POST /sheets": ("staff", "/sheets", ["title"], lambda: {}),
    "POST /sheets/{sheet_id}": ("staff", "/sheets/{draft}", API_FIELDS, _sheet_form),
    "POST /review/{sheet_id}/comments": ("dx", "/review/{submitted}/comments", ["body"],
                                         lambda: {"field": "general", "body": "確認しました"}),
    "POST /review/{sheet_id}/outcomes": ("dx", "/review/{submitted}/outcomes", ["value", "unit", "label", "note"],
                                         lambda: {"kind": "hours", "value": "12", "unit": "時間", "on": "2026-01-15",
                                                  "label": "削減時間", "note": "窓口で計測"}),
    "POST /review/{sheet_id}/decision": ("dx", "/review/{submitted}/decision", ["note"],
                                         lambda: {"decision": "accept", "note": "受理します"}),
    "POST /admin/themes": ("dx", "/admin/themes", ["name"], lambda: {"name": "テーマ"}),
    "POST /admin/sections": ("dx", "/admin/sections", ["names"], lambda: {"names": "会計係"}),
    "POST /admin/accounts": ("dx", "/admin/accounts", ["login", "name", "role", "section", "email"],
                             lambda: {"login": f"fz-new{next(_logins)}", "name": "新しい人", "role": "staff",
                                      "section": SECTION}),
    "POST /account/password": ("staff", "/account/password", ["current", "new", "again"],
                               lambda: {"current": "wrong-password", "new": "x" * 12, "again": "x" * 12}),
}
FORM_CASES = [(route, f) for route, (_, _, fields, _) in FORM_TEXT.items() for f in fields]


@pytest.mark.parametrize(("route", "field"), FORM_CASES, ids=[f"{r}-{f}" for r, f in FORM_CASES])
def test_form_text_field(world: World, route: str, field: str) -> None:
    role, template, fields, base = FORM_TEXT[route]
    url = template.format(**world.ids)

    def send(name: str, value: str) -> None:
        if name in LONE_SURROGATES:  # a form is not JSON: the same attack is bytes that are not UTF-8
            value = "前\udcff後"
        data = {**base(), field: [value] if field in ("problems", "tasks") else value}
        if role == "anon":
            from tests.security.test_forms import _login_token

            data["csrf_token"] = _login_token(world)
        body = "&".join(f"{k}={_quote(v)}" for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs]))
        world.send(role, "POST", url, route, sent={field: value}, content=body.encode("utf-8", "surrogateescape"),
                   headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)

    wrong = every_case(dealt(route, field, fields), send)
    assert not wrong, "\n".join(wrong)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value.encode("utf-8", "surrogateescape"), safe="")


ROUTE_FIELDS = {**{route: API_FIELDS for route in API_ROUTES},
                **{route: fields for route, (_, _, fields, _) in FORM_TEXT.items()}}
SENT_PER_DATABASE = sum(len(dealt(r, f, fs)) for r, fs in ROUTE_FIELDS.items() for f in fs)
LEDGER.notes["test_hostile_text"] = (
    f"hostile text: {SENT_PER_DATABASE} of {len(CASES) * sum(map(len, ROUTE_FIELDS.values()))} "
    "(route, field, case) per database" + ("" if FULL else "; every case on every route, every input class "
                                           "in every field (COACH_FUZZ_FULL=1 sends all)"))


def test_the_deal_reaches_every_route_with_every_case_and_every_field_with_every_class() -> None:
    for route, fields in ROUTE_FIELDS.items():
        per_field = {f: {name for name, _ in dealt(route, f, fields)} for f in fields}
        assert set().union(*per_field.values()) == {name for name, _ in CASES}, route
        for f, names in per_field.items():
            assert set(CORE) <= names, (route, f)
    assert {input_class([v]) for name, v in CASES if name in CORE} >= {
        "NUL", "C0 control", "DEL", "bidi", "long text"}
