"""A sheet's status and its review's state: the one definition of each value and its Japanese label.

Three enums, because three things are stored or shown, and their values are what the database and
the API already hold (they never change here):

- `SheetStatus` is `sheets.status` (and `"status"` in the API's JSON): who may read the sheet and
  whether search shows it to other sections.
- `ReviewState` is `reviews.state`: the DX team's round.
- `State` is the review cycle's state, combined from the two (`coach/workspace/submission.py` holds
  the table of allowed moves between them).

`StrEnum` members equal their values (`SheetStatus.DRAFT == "draft"`), so templates and stored rows
compare as before. Each member's Japanese label comes from the one table `LABELS`.
The core (`coach/`) uses this module without importing the workspace package.
"""

from __future__ import annotations

from enum import StrEnum


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return LABELS[self.value]


class SheetStatus(_Labelled):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ReviewState(_Labelled):
    WAITING = "waiting"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    REVISING = "revising"


class State(_Labelled):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    REVISING = "revising"


# value -> label, for every value of the three enums (one value means one thing wherever it is stored)
LABELS: dict[str, str] = {
    "draft": "下書き",
    "submitted": "提出済み",
    "waiting": "レビュー待ち",
    "returned": "差し戻し",
    "accepted": "受理",
    "revising": "改訂中",
}

SHEET_STATUS_LABELS: dict[str, str] = {s.value: s.label for s in SheetStatus}
REVIEW_STATE_LABELS: dict[str, str] = {s.value: s.label for s in ReviewState}
STATE_LABELS: dict[str, str] = {s.value: s.label for s in State}

# the cycle's state -> what is stored in sheets.status and reviews.state
STATUS_OF = {State.DRAFT: SheetStatus.DRAFT, State.SUBMITTED: SheetStatus.SUBMITTED,
             State.RETURNED: SheetStatus.DRAFT, State.ACCEPTED: SheetStatus.SUBMITTED,
             State.REVISING: SheetStatus.DRAFT}
REVIEW_STATE_OF = {State.SUBMITTED: ReviewState.WAITING, State.RETURNED: ReviewState.RETURNED,
                   State.ACCEPTED: ReviewState.ACCEPTED, State.REVISING: ReviewState.REVISING}
STATE_OF_REVIEW: dict[str, State] = {review.value: state for state, review in REVIEW_STATE_OF.items()}


def status_label(status: str) -> str:
    """The Japanese label of a stored value; an unknown value is shown as it is, never an error."""
    return LABELS.get(status, status)
