"""Sheets the DX team linked as the same problem, as the editor, the read-only view and the review page show them."""

from __future__ import annotations

from dataclasses import dataclass

from coach.app import Services
from coach.repository import SheetNotFound, StoredSheet
from coach.retrieval.concepts import NAMES
from coach.workspace.accounts import Account
from coach.workspace.links import LINKED, Link
from coach.workspace.permissions import can_read


@dataclass(frozen=True)
class LinkedSheet:
    link: Link
    other: StoredSheet


def linked_sheets(services: Services, who: Account, sheet_id: int) -> list[LinkedSheet]:
    """The sheets linked to `sheet_id` that `who` may read: another section's draft is never shown."""
    out = []
    for link in services.links.of_sheet(who.organisation_id, sheet_id):
        if link.state != LINKED:
            continue
        try:
            other = services.repo.get(link.other(sheet_id), who.organisation_id)
        except SheetNotFound:
            continue
        if can_read(who, other):
            out.append(LinkedSheet(link, other))
    return out


def review_context(services: Services, who: Account, stored: StoredSheet) -> dict[str, object]:
    """What the review page needs to show the links and offer linking each similar sheet."""
    links = services.links.of_sheet(who.organisation_id, stored.id)
    labels = sorted({lk.label for lk in services.links.of_organisation(who.organisation_id) if lk.label})
    return {
        "linked": linked_sheets(services, who, stored.id),
        "link_state": {lk.other(stored.id): lk.state for lk in links},
        "label_choices": [*labels, *(n for n in NAMES if n not in labels)],
    }
