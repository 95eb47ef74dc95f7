"""Issue #10: every saved version stores its rule findings with the rules' version; a version whose
findings carry another rules' version (or none: older than the columns) is recomputed when read."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from coach import stored_findings
from coach.db import VersionRow, init_db, make_engine
from coach.repository import SheetRepository, StoredSheet
from coach.service import CritiqueService
from tests.conftest import make_sheet


@pytest.fixture
def repo(database_url: str) -> SheetRepository:
    return SheetRepository(init_db(make_engine(database_url)))


def stored_rows(repo: SheetRepository, sheet_id: int) -> list[VersionRow]:
    with repo._sessions() as s:  # noqa: SLF001 — the test reads the table itself
        return list(s.scalars(select(VersionRow).where(VersionRow.sheet_id == sheet_id).order_by(VersionRow.number)))


def expected(stored: StoredSheet) -> list[tuple[str | None, str, int | None]]:
    return [f.key() for f in CritiqueService().critique(stored.sheet).findings]


def test_every_save_path_stores_the_findings_of_its_content(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    created = repo.create(org, make_sheet(tobe=""))
    saved = repo.save(created.id, org, make_sheet())
    autosaved = repo.autosave(created.id, org, make_sheet(purpose=""), author_id=1)
    folded = repo.autosave(created.id, org, make_sheet(purpose="", tasks=["窓口を回る"]), author_id=1)
    restored = repo.restore(created.id, org, 1)
    imported = repo.upsert_external(org, "X-1", make_sheet(asis=""))
    for stored in (created, saved, autosaved, folded, restored, imported):
        assert [f.key() for f in stored.findings] == expected(stored)
    rows = stored_rows(repo, created.id)
    assert [r.kind for r in rows] == ["create", "save", "autosave", "restore"]
    assert all(r.rules_version == stored_findings.RULES_VERSION for r in rows)
    by_number = {r.number: [f.key() for f in stored_findings.decode(r.findings or "[]")] for r in rows}
    assert by_number[3] == expected(folded)  # the folded autosave stored its own content's findings
    assert by_number[1] == by_number[4] == expected(created)
    assert repo.get(created.id, org).findings == restored.findings
    assert any(f.code == "FIELD_EMPTY" for f in created.findings)


def test_findings_of_another_rules_version_are_recomputed_and_stored(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    stored = repo.create(org, make_sheet(tobe=""))
    other = repo.create(org, make_sheet(title="別の案件"))
    with repo._sessions.begin() as s:  # noqa: SLF001 — as if the rules had changed since they were saved
        s.execute(update(VersionRow).values(findings="[]", rules_version="older-rules"))
    listed = {s.id: s for s in repo.list(org)}
    assert [f.key() for f in listed[stored.id].findings] == expected(stored)
    assert [f.key() for f in listed[other.id].findings] == expected(other)
    rows = stored_rows(repo, stored.id) + stored_rows(repo, other.id)
    assert {r.rules_version for r in rows} == {stored_findings.RULES_VERSION}
    assert [f.key() for f in stored_findings.decode(rows[0].findings or "[]")] == expected(stored)


def test_the_rules_version_follows_the_rule_sources() -> None:
    assert stored_findings.RULES_VERSION == stored_findings._rules_version()  # noqa: SLF001
    assert len(stored_findings.RULES_VERSION) == 16
    sources = {p.name for pattern in stored_findings.RULE_SOURCES
               for p in stored_findings._COACH.glob(pattern)}  # noqa: SLF001
    assert {"rules.py", "lexicon.py", "guard.py", "findings.py"} <= sources


def test_decoding_gives_back_the_findings_that_were_encoded() -> None:
    sheet = make_sheet(tobe="", purpose="効率化のため", problems=["窓口が混む", ""])
    found = CritiqueService().critique(sheet).findings
    assert len(found) >= 2
    decoded = stored_findings.decode(stored_findings.encode(found))
    assert decoded == tuple(found)
    assert [f.model_dump() for f in decoded] == [f.model_dump() for f in found]
    assert [f.key() for f in decoded] == [f.key() for f in found]
