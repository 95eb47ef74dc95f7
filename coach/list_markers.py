"""List markers people type in a spreadsheet cell (「1.」「・」「①」「(1)」「1)」「■」「-」), taken off.

The editor numbers the items of 問題 and 課題 itself, so an item that keeps its own 「1.」 shows two
numberings. Only a marker at the very start of an item is taken off, and only when it is a marker:
a number that is content stays (「3月に…」「1.5倍」「10分」「-5%」「1、2回目」), as does a sign that is
not followed by text of its own (「・・・と言われる」).
"""

from __future__ import annotations

import re

_DIGITS = "0-9０-９"
_BULLETS = "・･•●○◎◯■□◆◇▲△▼▽▶▷★☆＊*"
_DASHES = r"\-－‐–—―−"
_CIRCLED = "①-⑳㉑-㉟㊱-㊿❶-❿➀-➉⑴-⒇⒈-⒛"
_MARKER = re.compile(
    rf"""^\s*(?:
        [{_BULLETS}](?![{_BULLETS}])             # ・ ■ ● … (but not 「・・・」, an ellipsis)
      | [{_DASHES}](?![{_DIGITS}{_DASHES}])     # - － … (but not 「-5%」 or 「--」)
      | [{_CIRCLED}]                            # ① ⑴ ⒈ …
      | [(（]\s*[{_DIGITS}]{{1,3}}\s*[)）]      # (1) （２）
      | [{_DIGITS}]{{1,3}}\s*[)）]              # 1) 3）
      | [{_DIGITS}]{{1,3}}[.．](?![{_DIGITS}])  # 1. １． (but not 「1.5倍」「3.11」)
    )\s*""",
    re.VERBOSE,
)


def strip_marker(item: str) -> str:
    """The item without one leading list marker and the space after it; anything else unchanged."""
    found = _MARKER.match(item)
    return item[found.end():] if found else item


def items_of(cell: str) -> list[str]:
    """A list cell (one item per line) as items: trimmed, markers taken off, empty lines dropped."""
    items = (strip_marker(line.strip()).strip() for line in cell.split("\n"))
    return [item for item in items if item]
