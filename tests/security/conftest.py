"""The bad-input and abuse suite: one seeded app per module and database, and a ledger of what was sent.

Every test here carries the `fuzz` marker (`pytest -m "not fuzz"` skips them in the fast loop; `make
test` runs them). Each request goes through `World.send`, which counts it and records every 5xx with
its route, the class of input and the exception the server logged; the summary at the end of the run
lists them. `COACH_FUZZ_SURVEY=1` keeps going after a 5xx (to list every distinct one); by default
the first 5xx fails the test.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import GOOD, LOOPBACK, PASSWORD, POSTGRES, TEST_HOSTS, TOWN_PC, sheet_data
from tests.security.hostile import input_class, problem, url_values

SURVEY = os.environ.get("COACH_FUZZ_SURVEY", "") == "1"
LEDGER_FILE = os.environ.get("COACH_FUZZ_LEDGER", "")  # also append every 5xx to this file
SECTION, OTHER = GOOD["section"], "道路維持係"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fuzz)


@dataclass
class Ledger:
    """Requests sent per test module and every distinct 5xx (route, input class, exception)."""

    requests: Counter[str] = field(default_factory=Counter)
    server_errors: dict[tuple[str, str, str], int] = field(default_factory=dict)
    bad_4xx: dict[tuple[str, str], int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # per module: what a budget left out

    def add_5xx(self, key: tuple[str, str, str]) -> None:
        self.server_errors[key] = self.server_errors.get(key, 0) + 1
        if LEDGER_FILE:  # written as found, so a long survey can be read before it ends
            with open(LEDGER_FILE, "a", encoding="utf-8") as f:
                f.write(" | ".join(key) + "\n")


LEDGER = Ledger()


class LastError(logging.Handler):
    """Catches the exception the app's last-resort handler logs, to name it next to the 5xx."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            self.last = f"{type(exc).__module__}.{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"


@dataclass
class World:
    """A real app on one database with two sections, a DX account and sheets in every state."""

    db: str
    app: Any
    ids: dict[str, int]
    clients: dict[str, TestClient]
    errors: LastError
    module: str = ""

    @property
    def services(self) -> Any:
        return self.app.state.services

    def client(self, role: str) -> TestClient:
        """`loopback` (a program on this machine), `anon` (a town PC, no login), `staff`, `other`, `dx`.
        A session that a fuzzed request ended (password change, logout) is opened again."""
        c = self.clients[role]
        if role in ("staff", "other", "dx") and self.services.accounts.session(c.cookies.get("coach_session") or "") is None:
            _log_in(self, c, role)
        return c

    def send(self, role: str, method: str, url: str, label: str, sent: Any = None, **kwargs: Any) -> Any:
        """One request as `role` (`label` names the route, e.g. "PUT /api/v1/sheets/{sheet_id}"); returns the response. Fails on a 5xx or a 4xx without a Japanese reason."""
        c = self.client(role)
        self.errors.last = ""
        r = c.request(method, url, **kwargs)
        LEDGER.requests[self.module] += 1
        wrong = problem(r.status_code, r.headers.get("content-type", ""), r.text)
        if not wrong:
            return r
        payload = sent if sent is not None else kwargs.get("json", kwargs.get("data"))
        what = input_class([url_values(url, kwargs.get("params")), payload])
        if r.status_code >= 500:
            LEDGER.add_5xx((f"{self.db}: {label}", what, self.errors.last or "(no exception logged)"))
            if SURVEY:
                return r
        else:
            key = (f"{self.db}: {label} -> {r.status_code}", what)
            LEDGER.bad_4xx[key] = LEDGER.bad_4xx.get(key, 0) + 1
        raise AssertionError(f"{self.db}: {method} {url} as {role} [{what}]: {wrong}"
                             + (f"\n  server: {self.errors.last}" if self.errors.last else ""))


ACCOUNTS = {"staff": ("fz-madoguchi", SECTION), "other": ("fz-doro", OTHER), "dx": ("fz-dx", None),
            "victim": ("fz-victim", SECTION)}


def _log_in(world: World, c: TestClient, role: str) -> None:
    accounts = world.services.accounts
    account = accounts.by_login(ACCOUNTS[role][0])
    if not account.active:  # a fuzzed DX request may have stopped it; start it again
        accounts.set_active(account.id, account.organisation_id, True)
    token, csrf = accounts.open_session(account)
    c.cookies.set("coach_session", token)
    c.headers["X-CSRF-Token"] = csrf


def _database_url(db: str, tmp: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{tmp / 'coach.db'}"
    if not POSTGRES:
        if os.environ.get("CI"):
            pytest.fail("COACH_TEST_POSTGRES_URL is not set; .ci/run starts PostgreSQL")
        pytest.skip("no PostgreSQL (set COACH_TEST_POSTGRES_URL)")
    from coach.app import all_tables
    from coach.db import make_engine

    engine = make_engine(POSTGRES)
    all_tables().drop_all(engine)  # each module starts from empty tables
    engine.dispose()
    return POSTGRES


def build_world(db: str, tmp: Path, module: str) -> World:
    from coach.settings import Settings
    from web.app import create_app

    settings = Settings(data_dir=tmp, database_url=_database_url(db, tmp), load_samples=False, allowed_hosts=TEST_HOSTS)
    app = create_app(settings)
    services = app.state.services
    org = services.organisation_id
    for role, (login, section) in ACCOUNTS.items():
        services.accounts.create(org, login, f"{login}さん", "dx" if role == "dx" else "staff", PASSWORD, section)
    repo = services.repo
    from coach.sheet import Sheet

    ids = {
        "draft": repo.create(org, Sheet.model_validate(sheet_data())).id,
        "submitted": repo.create(org, Sheet.model_validate(sheet_data(title="提出済みのシート")), status="submitted").id,
        "other_draft": repo.create(org, Sheet.model_validate(sheet_data(section=OTHER, title="他の係の下書き"))).id,
        "other_submitted": repo.create(org, Sheet.model_validate(sheet_data(section=OTHER, title="他の係の提出")),
                                       status="submitted").id,
    }
    for key in ("draft", "submitted", "other_draft", "other_submitted"):
        repo.save(ids[key], org, repo.get(ids[key], org).sheet)  # a second version for version routes
    services.cycle.add_theme(services.accounts.by_login(ACCOUNTS["dx"][0]), "窓口の改善")
    ids["theme"] = services.cycle.themes(org)[0].id
    ids["victim"] = services.accounts.by_login(ACCOUNTS["victim"][0]).id
    dx = services.accounts.by_login(ACCOUNTS["dx"][0])
    ids["token"] = services.tokens.create(dx, "連携", "read", None, None)[1].id
    ids["link"] = services.links.link(dx, ids["submitted"], ids["other_submitted"], "窓口の混雑").id
    clients = {"loopback": TestClient(app, client=LOOPBACK, raise_server_exceptions=False),
               "anon": TestClient(app, client=TOWN_PC, raise_server_exceptions=False)}
    errors = LastError()
    world = World(db, app, ids, clients, errors, module)
    for role in ("staff", "other", "dx"):
        clients[role] = TestClient(app, client=TOWN_PC, raise_server_exceptions=False)
        _log_in(world, clients[role], role)
    return world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    module = request.module.__name__.rsplit(".", 1)[-1]
    built = build_world(request.param, tmp_path_factory.mktemp(f"{module}-{request.param}"), module)
    logger = logging.getLogger("coach.web")
    logger.addHandler(built.errors)
    try:
        yield built
    finally:
        logger.removeHandler(built.errors)
        for c in built.clients.values():
            c.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not LEDGER.requests:
        return
    w = terminalreporter
    w.section("bad-input and abuse suite")
    total = sum(LEDGER.requests.values())
    w.line(f"requests sent: {total} (" + ", ".join(f"{k} {n}" for k, n in sorted(LEDGER.requests.items())) + ")")
    for module, note in sorted(LEDGER.notes.items()):
        if module in LEDGER.requests:
            w.line(note)
    w.line(f"distinct 5xx (route, input class, exception): {len(LEDGER.server_errors)}")
    for (route, what, exc), n in sorted(LEDGER.server_errors.items()):
        w.line(f"  {route} | {what} | {exc} | x{n}")
    if LEDGER.bad_4xx:
        w.line(f"4xx without a Japanese reason: {len(LEDGER.bad_4xx)}")
        for (route, what), n in sorted(LEDGER.bad_4xx.items()):
            w.line(f"  {route} | {what} | x{n}")
