"""A keyword map of all sheets, like the one the town drew by hand with a text-mining tool:
frequent nouns, linked when they appear in the same sheets (Jaccard), laid out by a small
deterministic force layout so the picture does not move between page loads."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Protocol, TypeVar

import numpy as np

from coach.sheet import Sheet
from coach.stored_keywords import STOP, Words, keyword_text, nouns
from coach.stored_keywords import words as words_of

__all__ = ["STOP", "Edge", "Node", "keyword_map", "keyword_map_of", "keyword_text", "nouns", "using"]


class _HasSheet(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def sheet(self) -> Sheet: ...


_S = TypeVar("_S", bound=_HasSheet)


@dataclass(frozen=True)
class Node:
    word: str
    count: int  # sheets it appears in
    x: float  # 0..1
    y: float


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    weight: float  # Jaccard of the sheets the two words appear in


def using(word: str, sheets: list[_S], words: dict[int, Words]) -> list[_S]:
    """The sheets whose map text uses `word` as the map counts it (a noun, as written); `words`: each
    sheet's words by id (coach/stored_keywords.py), the sheets without an entry are read directly."""
    return [s for s in sheets if word in (words[s.id] if s.id in words else words_of(s.sheet))]


def keyword_map(texts: list[str], top: int = 28, max_edges: int = 40, seed: int = 7) -> tuple[list[Node], list[Edge]]:
    """The map of these texts, their words extracted here (Sudachi): for a few texts and tests."""
    return keyword_map_of([frozenset(nouns(t)) for t in texts], top, max_edges, seed)


def keyword_map_of(docs: list[Words], top: int = 28, max_edges: int = 40,
                   seed: int = 7) -> tuple[list[Node], list[Edge]]:
    """The map of documents given as their words (each sheet's stored words: no Sudachi here)."""
    df = Counter(w for d in docs for w in d)
    words = [w for w, n in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if n >= 2][:top]
    if not words:
        return [], []
    where = {w: {i for i, d in enumerate(docs) if w in d} for w in words}
    edges = []
    for a, b in combinations(words, 2):
        inter = len(where[a] & where[b])
        if inter >= 2:
            edges.append(Edge(a, b, inter / len(where[a] | where[b])))
    edges = sorted(edges, key=lambda e: -e.weight)[:max_edges]
    pos = _layout(words, edges, seed)
    nodes = [Node(w, df[w], float(pos[i][0]), float(pos[i][1])) for i, w in enumerate(words)]
    return nodes, edges


def _layout(words: list[str], edges: list[Edge], seed: int, steps: int = 400) -> np.ndarray:
    """Fruchterman–Reingold with a pull to the centre and a fixed seed, scaled into the unit square.
    The same words and links give the same picture: remembered for the last few maps, so a page load
    whose map did not change does no layout at all."""
    return _layout_of(tuple(words), tuple((e.a, e.b, e.weight) for e in edges), seed, steps).copy()


@lru_cache(maxsize=16)
def _layout_of(words: tuple[str, ...], edges: tuple[tuple[str, str, float], ...], seed: int,
               steps: int) -> np.ndarray:
    n = len(words)
    rng = np.random.default_rng(seed)
    pos = rng.normal(scale=0.3, size=(n, 2))
    index = {w: i for i, w in enumerate(words)}
    a = np.array([index[e[0]] for e in edges], dtype=int)
    b = np.array([index[e[1]] for e in edges], dtype=int)
    strength = np.array([0.5 + 2 * e[2] for e in edges])[:, None]
    k = 1.0 / math.sqrt(n)
    temperature = 0.2
    for _ in range(steps):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.sqrt((delta**2).sum(axis=2)) + 1e-6
        move = ((k * k / dist**2)[:, :, None] * delta).sum(axis=1)
        if len(edges):  # every link pulls its two words together, all links at once
            d = pos[a] - pos[b]
            pull = d * np.sqrt((d**2).sum(axis=1))[:, None] / k * strength
            np.subtract.at(move, a, pull)
            np.add.at(move, b, pull)
        move -= pos * 0.6  # gravity: unlinked words stay near the middle instead of flying off
        length = np.sqrt((move**2).sum(axis=1))[:, None] + 1e-9
        pos += move / length * np.minimum(length, temperature)
        temperature = max(temperature * 0.99, 0.002)
    span = pos.max(axis=0) - pos.min(axis=0)
    return (pos - pos.min(axis=0)) / np.where(span > 0, span, 1.0)  # type: ignore[no-any-return]
