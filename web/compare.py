"""The history page's 「版を比べる」: two versions of a sheet and their readable diff (GET ?from=&to=)."""

from __future__ import annotations

from typing import Any

from coach.repository import SheetNotFound, SheetRepository, StoredSheet
from coach.workspace.diff import diff


def compared(repo: SheetRepository, stored: StoredSheet, old: int | None, new: int | None) -> dict[str, Any]:
    """Template values: the versions compared, the diff, or a Japanese reason when a version is missing.
    Without parameters: the previous version against the latest (nothing to compare for a first version)."""
    new_v = new or stored.version
    old_v = old or max(1, new_v - 1)
    empty = {"old_v": old_v, "new_v": new_v, "changes": [], "compare_error": ""}
    if old is None and new is None and stored.version == 1:
        return empty
    try:
        changes = diff(repo.version(stored.id, stored.organisation_id, old_v),
                       repo.version(stored.id, stored.organisation_id, new_v))
    except SheetNotFound:
        return {**empty, "compare_error": f"このシートは第1版〜第{stored.version}版です。その範囲の版を選んでください。"}
    return {**empty, "changes": changes}
