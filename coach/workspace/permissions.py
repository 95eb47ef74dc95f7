"""Who may do what. Pure functions of an account and a sheet, so every rule has a plain test.

- section staff edit their own section's sheets and read other sections' submitted sheets;
- the DX team reads and reviews everything and manages sections and accounts, but does not
  write a section's sheet for it;
- `local` is the unauthenticated JSON API from this machine (contract §6): a program, not a person;
- `token` is a program with an API token (coach/workspace/tokens.py). Its reach is one section (then it reads
  and writes like that section's staff: its own sheets, and other sections' sheets once submitted)
  or the whole town (`section` None: reads everything like the DX team and, with the write scope,
  creates and updates the sheets of any section, as a town-wide import program must). A read-scope
  token never writes. It never reviews or manages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from coach.status import SheetStatus
from coach.workspace.accounts import Account


class Owned(Protocol):
    """What the rules look at of a sheet: a stored sheet with its text, or only its head (SheetHead)."""

    @property
    def organisation_id(self) -> int: ...

    @property
    def section(self) -> str: ...

    @property
    def status(self) -> str: ...


S = TypeVar("S", bound=Owned)


def _town_token(who: Account) -> bool:
    return who.role == "token" and who.section is None


def _writes(who: Account) -> bool:
    return who.role != "token" or who.scope == "write"


def can_read(who: Account, sheet: Owned) -> bool:
    if who.organisation_id != sheet.organisation_id:
        return False
    if who.role in ("dx", "local") or _town_token(who):
        return True
    return sheet.section == who.section or sheet.status == SheetStatus.SUBMITTED


def visible(who: Account, sheets: Iterable[S]) -> list[S]:
    """The sheets `who` may read, in their order. Every list, search hit, chart and export of sheets
    goes through here, so what a page or the API shows never differs from what `can_read` allows."""
    return [s for s in sheets if can_read(who, s)]


def can_edit(who: Account, sheet: Owned) -> bool:
    if who.organisation_id != sheet.organisation_id or not _writes(who):
        return False
    if who.role == "local" or _town_token(who):
        return True
    return who.role in ("staff", "token") and sheet.section == who.section


def can_see_history(who: Account, sheet: Owned) -> bool:
    """Earlier versions may hold drafts: they stay with the section that writes them and the DX team."""
    if who.organisation_id != sheet.organisation_id:
        return False
    if who.role == "token":  # a read-scope token sees what a writer of its reach would
        return _town_token(who) or sheet.section == who.section
    return can_edit(who, sheet) or who.role == "dx"


def can_create_in(who: Account, section: str) -> bool:
    if not _writes(who):
        return False
    if who.role == "local" or _town_token(who):
        return True
    return who.role in ("staff", "token") and section.strip() == who.section


def can_import_over(who: Account, sheet: Owned) -> bool:
    """An import (the DX team's) updates a sheet only once its section has submitted it: never a draft."""
    return can_review(who) and who.organisation_id == sheet.organisation_id and sheet.status == SheetStatus.SUBMITTED


def can_review(who: Account) -> bool:
    return who.role == "dx"


def can_manage(who: Account) -> bool:
    return who.role == "dx"
