"""The review cycle as one state machine: the states of a sheet, who may move it, and each move as ONE transaction.

A sheet's state is read from two columns that other code already relies on: `sheets.status`
(draft / submitted: who may read it, whether search shows it) and `reviews.state` (the DX team's
round). `state_of` combines them; `TRANSITIONS` is the one table of allowed moves and roles; every
move writes the status, the review row and the audit event in one transaction, the sheet row locked.

An accepted sheet is frozen. 「改訂する」 starts a revision: a draft of the same case that keeps the
accepted version's number (`reviews.accepted_version`, readable in the history) and is reviewed again.
A sheet stored as submitted without a review row (an old database, the bundled samples, `coach index`)
is simply submitted: its review row is written by its first transition (the lazy repair).
"""

from __future__ import annotations

import json
from enum import StrEnum

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from coach.db import Section, SheetRow, now, reading
from coach.findings import counts
from coach.outbox import enqueue
from coach.repository import HEAD_COLUMNS, SheetHead, SheetNotFound, StoredSheet, head_of
from coach.status import REVIEW_STATE_OF, STATE_OF_REVIEW, STATUS_OF, ReviewState, SheetStatus, State
from coach.workspace.accounts import Account
from coach.workspace.audit import write_audit
from coach.workspace.audit_events import Accepted, Returned, Revised, SheetImported, Submitted, Withdrawn
from coach.workspace.permissions import can_edit, can_review
from coach.workspace.review import CommentRow, Review, ReviewRow, Submission, _review


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "unsubmit"
    RETURN = "return"
    ACCEPT = "accept"
    REVISE = "revise"
    IMPORT = "import"  # the DX team's import of a town's Excel: a new sheet arrives submitted


class Role(StrEnum):
    SECTION = "section"  # may edit the sheet: its section's staff, a program writing for it
    DX = "dx"
    OTHER = "other"


ACTION_LABELS = {Action.SUBMIT: "提出する", Action.WITHDRAW: "提出を取り下げる", Action.RETURN: "差し戻す",
                 Action.ACCEPT: "受理する", Action.REVISE: "改訂する", Action.IMPORT: "取り込む"}

SECTION, DX = frozenset({Role.SECTION}), frozenset({Role.DX})
# (state, action) -> (next state, roles allowed). Anything not listed is refused with a 409.
TRANSITIONS: dict[tuple[State, Action], tuple[State, frozenset[Role]]] = {
    (State.DRAFT, Action.SUBMIT): (State.SUBMITTED, SECTION),
    (State.RETURNED, Action.SUBMIT): (State.SUBMITTED, SECTION),
    (State.REVISING, Action.SUBMIT): (State.SUBMITTED, SECTION),
    (State.SUBMITTED, Action.SUBMIT): (State.SUBMITTED, SECTION),  # after fixing a typo: a new round
    (State.SUBMITTED, Action.WITHDRAW): (State.DRAFT, SECTION),  # REVISING when a version was accepted
    (State.SUBMITTED, Action.RETURN): (State.RETURNED, DX),
    (State.SUBMITTED, Action.ACCEPT): (State.ACCEPTED, DX),
    (State.RETURNED, Action.ACCEPT): (State.ACCEPTED, DX),  # the reviewer changed their mind
    (State.ACCEPTED, Action.REVISE): (State.REVISING, SECTION),
    (State.DRAFT, Action.IMPORT): (State.SUBMITTED, DX),
}
FROZEN = frozenset({State.ACCEPTED})  # no edit of any kind: autosave, save, move, rows, restore, API PUT
FROZEN_REASON = ("このシートは受理されているため変更できません。内容を変えるときは「改訂する」を押してください"
                 "（受理された版はそのまま残り、改訂版はもう一度レビューを受けます）。")


class NotAllowed(Exception):
    """A move the table does not allow: 409 for the sheet's state, 403 for the person's role."""

    def __init__(self, reason: str, status: int = 409) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


def state_of(status: str, review: Review | ReviewRow | None) -> State:
    return _state(status, review.state if review is not None else None)


def _state(status: str, review_state: str | None) -> State:
    by_status = State.SUBMITTED if status == SheetStatus.SUBMITTED else State.DRAFT
    if review_state is None:
        return by_status
    return STATE_OF_REVIEW.get(review_state, by_status)


def role_of(who: Account, stored: StoredSheet) -> Role:
    if who.organisation_id != stored.organisation_id:
        return Role.OTHER
    if can_review(who):
        return Role.DX
    return Role.SECTION if can_edit(who, stored) else Role.OTHER


def check(state: State, action: Action, role: Role) -> State:
    """The next state, or NotAllowed with the reason in Japanese."""
    if not any(role in roles for (_, a), (_, roles) in TRANSITIONS.items() if a == action):
        who = "DX推進チーム" if action in (Action.RETURN, Action.ACCEPT, Action.IMPORT) else "そのシートの係の職員"
        raise NotAllowed(f"「{ACTION_LABELS[action]}」ができるのは{who}です。", 403)
    allowed = TRANSITIONS.get((state, action))
    if allowed is None or role not in allowed[1]:
        if state in FROZEN:
            raise NotAllowed(FROZEN_REASON)
        raise NotAllowed(f"このシートは「{state.label}」の状態のため、「{ACTION_LABELS[action]}」はできません。"
                         "ページを読み込み直して、今の状態を確かめてください。")
    return allowed[0]


def check_editable(state: State) -> None:
    if state in FROZEN:
        raise NotAllowed(FROZEN_REASON)


class Submissions:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def state_of(self, sheet_id: int) -> State:
        with self._sessions() as s:  # one query: every keystroke pause of the editor asks
            found = s.execute(select(SheetRow.status, ReviewRow.state)
                              .outerjoin(ReviewRow, ReviewRow.sheet_id == SheetRow.id)
                              .where(SheetRow.id == sheet_id)).one_or_none()
        if found is None:
            raise SheetNotFound(str(sheet_id))
        return _state(found[0], found[1])

    def head_and_state(self, sheet_id: int, organisation_id: int) -> tuple[SheetHead, State]:
        """The sheet's head (no text) and its place in the review cycle, in one query: the access check
        of every typing pause of the editor (web/access.py `writable`)."""
        with reading(self._sessions) as conn:
            found = conn.execute(_HEAD_AND_STATE, {"sheet_id": sheet_id, "org": organisation_id}).one_or_none()
        if found is None:  # another organisation's sheet does not exist
            raise SheetNotFound(str(sheet_id))
        return head_of(found), _state(found.status, found.review_state)

    def submit(self, who: Account, stored: StoredSheet, version: int, sub: Submission) -> Review:
        with self._sessions.begin() as s:
            row, review, _ = self._move(s, who, stored, Action.SUBMIT)
            review.state, review.submitted_at, review.submitted_version = ReviewState.WAITING, now(), version
            review.hearing, review.flags, review.engine = sub.hearing, ",".join(sub.flags), sub.engine
            counted = counts(sub.findings)  # the one count (coach/findings.py)
            review.errors, review.warnings = counted["error"], counted["warning"]
            review.findings = json.dumps([f.model_dump() for f in sub.findings], ensure_ascii=False)
            review.decided_at = review.decided_by = None
            write_audit(s, who, stored.id, Submitted(version, tuple(sub.flags)))
            s.flush()
            return _review(review)

    def withdraw(self, who: Account, stored: StoredSheet) -> State:
        with self._sessions.begin() as s:
            row, review, target = self._move(s, who, stored, Action.WITHDRAW)
            if review.accepted_version is not None:  # a revision's submission goes back to the revision
                target = State.REVISING
                review.state, row.status = REVIEW_STATE_OF[target], STATUS_OF[target]
            else:
                s.delete(review)
            write_audit(s, who, stored.id, Withdrawn())
            return target

    def decide(self, who: Account, stored: StoredSheet, decision: str, note: str = "") -> Review:
        from coach.errors import BadInput, FieldError

        if decision not in (Action.RETURN, Action.ACCEPT):
            raise BadInput([FieldError("decision", None, "「差し戻す」か「受理する」を選んでください。")])
        note = note.strip()
        with self._sessions.begin() as s:
            row, review, target = self._move(s, who, stored, Action(decision))
            if target == State.RETURNED and not note and not _comments_since(s, stored.id, review.submitted_at):
                raise BadInput([FieldError("note", None, "差し戻すときは、直してほしい点をコメントに書いてください。")])
            review.decided_at, review.decided_by = now(), who.name
            if target == State.ACCEPTED:
                review.accepted_version = review.submitted_version
            if note:
                s.add(CommentRow(sheet_id=stored.id, author=who.name, field="general", body=note,
                                 version=review.submitted_version))
            decided = Returned if target == State.RETURNED else Accepted
            write_audit(s, who, stored.id, decided(review.submitted_version, note))
            s.flush()
            return _review(review)

    def revise(self, who: Account, stored: StoredSheet) -> None:
        with self._sessions.begin() as s:
            _, review, _ = self._move(s, who, stored, Action.REVISE)
            write_audit(s, who, stored.id, Revised(review.accepted_version))

    def imported(self, who: Account, stored: StoredSheet) -> None:
        """A sheet the DX team just imported (created as a draft) becomes submitted, waiting for review."""
        with self._sessions.begin() as s:
            _, review, _ = self._move(s, who, stored, Action.IMPORT)
            review.submitted_at, review.submitted_version = now(), stored.version
            write_audit(s, who, stored.id, SheetImported(stored.version))

    def _move(self, s: Session, who: Account, stored: StoredSheet, action: Action) -> tuple[SheetRow, ReviewRow, State]:
        """Lock the sheet, check the move against the table, write status and review state."""
        row = s.scalar(select(SheetRow).where(SheetRow.id == stored.id,
                                              SheetRow.organisation_id == stored.organisation_id)
                           .with_for_update(of=SheetRow))
        if row is None:
            raise SheetNotFound(str(stored.id))
        review = s.get(ReviewRow, stored.id)
        target = check(state_of(row.status, review), action, role_of(who, stored))
        if review is None:  # first move, or submitted before reviews existed: the row is written now
            review = ReviewRow(sheet_id=stored.id, state=ReviewState.WAITING, submitted_at=row.updated_at,
                               submitted_version=stored.version, hearing=False, flags="", errors=0, warnings=0,
                               engine="rules", findings="[]")
            s.add(review)
        row.status, row.updated_at = STATUS_OF[target], now()
        review.state = REVIEW_STATE_OF.get(target, review.state)
        # the index shows the status (who may see the sheet as a similar one): queued in this transaction
        enqueue(s, row.id, row.organisation_id, row.version, row.updated_at)
        return row, review, target


def _comments_since(s: Session, sheet_id: int, since: object) -> bool:
    return s.scalar(select(CommentRow.id).where(CommentRow.sheet_id == sheet_id,
                                                CommentRow.created_at >= since).limit(1)) is not None


_HEAD_AND_STATE = (select(*HEAD_COLUMNS, ReviewRow.state.label("review_state"))
                   .join(Section, Section.id == SheetRow.section_id)
                   .outerjoin(ReviewRow, ReviewRow.sheet_id == SheetRow.id)
                   .where(SheetRow.id == bindparam("sheet_id"), SheetRow.organisation_id == bindparam("org")))
