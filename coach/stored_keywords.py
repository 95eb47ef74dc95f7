"""The keyword map's words of a saved version, stored with it (issue #10): the overview reads them and
never runs Sudachi over every sheet on a request.

The map counts, for each word, the sheets that use it (document frequency), and links two words by
the sheets they share; so what a version needs to keep is the set of its nouns as the map counts them
(each counted once per version), stored as a sorted JSON list with KEYWORDS_VERSION. KEYWORDS_VERSION
is a hash of this module's source (the stop words and the noun filter), of the text analysis and of the
Sudachi dictionary's version: changing any of them changes it, and a version whose words carry another
KEYWORDS_VERSION (or none: older than the columns) is recomputed and stored again the next time the
overview reads it (`of_sheets`). Every path that writes a version stores them
(`coach/repository.py`, next to the rule findings). Nothing has to be bumped by hand.

Importing this module stays light: Sudachi (coach/text.py) is imported on the first extraction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from coach.db import SheetRow, VersionRow
from coach.sheet import Sheet
from coach.stored_findings import source_version

if TYPE_CHECKING:
    from coach.repository import StoredSheet

# Words every sheet uses; they would sit in the middle of the map and say nothing.
STOP = {"こと", "もの", "ため", "よう", "状態", "現在", "現状", "場合", "必要", "作業", "業務", "対応", "時間", "担当",
        "職員", "住民", "確認", "方法", "以上", "程度", "可能", "全体", "内容", "自分", "理想", "問題", "課題", "一つ",
        "毎回", "毎年", "毎月", "件数", "場所", "手続き", "手続", "何度", "回数", "項目", "関係", "平均",
        "とき", "ところ", "ほか", "以外", "以内", "前日", "当日", "一部", "自体"}

KEYWORDS_VERSION = source_version(("stored_keywords.py", "text.py"))

Words = frozenset[str]
_CHUNK = 1000  # version ids per IN (…) when many versions are recomputed at once


def nouns(text: str) -> set[str]:
    """The map's words in `text`: common and proper nouns as written, two characters or more, no stop word."""
    from coach.text import normalize, tokenize

    norm, _ = normalize(text)
    out = set()
    for t in tokenize(norm):
        if (t.pos == "名詞" and t.pos2 in ("普通名詞", "固有名詞") and t.pos3 not in ("副詞可能", "助数詞可能")
                and len(t.surface) >= 2 and t.surface not in STOP):
            if not t.surface.isascii() or t.surface.isalpha():
                out.add(t.surface)
    return out


def keyword_text(sheet: Sheet) -> str:
    """The text the map reads from a sheet (everything but the title and the margin)."""
    return "\n".join(_map_fields(sheet))


def _map_fields(sheet: Sheet) -> list[str]:
    return [sheet.asis, sheet.tobe, sheet.purpose, *sheet.problems, *sheet.tasks]


@lru_cache(maxsize=1024)
def _words_of(text: str) -> Words:
    return frozenset(nouns(text))


def words(sheet: Sheet) -> Words:
    """The map's words of a sheet: the union of each field's (and row's) nouns. Every path that needs a
    sheet's words comes here, so what is stored is what a page would compute. Each field's words are
    remembered: a typing pause changes one field, so only that one is analysed again, and a save
    computes them before its transaction (storing them inside it, `store`, runs no Sudachi under the
    sheet's lock)."""
    return frozenset().union(*(_words_of(text) for text in _map_fields(sheet) if text))


def encode(found: Words) -> str:
    return json.dumps(sorted(found), ensure_ascii=False)


def decode(text: str) -> Words:
    return frozenset(json.loads(text))


def store(version: VersionRow, sheet: Sheet) -> None:
    """Inside a write transaction: the version's words, stored with the extractor's version."""
    version.keywords = encode(words(sheet))
    version.keywords_version = KEYWORDS_VERSION


def of_sheets(sessions: sessionmaker[Session], organisation_id: int, sheets: Sequence[StoredSheet]) -> dict[int, Words]:
    """The words of each sheet's latest version: one query when they are stored and current. Versions
    without them (or of another KEYWORDS_VERSION) are extracted from their content and stored, unless the
    version changed meanwhile (an autosave folded into it stored its own)."""
    wanted = {s.id for s in sheets}
    latest = (select(VersionRow.id, VersionRow.sheet_id, VersionRow.keywords, VersionRow.keywords_version)
              .join(SheetRow, (SheetRow.id == VersionRow.sheet_id) & (SheetRow.version == VersionRow.number))
              .where(SheetRow.organisation_id == organisation_id))
    out: dict[int, Words] = {}
    stale: list[int] = []
    with sessions() as s:
        for vid, sheet_id, stored, extractor in s.execute(latest):
            if sheet_id not in wanted:
                continue
            if stored is not None and extractor == KEYWORDS_VERSION:
                out[sheet_id] = decode(stored)
            else:
                stale.append(vid)
        rows = [row for start in range(0, len(stale), _CHUNK) for row in s.execute(
            select(VersionRow.id, VersionRow.sheet_id, VersionRow.content, VersionRow.updated_at)
            .where(VersionRow.id.in_(stale[start:start + _CHUNK])))]
    if rows:
        out.update(_recompute(sessions, rows))
    return out


def _recompute(sessions: sessionmaker[Session], rows: Sequence[tuple[int, int, str, object]]) -> dict[int, Words]:
    found = {sheet_id: words(Sheet.model_validate_json(content))
             for _, sheet_id, content, _ in rows}
    table = cast(Table, VersionRow.__table__)
    stmt = (update(table).where(table.c.id == bindparam("vid"), table.c.updated_at == bindparam("stamp"))
            .values(keywords=bindparam("found"), keywords_version=KEYWORDS_VERSION))
    with sessions.begin() as s:
        s.connection().execute(stmt, [{"vid": vid, "stamp": stamp, "found": encode(found[sheet_id])}
                                      for vid, sheet_id, _, stamp in rows])
    return found
