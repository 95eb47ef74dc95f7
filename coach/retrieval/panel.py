"""The editor's 「似ているシート」 panel: other sections' sheets first, the own section's older sheets
apart, nothing for a sheet with too little text, and nothing below a score that means nothing.

MIN_SCORE is calibrated on evals/retrieval.jsonl (`python -m evals.compare_retrieval --calibrate`):
below it, a match is about as likely to share the problem as any sheet picked at random.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from coach.retrieval.service import Match, SimilarService
from coach.sheet import Sheet
from coach.workspace.accounts import Account

MIN_SCORE = 0.20  # see the README: "The panel" (0.25 with the version 2 lexicon)
MIN_CHARS = 20  # characters of AsIs and problems (spaces not counted) before the panel searches
OTHERS, OWN = 5, 2  # how many of each the panel shows
DEPTH = 20  # hits read from the index to fill both lists


@dataclass
class Panel:
    others: list[Match] = field(default_factory=list)  # other sections' submitted sheets
    own: list[Match] = field(default_factory=list)  # the viewer's own section's other sheets
    too_short: bool = False  # not enough text yet to look for anything
    unavailable: str = ""  # a Japanese notice when the index cannot answer


def problem_chars(sheet: Sheet) -> int:
    """How much the sheet says about its problem: characters of AsIs and the problem rows."""
    text = unicodedata.normalize("NFKC", "".join([sheet.asis, *sheet.problems]))
    return sum(1 for ch in text if not ch.isspace())


def build_panel(service: SimilarService, who: Account, sheet: Sheet, section: str, exclude_ref: str | None,
                sheet_id: int | None = None) -> Panel:
    """`who` decides what may be shown (permissions.visible); `section` is the sheet's own section;
    `sheet_id` lets the DX team's links rank linked sheets up."""
    if problem_chars(sheet) < MIN_CHARS:
        return Panel(too_short=True)
    result = service.similar(who, sheet, k=DEPTH, exclude_ref=exclude_ref, sheet_id=sheet_id)
    if result.unavailable:
        return Panel(unavailable=result.unavailable)
    meaningful = [m for m in result.matches if m.hit.score >= MIN_SCORE]
    return Panel(others=[m for m in meaningful if m.hit.section != section][:OTHERS],
                 own=[m for m in meaningful if m.hit.section == section][:OWN])
