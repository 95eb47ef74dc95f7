"""The review queue: every submitted (or returned) sheet a DX account may read, with its counts and flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from coach.db import now
from coach.repository import StoredSheet
from coach.status import ReviewState, SheetStatus
from coach.workspace.accounts import Account
from coach.workspace.cycle import stage_of
from coach.workspace.permissions import visible
from coach.workspace.review import Review, is_flagged

if TYPE_CHECKING:
    from coach.app import Services


@dataclass(frozen=True)
class QueueItem:
    stored: StoredSheet
    review: Review | None
    errors: int
    warnings: int
    flags: list[str]
    since: datetime
    stage: str
    returned_version: int | None = None  # the version the DX team returned, when this is a resubmission

    @property
    def resubmitted(self) -> bool:
        """再提出: waiting for review again after a return (the queue links to the changes since then)."""
        return self.state == ReviewState.WAITING and self.returned_version is not None

    @property
    def state(self) -> str:
        """The queue's tab. A revision in progress stays under 受理済み: its accepted version holds."""
        if self.review is None:
            return ReviewState.WAITING
        return ReviewState.ACCEPTED if self.review.state == ReviewState.REVISING else self.review.state

    @property
    def flagged(self) -> bool:
        return is_flagged(self.flags, self.state)

    @property
    def revision(self) -> str:
        """'' for a first round; 'revising' while the section rewrites an accepted sheet;
        'revised' for a revision back in review (the accepted version stays readable)."""
        if self.review is None or self.review.accepted_version is None:
            return ""
        return ReviewState.REVISING if self.review.state == ReviewState.REVISING else "revised"

    @property
    def age_days(self) -> int:
        return max(0, (now() - self.since).days)


def queue(services: Services, who: Account, sheets: list[StoredSheet] | None = None) -> list[QueueItem]:
    """Every submitted sheet `who` may read. Finding counts are for the sheet as it is now (staff may
    still fix typos after submitting); the flags the AI coach or a hearing request raised at submit time stay."""
    organisation_id = who.organisation_id
    reviews = services.reviews.of_organisation(organisation_id)
    stages = services.cycle.current_stages(organisation_id)
    returned = services.reviews.returned_versions(organisation_id)
    items = []
    for stored in visible(who, services.repo.list(organisation_id) if sheets is None else sheets):
        review = reviews.get(stored.id)
        if stored.status != SheetStatus.SUBMITTED and (
                review is None or review.state not in (ReviewState.RETURNED, ReviewState.REVISING)):
            continue
        errors = stored.errors  # the findings stored with the sheet's latest version
        flags = [f for f in (review.flags if review else []) if f != "errors"]
        if errors or (review and review.errors):
            flags.insert(0, "errors")
        items.append(QueueItem(stored, review, errors, stored.warnings, flags,
                               review.submitted_at if review else stored.updated_at,
                               stage_of(stages.get(stored.id, [])), returned.get(stored.id)))
    return items


STATE_ORDER: dict[str, int] = {ReviewState.WAITING: 0, ReviewState.RETURNED: 1, ReviewState.ACCEPTED: 2}
