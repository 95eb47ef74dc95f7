"""Issue #10: every saved version stores the keyword map's words with the extractor's version; the
overview reads them (no Sudachi per sheet), and words of another extractor version (or none: a version
older than the columns) are extracted again and stored the first time they are read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from coach import stored_keywords
from coach.db import VersionRow, init_db, make_engine
from coach.repository import SheetRepository
from coach.sheet import Sheet
from coach.workspace.keywords import keyword_map_of, using
from tests.conftest import make_sheet

SAMPLES = Path(__file__).resolve().parents[1] / "coach" / "samples" / "sheets.jsonl"


@pytest.fixture
def repo(database_url: str) -> SheetRepository:
    return SheetRepository(init_db(make_engine(database_url)))


def rows_of(repo: SheetRepository, sheet_id: int) -> list[VersionRow]:
    with repo.sessions() as s:
        return list(s.scalars(select(VersionRow).where(VersionRow.sheet_id == sheet_id).order_by(VersionRow.number)))


def direct(sheet: Sheet) -> frozenset[str]:
    """The map's words by their definition: each field's and each row's nouns, together."""
    fields = [sheet.asis, sheet.tobe, sheet.purpose, *sheet.problems, *sheet.tasks]
    return frozenset(word for text in fields for word in stored_keywords.nouns(text))


def samples() -> list[Sheet]:
    return [Sheet.model_validate(json.loads(line)) for line in SAMPLES.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def test_every_save_path_stores_the_words_of_its_content(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    created = repo.create(org, make_sheet(asis="紙の申請書を台帳に写している。"))
    repo.save(created.id, org, make_sheet(asis="申告書を台帳に入れ直している。"))
    repo.autosave(created.id, org, make_sheet(asis="道路の穴を見回りで探している。"), author_id=1)
    folded = repo.autosave(created.id, org, make_sheet(asis="道路の穴を地図で探している。"), author_id=1)
    repo.restore(created.id, org, 1)
    rows = rows_of(repo, created.id)
    assert [r.kind for r in rows] == ["create", "save", "autosave", "restore"]
    for r in rows:
        assert r.keywords_version == stored_keywords.KEYWORDS_VERSION
        assert stored_keywords.decode(r.keywords or "[]") == direct(Sheet.model_validate_json(r.content)), r.kind
    assert "地図" in stored_keywords.decode(rows[2].keywords or "[]")  # the folded autosave: its own content
    assert stored_keywords.decode(rows[3].keywords or "[]") == direct(created.sheet) != direct(folded.sheet)
    imported = repo.upsert_external(org, "X-1", make_sheet(asis="窓口で住民票の請求書を受け取る。"))
    assert stored_keywords.decode(rows_of(repo, imported.id)[0].keywords or "[]") == direct(imported.sheet)


def test_the_map_from_stored_words_is_the_map_from_the_texts(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    sheets = samples()
    stored = [repo.create(org, s, status="submitted") for s in sheets]
    words = stored_keywords.of_sheets(repo.sessions, org, stored)
    assert set(words) == {s.id for s in stored}
    expected = keyword_map_of([direct(s) for s in sheets])
    assert expected[0]  # the samples share words: the map is not empty
    assert keyword_map_of([words[s.id] for s in stored]) == expected
    word = expected[0][0].word
    assert using(word, stored, words) == [s for s in stored if word in direct(s.sheet)]


def test_words_of_another_extractor_version_are_extracted_again_and_stored(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("サンプル町")
    first = repo.create(org, make_sheet(asis="紙の申請書を台帳に写している。"))
    second = repo.create(org, make_sheet(title="別の案件", asis="道路の穴を地図で探している。"))
    other_town = repo.ensure_organisation("となり町")
    theirs = repo.create(other_town, make_sheet(asis="台帳を紙で持っている。"))
    with repo.sessions.begin() as s:  # as if the extractor had changed, or the versions were older than it
        s.execute(update(VersionRow).where(VersionRow.sheet_id == first.id)
                  .values(keywords='["古い言葉"]', keywords_version="older"))
        s.execute(update(VersionRow).where(VersionRow.sheet_id != first.id)
                  .values(keywords=None, keywords_version=None))
    listed = repo.list(org)
    assert stored_keywords.of_sheets(repo.sessions, org, listed) == {first.id: direct(first.sheet),
                                                                    second.id: direct(second.sheet)}
    for sheet_id in (first.id, second.id):
        row = rows_of(repo, sheet_id)[-1]
        assert row.keywords_version == stored_keywords.KEYWORDS_VERSION
        assert "古い言葉" not in (row.keywords or "")
    assert rows_of(repo, theirs.id)[-1].keywords is None  # another organisation's sheets are not read
    # Stored now: the next read is the stored words (shown by changing them behind its back).
    with repo.sessions.begin() as s:
        s.execute(update(VersionRow).where(VersionRow.sheet_id == second.id).values(keywords='["保存された言葉"]'))
    assert stored_keywords.of_sheets(repo.sessions, org, listed)[second.id] == {"保存された言葉"}


def test_the_extractor_version_follows_its_sources() -> None:
    from coach.stored_findings import source_version

    assert stored_keywords.KEYWORDS_VERSION == source_version(("stored_keywords.py", "text.py"))
    assert len(stored_keywords.KEYWORDS_VERSION) == 16
    assert source_version(("stored_keywords.py",)) != source_version(("text.py",))



def test_a_typing_pause_analyses_only_the_field_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    analysed: list[str] = []
    real = stored_keywords.nouns

    def counted(text: str) -> set[str]:
        analysed.append(text)
        return real(text)

    monkeypatch.setattr(stored_keywords, "nouns", counted)
    stored_keywords._words_of.cache_clear()
    before = make_sheet(asis="紙の申請書を台帳に写している。", tobe="申請がそのまま台帳に入る。")
    stored_keywords.words(before)
    analysed.clear()
    after = before.model_copy(update={"asis": before.asis + "月末に窓口が混む。"})
    found = stored_keywords.words(after)
    assert analysed == [after.asis]
    assert found == direct(after)
