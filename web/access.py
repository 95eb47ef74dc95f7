"""Loading a sheet for someone: what they may not read does not exist; what they may not edit says why."""

from __future__ import annotations

from coach.repository import SheetHead, SheetNotFound, SheetRepository, StoredSheet
from coach.sheet import Sheet
from coach.workspace.accounts import Account
from coach.workspace.permissions import Owned, can_edit, can_read, can_see_history
from coach.workspace.submission import Submissions, check_editable
from web.auth import Forbidden


def readable(repo: SheetRepository, who: Account, sheet_id: int) -> StoredSheet:
    stored = repo.get(sheet_id, who.organisation_id)
    _may_read(who, stored, sheet_id)
    return stored


def editable(repo: SheetRepository, who: Account, sheet_id: int) -> StoredSheet:
    stored = readable(repo, who, sheet_id)
    _may_edit(who, stored)
    return stored


def editable_head(repo: SheetRepository, who: Account, sheet_id: int) -> SheetHead:
    """`editable` without the sheet's text: for a request that brings the text itself (the editor's form)."""
    head = repo.head(sheet_id, who.organisation_id)
    _may_read(who, head, sheet_id)
    _may_edit(who, head)
    return head


def writable(submissions: Submissions, who: Account, sheet_id: int) -> SheetHead:
    """Editable, and not frozen by the review cycle (an accepted sheet answers 409 with the reason).
    Reads only the sheet's head (no text): every keystroke pause of the editor passes here."""
    head, state = submissions.head_and_state(sheet_id, who.organisation_id)
    _may_read(who, head, sheet_id)
    _may_edit(who, head)
    check_editable(state)
    return head


def _may_read(who: Account, sheet: Owned, sheet_id: int) -> None:
    if not can_read(who, sheet):  # what they may not read does not exist
        raise SheetNotFound(str(sheet_id))


def _may_edit(who: Account, sheet: Owned) -> None:
    if not can_edit(who, sheet):
        if who.is_dx:
            raise Forbidden("DX推進チームはシートを書き換えません。レビュー画面からコメントで伝えてください。")
        raise Forbidden(f"このシートは{sheet.section}のものです。編集できるのは{sheet.section}の職員です。")


def with_history(repo: SheetRepository, who: Account, sheet_id: int) -> StoredSheet:
    stored = readable(repo, who, sheet_id)
    if not can_see_history(who, stored):
        raise Forbidden("版の履歴を見られるのは、その係の職員と DX推進チームです。")
    return stored


def own_section(sheet: Sheet, who: Account) -> Sheet:
    """Section staff write for their own section, whatever the form said."""
    if who.role == "staff" and who.section and sheet.section != who.section:
        return sheet.model_copy(update={"section": who.section})
    return sheet
