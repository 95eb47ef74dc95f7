"""Who may do what. Pure functions of an account and a sheet, so every rule has a plain test.

- section staff edit their own section's sheets and read other sections' submitted sheets;
- the DX team reads and reviews everything and manages sections and accounts, but does not
  write a section's sheet for it;
- `local` is the unauthenticated JSON API from this machine (contract §6): a program, not a person.
"""

from __future__ import annotations

from collections.abc import Iterable

from coach.accounts import Account
from coach.repository import StoredSheet


def can_read(who: Account, sheet: StoredSheet) -> bool:
    if who.organisation_id != sheet.organisation_id:
        return False
    return who.role in ("dx", "local") or sheet.section == who.section or sheet.status == "submitted"


def visible(who: Account, sheets: Iterable[StoredSheet]) -> list[StoredSheet]:
    """The sheets `who` may read, in their order. Every list, search hit, chart and export of sheets
    goes through here, so what a page or the API shows never differs from what `can_read` allows."""
    return [s for s in sheets if can_read(who, s)]


def can_edit(who: Account, sheet: StoredSheet) -> bool:
    if who.organisation_id != sheet.organisation_id:
        return False
    return who.role == "local" or (who.role == "staff" and sheet.section == who.section)


def can_see_history(who: Account, sheet: StoredSheet) -> bool:
    """Earlier versions may hold drafts: they stay with the section that writes them and the DX team."""
    return can_edit(who, sheet) or (who.role == "dx" and who.organisation_id == sheet.organisation_id)


def can_create_in(who: Account, section: str) -> bool:
    return who.role == "local" or (who.role == "staff" and section.strip() == who.section)


def can_review(who: Account) -> bool:
    return who.role == "dx"


def can_manage(who: Account) -> bool:
    return who.role == "dx"
