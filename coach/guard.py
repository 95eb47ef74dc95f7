"""The guard of contract §4: no critic's output may propose or name a tool the author did not write.

Applied to every critic's findings (rules now, the LLM coach later). A finding is rejected when
- its message or question names a tool/technology outside a 「quote」 (the coach speaking), or
- a quote in it names a tool that is not the author's own words, or
- it proposes adopting something (導入しましょう, おすすめ …), or
- its evidence is not a verbatim substring of the field it points at, or its item does not exist, or
- its code cannot point at that field (TOBE_MIRRORS_ASIS on asis …).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from coach import quotes
from coach.critics.analysis import GUARD_RE
from coach.findings import FIELDS_OF, Finding
from coach.sheet import Sheet
from coach.text import normalize

log = logging.getLogger("coach.guard")

_PROPOSAL = re.compile(
    r"(導入|採用|購入|契約|活用|利用)(して|を)?(は|み)?(いかが|どう|しましょう|しては|すると|をおすすめ|を検討)"
    r"|おすすめ|お勧め|オススメ|推奨|がおすすめ|を使いましょう|を使ってみ|を入れましょう|を入れてみ|を使うと(よい|良い|いい)"
)


@dataclass
class GuardResult:
    kept: list[Finding]
    rejected: list[tuple[Finding, str]] = field(default_factory=list)


def _reason(finding: Finding, sheet: Sheet, sheet_squashed: str) -> str | None:
    if finding.code is not None and finding.field not in FIELDS_OF[finding.code]:
        return f"{finding.code} cannot point at {finding.field}"
    source = sheet.text_of(finding.field, finding.item)
    if finding.item is not None and finding.item >= len(getattr(sheet, finding.field, [])):
        return "item out of range"
    if finding.item is None and isinstance(getattr(sheet, finding.field), list) and finding.evidence:
        if not any(finding.evidence in entry for entry in getattr(sheet, finding.field)):
            return "evidence not in field"
    elif finding.evidence not in source:
        return "evidence not in field"
    for text in (finding.message, finding.question):
        talk = tool_talk(text, sheet_squashed)
        if talk:
            return talk
        if _read(text).proposes:
            return "proposes adopting something"
    return None


@dataclass(frozen=True)
class _Reading:
    """What the guard looks for in one text of the coach, apart from the sheet it is about."""

    named: str | None  # a tool named in the coach's own words (outside quotes)
    tool_quotes: tuple[str, ...]  # quotes that hold a tool's name: fine only when the author wrote them
    proposes: bool  # proposes adopting something


@lru_cache(maxsize=4096)
def _read(text: str) -> _Reading:
    """Read once per text: the rule critic's messages come back the same from one typing pause to the next,
    and the tool-name pattern is the guard's largest cost (read only, so sharing between threads is safe)."""
    parsed = quotes.split(normalize(text)[0])
    named = GUARD_RE.search(parsed.outside)
    return _Reading(named.group(0) if named else None, tuple(q for q in parsed.quotes if GUARD_RE.search(q)),
                    bool(_PROPOSAL.search(parsed.outside)))


def sheet_key(sheet: Sheet) -> str:
    """The sheet as quotes are compared against it: NFKC, without whitespace or quotation marks."""
    return quotes.squash(normalize(sheet.all_text())[0])


def tool_talk(text: str, sheet_squashed: str) -> str | None:
    """Why `text` leaks a tool: named in the coach's own words (outside 「quotes」), or quoted
    although the author never wrote it. None when it does not. Used by the guard and the evals.

    `sheet_squashed` is `sheet_key(sheet)`. A quote may be truncated with 「…」 and may hold the
    author's own 「」: it is the author's when every piece between truncation marks is in the sheet.
    """
    reading = _read(text)
    if reading.named:
        return f"names a tool: {reading.named}"
    for quoted in reading.tool_quotes:
        if not quotes.grounded(quoted, sheet_squashed):
            return "quotes a tool the author did not write"
    return None


def guard(findings: list[Finding], sheet: Sheet, source: str = "") -> GuardResult:
    """Keep the findings that pass. `source` "rules" marks the rule critic's own findings: one
    rejected is a bug in the rules or the guard (never normal), so it is logged as an error."""
    key = sheet_key(sheet)
    result = GuardResult(kept=[])
    for f in findings:
        reason = _reason(f, sheet, key)
        if reason is None:
            result.kept.append(f)
            continue
        result.rejected.append((f, reason))
        if source == "rules":
            log.error("BUG: guard rejected the rules' own %s finding on %s[%s]: %s (evidence %r)",
                      f.code, f.field, f.item, reason, f.evidence[:80])
        else:
            log.warning("guard rejected a %s finding on %s: %s", f.code, f.field, reason)
    return result
