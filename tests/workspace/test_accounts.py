"""Accounts and sessions on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from coach.db import init_db, make_engine, now
from coach.errors import BadInput
from coach.repository import SheetRepository
from coach.workspace.accounts import Accounts, LoginSession, User

PASSWORD = "correct-horse-9"


@pytest.fixture
def accounts(database_url: str) -> tuple[Accounts, int]:
    sessions = init_db(make_engine(database_url))
    org = SheetRepository(sessions).ensure_organisation("サンプル町")
    return Accounts(sessions, idle=timedelta(hours=8)), org


def test_password_is_stored_as_an_argon2_hash_and_checked(accounts: tuple[Accounts, int]) -> None:
    acc, org = accounts
    a = acc.create(org, "Madoguchi", "田中 花子", "staff", PASSWORD, "住民窓口係")
    assert (a.login, a.section, a.role) == ("madoguchi", "住民窓口係", "staff")  # login IDs are lower case
    with acc._sessions() as s:
        stored = s.scalar(select(User.password_hash).where(User.login == "madoguchi"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert acc.authenticate("madoguchi", PASSWORD) == a
    assert acc.authenticate("MADOGUCHI ", PASSWORD) == a
    assert acc.authenticate("madoguchi", PASSWORD + "x") is None
    assert acc.authenticate("nobody", PASSWORD) is None


def test_production_passwords_use_argon2id_at_rfc_9106s_low_memory_cost(production_hasher: Any) -> None:
    """The other tests hash at the lowest cost (tests/conftest.py); the server hashes at this one."""
    from argon2 import Type
    from argon2.profiles import RFC_9106_LOW_MEMORY as PROFILE

    assert (production_hasher.type, production_hasher.time_cost, production_hasher.memory_cost,
            production_hasher.parallelism) == (Type.ID, PROFILE.time_cost, PROFILE.memory_cost, PROFILE.parallelism)
    stored = production_hasher.hash(PASSWORD)
    assert stored.startswith(f"$argon2id$v=19$m={PROFILE.memory_cost},t={PROFILE.time_cost},p={PROFILE.parallelism}$")
    assert production_hasher.verify(stored, PASSWORD)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"login": "ab"}, "login"),
    ({"login": "日本語"}, "login"),
    ({"name": " "}, "name"),
    ({"role": "admin"}, "role"),
    ({"section": None}, "section"),  # section staff belong to a section
    ({"password": "short"}, "password"),
])
def test_bad_account_input_names_the_field_in_japanese(accounts: tuple[Accounts, int], kwargs: dict, field: str) -> None:
    acc, org = accounts
    args = {"login": "madoguchi", "name": "田中", "role": "staff", "password": PASSWORD, "section": "住民窓口係",
            **kwargs}
    with pytest.raises(BadInput) as err:
        acc.create(org, args["login"], args["name"], args["role"], args["password"], args["section"])
    assert err.value.errors[0].field == field and err.value.errors[0].reason.endswith("。")


def test_a_login_id_is_taken_once(accounts: tuple[Accounts, int]) -> None:
    acc, org = accounts
    acc.create(org, "dxteam", "佐藤", "dx", PASSWORD)
    with pytest.raises(BadInput, match="入力内容") as err:
        acc.create(org, "dxteam", "別の佐藤", "dx", PASSWORD)
    assert "すでに使われています" in err.value.errors[0].reason


def test_sessions_store_only_a_hash_and_end(accounts: tuple[Accounts, int]) -> None:
    acc, org = accounts
    a = acc.create(org, "dxteam", "佐藤", "dx", PASSWORD)
    token, csrf = acc.open_session(a)
    with acc._sessions() as s:
        row = s.scalar(select(LoginSession))
    assert row is not None and token not in row.token_hash and len(row.token_hash) == 64
    opened = acc.session(token)
    assert opened is not None and opened.account == a and opened.csrf == csrf
    assert acc.session("forged") is None and acc.session("") is None
    acc.close_session(token)
    assert acc.session(token) is None


def test_idle_sessions_expire(accounts: tuple[Accounts, int]) -> None:
    acc, org = accounts
    token, _ = acc.open_session(acc.create(org, "dxteam", "佐藤", "dx", PASSWORD))
    with acc._sessions.begin() as s:
        s.execute(update(LoginSession).values(last_seen=now() - timedelta(hours=9)))
    assert acc.session(token) is None


def test_a_new_password_or_a_stopped_account_ends_every_session(accounts: tuple[Accounts, int]) -> None:
    acc, org = accounts
    a = acc.create(org, "madoguchi", "田中", "staff", PASSWORD, "住民窓口係")
    token, _ = acc.open_session(a)
    acc.set_password(a.id, org, "another-password-1")
    assert acc.session(token) is None
    assert acc.authenticate("madoguchi", PASSWORD) is None
    token, _ = acc.open_session(a)
    acc.set_active(a.id, org, False)
    assert acc.session(token) is None
    assert acc.authenticate("madoguchi", "another-password-1") is None  # a stopped account cannot log in
    acc.set_active(a.id, org, True)
    assert acc.authenticate("madoguchi", "another-password-1") is not None


def test_accounts_of_another_organisation_are_out_of_reach(accounts: tuple[Accounts, int]) -> None:
    acc, org = accounts
    a = acc.create(org, "madoguchi", "田中", "staff", PASSWORD, "住民窓口係")
    with pytest.raises(BadInput):
        acc.set_password(a.id, org + 1, "another-password-1")
