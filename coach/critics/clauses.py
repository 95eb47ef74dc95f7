"""Clauses of a sentence: the span of a long sentence that shows a defect.

Officials write one sentence of 150 characters joined by 〜し、〜て、〜ため、. A finding's evidence
should be the clause that holds the defect (the one naming the means), not the whole sentence,
so that 「欄外メモへ移す」 moves only that clause and leaves the rest of the author's sentence.
"""

from __future__ import annotations

import re

from coach.text import Span, Token, normalize, tokenize

_COMMA = ("、", ",", "，")
_CONJUNCTIVE_NOUNS = ("ため", "上", "うえ", "一方", "際", "中", "結果")
_MIN_CLAUSE = 4


def _ends_clause(prev: Token, before: Token | None) -> bool:
    """Does a comma after `prev` close a clause (a predicate or a conjunctive ending)?"""
    if prev.pos in ("動詞", "助動詞", "形容詞") and prev.form.startswith(("連用形", "終止形")):
        return True
    if prev.pos == "助詞" and prev.pos2 == "接続助詞":
        return True
    if prev.pos == "助詞" and prev.surface == "から" and before is not None and before.lemma == "こと":
        return True
    return prev.pos == "名詞" and prev.surface in _CONJUNCTIVE_NOUNS


def clause_bounds(norm: str) -> list[tuple[int, int]]:
    """[start, end) of each clause of a normalised sentence, the closing comma left out."""
    toks = tokenize(norm)
    bounds: list[tuple[int, int]] = []
    start = 0
    for i, t in enumerate(toks):
        if t.surface in _COMMA and i > 0 and _ends_clause(toks[i - 1], toks[i - 2] if i > 1 else None):
            bounds.append((start, t.begin))
            start = t.end
    bounds.append((start, len(norm)))
    return [(s, e) for s, e in bounds if norm[s:e].strip()]


_TRAILING = re.compile(r"[\s。．.!！?？]+$")


def clause_at(span: Span, at: int) -> str:
    """The clause of `span` holding normalised offset `at`, as the author wrote it.

    The whole sentence when it has one clause, or when the clause would be too short to stand alone.
    """
    bounds = clause_bounds(span.norm)
    if len(bounds) < 2:
        return span.original
    begin, end = next(((s, e) for s, e in bounds if s <= at < e), bounds[-1])
    _, index = normalize(span.original)
    text = span.original[index[begin]: index[end - 1] + 1]
    text = _TRAILING.sub("", text).strip(" \t\u3000")
    return text if len(text) >= _MIN_CLAUSE else span.original
