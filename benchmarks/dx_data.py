"""A prefecture's worth of sheets, written straight into the database (SQLAlchemy Core, the
product's own tables): organisations, sections, sheets with one version each, and a review row
for every submitted sheet (what the critic says, as a submit stores it). No HTTP, no per-row ORM.

The first organisation is the one the server serves (COACH_ORG_NAME); the DX account belongs to it.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection, Engine

from benchmarks.server import eval_sheets
from coach.status import ReviewState, SheetStatus

SECTIONS_PER_ORG = 40
SUBMITTED_SHARE = 0.85
STATES = (ReviewState.WAITING.value,) * 6 + (ReviewState.RETURNED.value,) * 2 + (ReviewState.ACCEPTED.value,) * 2
GENERATOR_VERSION = 1  # bump when what is written changes (the cache key holds it)


def organisation_names(first: str, count: int) -> list[str]:
    return [first] + [f"県内自治体{i:02d}" for i in range(1, count)]


def _critiques(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The critic once per distinct source text (every generated sheet reuses one of them)."""
    from coach.service import CritiqueService
    from coach.sheet import Sheet

    critic, out = CritiqueService(), []
    for row in sources:
        findings = critic.critique(Sheet.model_validate(row)).findings
        out.append({"errors": sum(f.severity == "error" for f in findings),
                    "warnings": sum(f.severity == "warning" for f in findings),
                    "findings": json.dumps([f.model_dump() for f in findings], ensure_ascii=False)})
    return out


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]], chunk: int = 2000) -> None:
    for i in range(0, len(rows), chunk):
        conn.execute(table.insert(), rows[i:i + chunk])


def generate(engine: Engine, first_org: str, orgs: int, per_org: int, seed: int = 10) -> None:
    """Write `orgs` × `per_org` sheets into an empty database at the head schema."""
    from coach.app import all_tables

    tables = all_tables().tables
    rng = random.Random(seed)
    sources = eval_sheets()
    critiques = _critiques(sources)
    start = datetime(2026, 1, 5, 9, 0)
    org_rows: list[dict[str, Any]] = []
    section_rows: list[dict[str, Any]] = []
    sheet_rows: list[dict[str, Any]] = []
    version_rows: list[dict[str, Any]] = []
    review_rows: list[dict[str, Any]] = []
    for o, name in enumerate(organisation_names(first_org, orgs), start=1):
        org_rows.append({"id": o, "name": name, "created_at": start})
        first_section = len(section_rows) + 1
        for k in range(SECTIONS_PER_ORG):
            section_rows.append({"id": first_section + k, "organisation_id": o, "name": f"第{k + 1:02d}係"})
        for j in range(per_org):
            sheet_id, src = len(sheet_rows) + 1, rng.randrange(len(sources))
            section_id = first_section + j % SECTIONS_PER_ORG
            title = f"{sources[src].get('title') or '業務'}（{j + 1}）"[:100]
            at = start + timedelta(minutes=rng.randrange(90 * 24 * 60))
            submitted = rng.random() < SUBMITTED_SHARE
            sheet = {**sources[src], "section": section_rows[section_id - 1]["name"], "title": title}
            sheet_rows.append({"id": sheet_id, "organisation_id": o, "section_id": section_id, "title": title,
                               "status": (SheetStatus.SUBMITTED if submitted else SheetStatus.DRAFT).value, "version": 1,
                               "created_at": at, "updated_at": at, "external_id": None})
            version_rows.append({"sheet_id": sheet_id, "number": 1, "kind": "create", "created_at": at,
                                 "updated_at": at, "author_id": None,
                                 "content": json.dumps(_sheet_fields(sheet), ensure_ascii=False)})
            if submitted:
                c = critiques[src]
                review_rows.append({"sheet_id": sheet_id, "state": rng.choice(STATES), "submitted_at": at,
                                    "submitted_version": 1, "hearing": rng.random() < 0.1,
                                    "flags": "errors" if c["errors"] else "", "engine": "rules", **c,
                                    "decided_at": None, "decided_by": None})
    with engine.begin() as conn:
        for name, rows in (("organisations", org_rows), ("sections", section_rows), ("sheets", sheet_rows),
                           ("sheet_versions", version_rows), ("reviews", review_rows)):
            _insert(conn, tables[name], rows)
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for name in ("organisations", "sections", "sheets"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT max(id) FROM {name}))"))


def _sheet_fields(sheet: dict[str, Any]) -> dict[str, Any]:
    from coach.sheet import Sheet

    return Sheet.model_validate(sheet).model_dump()


def sheet_count(engine: Engine) -> int:
    from coach.app import all_tables

    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(all_tables().tables["sheets"])) or 0)


def schema_matches(engine: Engine) -> bool:
    """The database is at the head revision and the models find nothing to add or change."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from coach import migrate
    from coach.app import all_tables

    if not migrate.state(engine).up_to_date:
        return False
    with engine.connect() as conn:
        return not compare_metadata(MigrationContext.configure(conn), all_tables())


def a_submitted_sheet(engine: Engine, organisation: str) -> int:
    from coach.app import all_tables

    t = all_tables().tables
    with engine.connect() as conn:
        found = conn.scalar(select(t["sheets"].c.id).join(t["organisations"])
                            .where(t["organisations"].c.name == organisation, t["sheets"].c.status == SheetStatus.SUBMITTED)
                            .order_by(t["sheets"].c.id).limit(1))
    assert found is not None, "no submitted sheet generated"
    return int(found)
