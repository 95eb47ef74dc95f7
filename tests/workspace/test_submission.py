"""The review cycle's state machine, move by move and role by role, on SQLite and PostgreSQL (issue #10, #11.1)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from coach.db import init_db, make_engine
from coach.errors import BadInput
from coach.repository import SheetRepository, StoredSheet
from coach.workspace import review as review_module
from coach.workspace.accounts import Account
from coach.workspace.review import AuditRow, Reviews, Submission
from coach.workspace.submission import NotAllowed, Submissions
from tests.conftest import make_sheet

STATES = ("draft", "submitted", "returned", "accepted", "revising")
ACTIONS = ("submit", "unsubmit", "return", "accept", "revise", "import")
ROLES = ("section", "dx", "other")
# The specification, written out: (state, action, role) -> next state. Everything else is refused.
ALLOWED = {
    ("draft", "submit", "section"): "submitted",
    ("returned", "submit", "section"): "submitted",
    ("revising", "submit", "section"): "submitted",
    ("submitted", "submit", "section"): "submitted",
    ("submitted", "unsubmit", "section"): "draft",
    ("submitted", "return", "dx"): "returned",
    ("submitted", "accept", "dx"): "accepted",
    ("returned", "accept", "dx"): "accepted",
    ("accepted", "revise", "section"): "revising",
    ("draft", "import", "dx"): "submitted",
}
VISIBLE_STATUS = {"draft": "draft", "submitted": "submitted", "returned": "draft", "accepted": "submitted",
                  "revising": "draft"}


class Cycle:
    """A real database, a repository, the state machine and three people of one town."""

    def __init__(self, url: str) -> None:
        sessions = init_db(make_engine(url))
        self.sessions = sessions
        self.repo = SheetRepository(sessions, timedelta(minutes=5))
        org = self.repo.ensure_organisation("テスト町")
        self.machine = Submissions(sessions)
        self.reviews = Reviews(sessions)
        self.people = {"section": Account(1, org, "madoguchi", "田中", "staff", "住民窓口係"),
                       "dx": Account(2, org, "dxteam", "佐藤", "dx", None),
                       "other": Account(3, org, "doboku", "鈴木", "staff", "土木係")}
        self.org = org

    def sheet_in(self, state: str) -> StoredSheet:
        stored = self.repo.create(self.org, make_sheet())
        section, dx = self.people["section"], self.people["dx"]
        if state != "draft":
            self.machine.submit(section, stored, stored.version, Submission([]))
        if state == "returned":
            self.machine.decide(dx, stored, "return", "直してください。")
        if state in ("accepted", "revising"):
            self.machine.decide(dx, stored, "accept")
        if state == "revising":
            self.machine.revise(section, stored)
        assert self.machine.state_of(stored.id) == state
        return self.repo.get(stored.id, self.org)

    def act(self, action: str, role: str, stored: StoredSheet) -> None:
        who = self.people[role]
        moves: dict[str, Callable[[], Any]] = {
            "submit": lambda: self.machine.submit(who, stored, stored.version, Submission([])),
            "unsubmit": lambda: self.machine.withdraw(who, stored),
            "return": lambda: self.machine.decide(who, stored, "return", "直してください。"),
            "accept": lambda: self.machine.decide(who, stored, "accept"),
            "revise": lambda: self.machine.revise(who, stored),
            "import": lambda: self.machine.imported(who, stored),
        }
        moves[action]()

    def audit_count(self, sheet_id: int) -> int:
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.sheet_id == sheet_id)) or 0)


@pytest.fixture
def cycle(database_url: str) -> Cycle:
    return Cycle(database_url)


def test_every_state_action_and_role_follows_the_table(cycle: Cycle) -> None:
    for state, action, role in itertools.product(STATES, ACTIONS, ROLES):
        stored = cycle.sheet_in(state)
        logged = cycle.audit_count(stored.id)
        case = (state, action, role)
        if case in ALLOWED:
            cycle.act(action, role, stored)
            after = ALLOWED[case]
            assert cycle.machine.state_of(stored.id) == after, case
            assert cycle.repo.get(stored.id, cycle.org).status == VISIBLE_STATUS[after], case
            assert cycle.audit_count(stored.id) == logged + 1, case  # the move and its record, together
            continue
        with pytest.raises(NotAllowed) as refused:
            cycle.act(action, role, stored)
        never = not any(a == action and r == role for (_, a, r) in ALLOWED)
        assert refused.value.status == (403 if never else 409), case
        assert refused.value.reason and "。" in refused.value.reason, case  # a sentence in Japanese
        assert cycle.machine.state_of(stored.id) == state, case
        assert cycle.audit_count(stored.id) == logged, case


def test_an_accepted_sheet_says_how_to_change_it(cycle: Cycle) -> None:
    stored = cycle.sheet_in("accepted")
    with pytest.raises(NotAllowed) as refused:
        cycle.act("unsubmit", "section", stored)
    assert refused.value.status == 409 and "改訂する" in refused.value.reason


def test_a_revision_remembers_the_accepted_version_and_withdraws_to_itself(cycle: Cycle) -> None:
    stored = cycle.sheet_in("revising")
    accepted = cycle.reviews.get(stored.id)
    assert accepted is not None and accepted.accepted_version == stored.version
    changed = cycle.repo.save(stored.id, cycle.org, make_sheet(tobe="住民が自宅で手続きを終えている。"))
    cycle.machine.submit(cycle.people["section"], changed, changed.version, Submission([]))
    review = cycle.reviews.get(stored.id)
    assert review is not None and review.state == "waiting" and review.accepted_version == stored.version
    assert cycle.machine.withdraw(cycle.people["section"], changed) == "revising"
    assert cycle.machine.state_of(stored.id) == "revising"
    cycle.machine.submit(cycle.people["section"], changed, changed.version, Submission([]))
    cycle.machine.decide(cycle.people["dx"], changed, "accept")
    assert cycle.reviews.get(stored.id).accepted_version == changed.version  # type: ignore[union-attr]


def test_a_submitted_sheet_without_a_review_row_is_repaired_by_its_first_move(cycle: Cycle) -> None:
    """Old databases, the bundled samples and `coach index` store submitted sheets with no review row."""
    stored = cycle.repo.create(cycle.org, make_sheet(), kind="import", status="submitted")
    assert cycle.reviews.get(stored.id) is None and cycle.machine.state_of(stored.id) == "submitted"
    cycle.machine.decide(cycle.people["dx"], stored, "accept")
    review = cycle.reviews.get(stored.id)
    assert review is not None and review.state == "accepted" and review.submitted_version == stored.version


def test_a_move_that_fails_halfway_leaves_nothing_behind(cycle: Cycle, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = cycle.sheet_in("submitted")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the audit write failed")

    monkeypatch.setattr("coach.workspace.submission.write_audit", broken)
    with pytest.raises(RuntimeError):
        cycle.act("accept", "dx", stored)
    assert cycle.machine.state_of(stored.id) == "submitted"
    assert cycle.repo.get(stored.id, cycle.org).status == "submitted"
    assert review_module is not None and cycle.reviews.get(stored.id).decided_at is None  # type: ignore[union-attr]


def test_returning_without_a_note_changes_nothing(cycle: Cycle) -> None:
    stored = cycle.sheet_in("submitted")
    with pytest.raises(BadInput) as bad:
        cycle.machine.decide(cycle.people["dx"], stored, "return", "  ")
    assert bad.value.errors[0].field == "note"
    assert cycle.machine.state_of(stored.id) == "submitted"
    assert cycle.repo.get(stored.id, cycle.org).status == "submitted"
