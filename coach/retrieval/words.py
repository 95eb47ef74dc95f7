"""The words two sheets share, shown as each sheet writes them.

Matched on Sudachi's normalised form (ヶ月, か月 and 箇月 are one word) but shown in the surface
form the sheets use; nouns only, since a verb's surface is a conjugated fragment (かかっ).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from coach.critics.analysis import is_content
from coach.text import normalize, tokenize


@lru_cache(maxsize=512)
def _nouns(text: str) -> Mapping[str, tuple[str, ...]]:
    """Normalised form → the surface forms the text uses for it, in order of appearance. Cached: the
    panel explains the same query against five hits on every refresh, and the hits recur (read only)."""
    out: dict[str, list[str]] = {}
    for t in tokenize(normalize(text)[0]):
        if t.pos == "名詞" and is_content(t) and t.pos3 != "助数詞可能" and len(t.surface) >= 2:
            surfaces = out.setdefault(t.norm, [])
            if t.surface not in surfaces:
                surfaces.append(t.surface)
    return MappingProxyType({norm: tuple(surfaces) for norm, surfaces in out.items()})


def shared_words(query_text: str, hit_text: str, limit: int = 4) -> list[str]:
    """Nouns in both texts, longest first: the common writing, or 「other sheet's／this sheet's」."""
    mine = _nouns(query_text)
    shown: list[str] = []
    for norm, theirs in _nouns(hit_text).items():
        if norm not in mine:
            continue
        common = [s for s in theirs if s in mine[norm]]
        shown.append(common[0] if common else f"{theirs[0]}／{mine[norm][0]}")
    shown.sort(key=len, reverse=True)
    return shown[:limit]
