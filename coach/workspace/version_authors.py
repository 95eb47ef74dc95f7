"""Who wrote each version of a sheet, for the section's history page (issue #11 item 12).

A version records its author's account id (coach/db.py `VersionRow.author_id`); None is a program on
this machine, an import, or a version older than that column.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coach.db import VersionRow
from coach.workspace.accounts import User

UNKNOWN = "（記録なし）"


def authors(sessions: sessionmaker[Session], sheet_id: int, organisation_id: int) -> dict[int, str]:
    """Version number → the name of the person who saved it (only accounts of the sheet's town)."""
    with sessions() as s:
        rows = s.execute(select(VersionRow.number, User.name)
                         .outerjoin(User, (User.id == VersionRow.author_id) & (User.organisation_id == organisation_id))
                         .where(VersionRow.sheet_id == sheet_id))
        return {number: name or UNKNOWN for number, name in rows}
