"""Whether a sheet waiting for review came back from a return (再提出), and which version was returned.

The one rule, read from the audit log: the sheet's latest decision (差し戻し, 受理, or the start of a
revision) is a return. The notices (coach/workspace/notices.py) and the queue both ask here.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.workspace.review import AuditRow

DECISIONS = ("return", "accept", "revise")


def returned_version(s: Session, sheet_id: int) -> int | None:
    """The version the DX team returned, when the sheet's latest decision is a return; else None."""
    with s.no_autoflush:  # only what is already written: not an audit row the caller is adding now
        row = s.execute(select(AuditRow.action, AuditRow.detail)
                        .where(AuditRow.sheet_id == sheet_id, AuditRow.action.in_(DECISIONS))
                        .order_by(AuditRow.id.desc()).limit(1)).first()
    return _version(row.action, row.detail) if row else None


def returned_versions(s: Session, organisation_id: int) -> dict[int, int]:
    """sheet id -> returned version, for every sheet of the town whose latest decision is a return."""
    latest = (select(func.max(AuditRow.id)).where(AuditRow.organisation_id == organisation_id,
                                                  AuditRow.action.in_(DECISIONS))
              .group_by(AuditRow.sheet_id).scalar_subquery())
    rows = s.execute(select(AuditRow.sheet_id, AuditRow.action, AuditRow.detail).where(AuditRow.id.in_(latest)))
    out = {}
    for sheet_id, action, detail in rows:
        version = _version(action, detail)
        if sheet_id is not None and version is not None:
            out[sheet_id] = version
    return out


def _version(action: str, detail: str) -> int | None:
    if action != "return":
        return None
    version = json.loads(detail or "{}").get("version")
    return version if isinstance(version, int) else None
