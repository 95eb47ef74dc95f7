"""Issue #11 item 9: stored text as the cleaning rule writes it — CR LF and lone CR become LF, and
the control characters coach/cleaning.py removes are removed — in every stored version and sheet
title, so a version written before the rule compares equal to the same text typed today.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from coach.cleaning import clean_text

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BATCH = 500


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def clean_content(content: str) -> str | None:
    """The version's JSON with clean text, or None when it is clean already (or not a JSON object)."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    cleaned = _clean(data)
    return json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")) if cleaned != data else None


def upgrade() -> None:
    conn = op.get_bind()
    versions = sa.table("sheet_versions", sa.column("id", sa.Integer), sa.column("content", sa.Text))
    sheets = sa.table("sheets", sa.column("id", sa.Integer), sa.column("title", sa.String))
    last = 0
    while True:  # in batches of ids, so a large history is not held in memory at once
        rows = conn.execute(sa.select(versions.c.id, versions.c.content).where(versions.c.id > last)
                            .order_by(versions.c.id).limit(BATCH)).all()
        if not rows:
            break
        for vid, content in rows:
            cleaned = clean_content(content)
            if cleaned is not None:
                conn.execute(versions.update().where(versions.c.id == vid).values(content=cleaned))
        last = rows[-1][0]
    for sid, title in conn.execute(sa.select(sheets.c.id, sheets.c.title)).all():
        if clean_text(title) != title:
            conn.execute(sheets.update().where(sheets.c.id == sid).values(title=clean_text(title)))


def downgrade() -> None:
    """Nothing to undo: the removed CRs and control characters carried no meaning."""
