"""Every permission rule, including the ones that must say no (pure functions, no HTTP)."""

from __future__ import annotations

from datetime import datetime

import pytest

from coach.repository import StoredSheet
from coach.workspace.accounts import Account
from coach.workspace.permissions import (
    can_create_in,
    can_edit,
    can_manage,
    can_read,
    can_review,
    can_see_history,
)
from tests.conftest import make_sheet

MADOGUCHI = Account(1, 1, "madoguchi", "田中", "staff", "住民窓口係")
DOBOKU = Account(2, 1, "doboku", "鈴木", "staff", "土木係")
DX = Account(3, 1, "dxteam", "佐藤", "dx", None)
LOCAL = Account(0, 1, "local", "この端末のプログラム", "local", None)
OTHER_TOWN = Account(4, 2, "yoso", "よその町", "staff", "住民窓口係")


def stored(section: str = "住民窓口係", status: str = "draft", org: int = 1) -> StoredSheet:
    t = datetime(2026, 4, 1)
    return StoredSheet(7, org, None, section, "転入", status, 1, make_sheet(section=section), t, t)


@pytest.mark.parametrize(("who", "sheet", "expected"), [
    (MADOGUCHI, stored(), True),                              # own section's draft
    (MADOGUCHI, stored("土木係", "submitted"), True),          # another section's submitted sheet
    (MADOGUCHI, stored("土木係", "draft"), False),             # another section's draft: no
    (DX, stored("土木係", "draft"), True),                     # the DX team reads everything
    (LOCAL, stored("土木係", "draft"), True),
    (OTHER_TOWN, stored(status="submitted"), False),          # another organisation: never
])
def test_who_can_read(who: Account, sheet: StoredSheet, expected: bool) -> None:
    assert can_read(who, sheet) is expected


@pytest.mark.parametrize(("who", "sheet", "expected"), [
    (MADOGUCHI, stored(), True),
    (MADOGUCHI, stored(status="submitted"), True),            # fixing a typo after submitting
    (DOBOKU, stored(status="submitted"), False),               # reading is not editing
    (DX, stored(), False),                                     # the DX team comments, it does not rewrite
    (LOCAL, stored(), True),
    (OTHER_TOWN, stored(), False),
])
def test_who_can_edit(who: Account, sheet: StoredSheet, expected: bool) -> None:
    assert can_edit(who, sheet) is expected


def test_earlier_versions_stay_with_the_section_and_the_dx_team() -> None:
    submitted = stored(status="submitted")
    assert can_see_history(MADOGUCHI, submitted) and can_see_history(DX, submitted)
    assert not can_see_history(DOBOKU, submitted)  # may read the sheet, not the drafts behind it
    assert not can_see_history(OTHER_TOWN, submitted)


def test_sheets_are_created_only_in_ones_own_section() -> None:
    assert can_create_in(MADOGUCHI, "住民窓口係") and can_create_in(MADOGUCHI, " 住民窓口係 ")
    assert not can_create_in(MADOGUCHI, "土木係")
    assert not can_create_in(DX, "住民窓口係")
    assert can_create_in(LOCAL, "土木係")


def test_only_the_dx_team_reviews_and_manages() -> None:
    assert can_review(DX) and can_manage(DX)
    for who in (MADOGUCHI, DOBOKU, LOCAL):
        assert not can_review(who) and not can_manage(who)


def token(scope: str, section: str | None) -> Account:
    return Account(0, 1, "token:1", "APIトークン「連携」", "token", section, scope=scope)


@pytest.mark.parametrize(("who", "sheet", "read", "edit", "history"), [
    (token("read", None), stored("土木係", "draft"), True, False, True),            # town: reads all, writes none
    (token("write", None), stored("土木係", "draft"), True, True, True),            # town writer: any section
    (token("read", "住民窓口係"), stored(), True, False, True),                     # own section's draft
    (token("read", "住民窓口係"), stored("土木係", "submitted"), True, False, False),  # others' once submitted
    (token("read", "住民窓口係"), stored("土木係", "draft"), False, False, False),   # others' drafts: never
    (token("write", "住民窓口係"), stored(), True, True, True),
    (token("write", "住民窓口係"), stored("土木係", "submitted"), True, False, False),
    (Account(0, 2, "token:9", "よその町", "token", None, scope="write"), stored(), False, False, False),
])
def test_what_an_api_token_may_do(who: Account, sheet: StoredSheet, read: bool, edit: bool, history: bool) -> None:
    assert (can_read(who, sheet), can_edit(who, sheet), can_see_history(who, sheet)) == (read, edit, history)
    assert not can_review(who) and not can_manage(who)


def test_tokens_create_sheets_only_within_their_reach_and_scope() -> None:
    assert can_create_in(token("write", None), "土木係") and can_create_in(token("write", "住民窓口係"), "住民窓口係")
    assert not can_create_in(token("write", "住民窓口係"), "土木係")
    assert not can_create_in(token("read", None), "土木係") and not can_create_in(token("read", "住民窓口係"), "住民窓口係")
