"""Typed audit events: every kind reads in Japanese, round-trips through its stored JSON, and rows
written in the old free-form shape (or by no known writer at all) still read, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import fields
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from coach.db import init_db, make_engine
from coach.repository import SheetRepository
from coach.workspace.accounts import Account
from coach.workspace.audit import AuditRow, write_audit
from coach.workspace.audit_events import (
    ACTIONS,
    KINDS,
    REGISTRY,
    AccountCreated,
    AuditEvent,
    FileImported,
    GenericEvent,
    Linked,
    Returned,
    Submitted,
    TokenCreated,
    TokenUsed,
    decode,
    encode,
)
from coach.workspace.cycle import OUTCOME_KINDS, STAGES
from coach.workspace.review import Reviews
from coach.workspace.tokens import SCOPES
from tests.conftest import make_sheet

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# realistic values for fields whose meaning a summary looks up; any other text field gets ASCII, so a
# Japanese character in the summary comes from the summary itself
SAMPLES: dict[str, Any] = {"stage": STAGES[2], "kind": next(iter(OUTCOME_KINDS)), "code": "TOBE_VAGUE",
                           "field": "problems", "scope": next(iter(SCOPES)), "status": "draft",
                           "flags": ("errors", "hearing"), "was": "linked", "reach": "town"}


def value_of(name: str, hint: Any) -> Any:
    if name in SAMPLES:
        return SAMPLES[name]
    if typing.get_origin(hint) in (types.UnionType, typing.Union):  # the first type that is not None
        return value_of(name, next(h for h in typing.get_args(hint) if h is not type(None)))
    if typing.get_origin(hint) is tuple:
        return ("a1", "b2")
    return {bool: False, str: f"x-{name}", int: 2, float: 2.5}[hint]


def sample(kind: type[AuditEvent]) -> AuditEvent:
    hints = typing.get_type_hints(kind)
    return kind(**{f.name: value_of(f.name, hints[f.name]) for f in fields(kind)})


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_kind_has_a_japanese_summary_and_round_trips_through_its_stored_json(kind: type[AuditEvent]) -> None:
    event = sample(kind)
    assert JAPANESE.search(event.summary()), event.summary()
    assert JAPANESE.search(event.action_label) and event.action_label == ACTIONS[kind.action]
    action, detail = encode(event)
    assert action == kind.action and set(detail) == {f.name for f in fields(kind)}
    assert decode(action, json.loads(json.dumps(detail, ensure_ascii=False))) == event


def test_the_registry_has_every_kind_once_and_kinds_sharing_an_action_are_told_apart_by_a_marker() -> None:
    registered = [k for kinds in REGISTRY.values() for k in kinds]
    assert sorted(registered, key=lambda k: k.__name__) == sorted(KINDS, key=lambda k: k.__name__)
    assert set(REGISTRY) == set(ACTIONS)
    for action, kinds in REGISTRY.items():
        if len(kinds) > 1:
            markers = [k.marker for k in kinds]
            assert None not in markers[:-1] and len(set(markers)) == len(markers), action


def test_stored_detail_keeps_the_keys_and_order_rows_have_always_had() -> None:
    assert json.dumps(Linked(3, "税務係「x」", "電話").encode(), ensure_ascii=False) \
        == '{"linked_to": 3, "other": "税務係「x」", "label": "電話"}'
    assert json.dumps(TokenUsed("PUT", "/api/v1/sheets/1", "連携", 5).encode(), ensure_ascii=False) \
        == '{"token": "連携", "method": "PUT", "path": "/api/v1/sheets/1", "calls": 5}'
    assert TokenCreated("連携", "write", "town", None).encode() \
        == {"token_created": "連携", "scope": "write", "reach": "town", "expires_on": None}
    assert Submitted(2, ("errors",)).encode() == {"version": 2, "flags": ["errors"]}
    assert FileImported("a.xlsx", 3, 1, "submitted").encode() \
        == {"file": "a.xlsx", "created": 3, "updated": 1, "status": "submitted"}
    assert AccountCreated("zeimu", "staff").encode() == {"created": "zeimu", "role": "staff"}


@pytest.mark.parametrize(("action", "data"), [
    ("notice", {"title": "お知らせ", "audience": "all"}),  # an action this release does not know
    ("submit", {"version": "二"}),  # a known action, a value of the wrong type
    ("account", {"renamed": "zeimu"}),  # a known action, a shape of none of its kinds
    ("themes", {"added": ["a", "b"]}),
    ("return", ["not", "a", "dict"]),
])
def test_rows_of_no_known_kind_or_shape_read_as_a_generic_event(action: str, data: object) -> None:
    event = decode(action, data)
    assert isinstance(event, GenericEvent) and event.kind == action
    assert isinstance(event.summary(), str) and isinstance(event.action_label, str)


def test_a_generic_event_says_what_it_holds() -> None:
    assert decode("notice", {"title": "窓口の時間変更", "count": 3, "nested": {"a": 1}}).summary() == "窓口の時間変更・3"
    assert decode("notice", {"note": "全員に送りました"}).summary() == "全員に送りました"
    assert decode("return", {"version": 2}).summary() == "第2版"  # an old decision with no note key
    assert decode("unsubmit", {}).action_label == "提出を取り下げ"


@pytest.fixture
def town(database_url: str) -> tuple[sessionmaker[Session], int, int]:
    sessions = init_db(make_engine(database_url))
    repo = SheetRepository(sessions)
    org = repo.ensure_organisation("サンプル町")
    return sessions, org, repo.create(org, make_sheet(), status="submitted").id


OLD_ROWS = [  # (action, detail as the free-form writers stored it before events were typed)
    ("submit", '{"version": 1, "flags": ["errors", "hearing"]}'),
    ("unsubmit", "{}"),
    ("return", '{"version": 1, "note": "目的を書いてください"}'),
    ("accept", '{"version": 2, "note": ""}'),
    ("revise", '{"accepted_version": 2}'),
    ("import", '{"version": 1}'),
    ("import", '{"file": "町の一覧.xlsx", "created": 3, "updated": 1}'),
    ("comment", '{"field": "tobe", "item": null, "body": "誰がどうなっているかを"}'),
    ("confirm", '{"version": 1, "code": "TOBE_VAGUE", "field": "tobe", "item": null}'),
    ("stage", '{"stage": "壁打ち", "on": "2024-05-01"}'),
    ("themes", '{"removed": "AI活用"}'),
    ("outcome", '{"kind": "hours", "value": 120}'),
    ("account", '{"password_changed": "zeimu"}'),
    ("token", '{"token": "連携", "method": "GET", "path": "/api/v1/sheets", "calls": 7}'),
    ("unlink", '{"unlinked": 4, "other": "税務係「x」", "label": "", "was": "rejected"}'),
    ("notice", '{"title": "お知らせ"}'),
    ("stage", "not json at all"),
]


def test_rows_written_in_the_old_dict_shape_read_as_typed_events(town) -> None:  # type: ignore[no-untyped-def]
    sessions, org, sheet_id = town
    with sessions.begin() as s:
        for action, detail in OLD_ROWS:
            s.add(AuditRow(organisation_id=org, sheet_id=sheet_id, user_login="dxteam", user_name="佐藤 美咲",
                           action=action, detail=detail))
    log = list(reversed(Reviews(sessions).log(org, sheet_id)))
    assert [e.action for e in log] == [a for a, _ in OLD_ROWS]
    typed = [e for e in log if not isinstance(e.event, GenericEvent)]
    assert len(typed) == len(OLD_ROWS) - 2  # the foreign action and the broken row are generic
    assert [type(e.event).__name__ for e in log[:3]] == ["Submitted", "Withdrawn", "Returned"]
    assert log[2].summary() == "第1版：目的を書いてください"
    assert log[6].summary() == "町の一覧.xlsx：新規 3・更新 1"
    assert log[13].summary() == "GET /api/v1/sheets（このトークンの7回目の呼び出し）"
    assert log[14].summary() == "相手：税務係「x」・「違う問題」を取り消し"
    assert log[15].summary() == "お知らせ" and log[15].label == "notice"
    assert log[16].summary() == "" and log[16].label == ACTIONS["stage"]
    for entry, (_, detail) in zip(typed, [r for r in OLD_ROWS[:-2]], strict=True):
        assert entry.detail == json.loads(detail)  # what the row holds, unchanged


def test_written_events_are_read_back_as_the_same_events(town) -> None:  # type: ignore[no-untyped-def]
    sessions, org, sheet_id = town
    who = Account(1, org, "dxteam", "佐藤 美咲", "dx", None)
    written = [Returned(2, "欄ごとにコメントしました"), Submitted(3, ())]
    with sessions.begin() as s:
        for event in written:
            write_audit(s, who, sheet_id, event)
    assert [e.event for e in reversed(Reviews(sessions).log(org, sheet_id))] == written
