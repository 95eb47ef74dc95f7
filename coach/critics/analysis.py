"""Linguistic analysis of sheet text for the rule critic (pure functions over SudachiPy tokens)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from coach import lexicon as lx
from coach.text import Token, tokenize

_HIRAGANA_TAIL = re.compile(r"[ぁ-ゖ]+$")
_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万]+(分|時間|日|件|回|人|円|割|枚|か所|か月|週)")
_ASCII_TERM = re.compile(r"^[A-Za-z0-9\-]+$")


def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for t in sorted(terms, key=len, reverse=True):
        esc = re.escape(t)
        # Latin terms must stand alone: AI in "MAIL" or LINE in "online" is not a tool.
        parts.append(rf"(?<![A-Za-z]){esc}(?![A-Za-z])" if _ASCII_TERM.match(t) else esc)
    return re.compile("|".join(parts), re.IGNORECASE)


TOOL_RE = _term_pattern(lx.TOOL_TERMS)
DIGITISATION_RE = _term_pattern(lx.DIGITISATION)
ABSTRACT_RE = _term_pattern(lx.ABSTRACT_TERMS)
SLOGAN_RE = _term_pattern(lx.SLOGANS)
GUARD_RE = _term_pattern(lx.TOOL_TERMS + lx.DIGITISATION + lx.GUARD_EXTRA)


def stem(word: str) -> str:
    """差し戻し → 差し戻, 待ち時間 → 待ち時間: the part that survives conjugation."""
    s = _HIRAGANA_TAIL.sub("", word)
    return s if s else word


def is_content(tok: Token) -> bool:
    if tok.pos == "名詞":
        return tok.pos2 not in ("数詞", "助動詞語幹") and tok.lemma not in lx.GENERIC_NOUNS and len(tok.surface) > 0
    if tok.pos == "動詞":
        return tok.norm not in lx.GENERIC_VERBS and tok.lemma not in lx.GENERIC_VERBS
    if tok.pos in ("形容詞", "形状詞"):
        return tok.norm not in ("ない", "無い")
    return False


def content_words(text: str) -> list[str]:
    return [t.norm for t in tokenize(text) if is_content(t)]


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(text))


def has_actor(text: str) -> bool:
    toks = tokenize(text)
    for i, t in enumerate(toks):
        if t.pos == "名詞" and (t.surface in lx.ACTORS or t.lemma in lx.ACTORS):
            return True
        if t.pos == "接尾辞" and t.surface in lx.ACTOR_SUFFIXES and i > 0 and toks[i - 1].pos == "名詞":
            return True
        if t.pos == "名詞" and t.surface.endswith(lx.ACTOR_SUFFIXES) and len(t.surface) >= 2:
            return True
    return False


def has_reduction(text: str) -> bool:
    """Negation or reduction: 〜しない, 〜がなくなる, 〜が減る, 〜をなくす, 〜が少ない …"""
    for t in tokenize(text):
        if t.pos == "助動詞" and t.lemma in lx.NEGATION_AUX:
            return True
        if t.lemma in lx.REDUCTION_LEMMAS or t.norm in lx.REDUCTION_LEMMAS:
            return True
        if t.pos == "形容詞" and t.lemma in ("ない", "無い"):
            return True
    return False


def concrete_predicates(text: str) -> int:
    """Verbs/adjectives that say what someone does or what is observable (not 図る, 向上する …)."""
    toks = tokenize(text)
    count = 0
    for i, t in enumerate(toks):
        if ABSTRACT_RE.fullmatch(t.surface):
            continue
        if t.pos == "動詞" and t.lemma not in lx.GENERIC_VERBS and t.norm not in lx.GENERIC_VERBS:
            count += 1
        elif t.pos == "形容詞" and t.lemma not in ("ない", "無い", "よい", "良い"):
            count += 1
        elif (
            t.pos == "名詞"
            and t.pos2 == "普通名詞"
            and i + 1 < len(toks)
            and toks[i + 1].lemma in ("する", "できる", "出来る")
            and not ABSTRACT_RE.search(t.surface)
        ):
            count += 1
    return count


class Form(Enum):
    ACTION = "action"  # 〜を整理する, 〜の見直し
    OBLIGATION = "obligation"  # 〜する必要がある, 〜すべき
    STATE = "state"  # 〜になっている, 〜がない, 〜が多い
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Tail:
    form: Form
    head: Token | None


_TRAILING = ("補助記号", "空白", "記号")
_FINAL_PARTICLES = frozenset({"ね", "よ", "な", "か", "ね。", "わ"})


def sentence_form(text: str) -> Form:
    """Classify how a list item ends: as something to do, an obligation, or a state."""
    stripped = text.strip().rstrip("。．.、，,！!？?")
    if not stripped:
        return Form.UNKNOWN
    if lx.OBLIGATION_TAIL.search(stripped):
        return Form.OBLIGATION
    toks = [t for t in tokenize(stripped) if t.pos not in _TRAILING]
    while toks and toks[-1].pos == "助詞" and toks[-1].surface in _FINAL_PARTICLES:
        toks.pop()
    if not toks:
        return Form.UNKNOWN
    last = toks[-1]
    prev = toks[-2] if len(toks) > 1 else None
    has_object = any(t.pos == "助詞" and t.surface == "を" for t in toks)

    # Copula: 紙である / ばらばらだ → look at what stands before it.
    if last.pos == "助動詞" and last.lemma in ("だ", "です", "である") and prev is not None:
        return Form.STATE
    if last.pos == "動詞" and last.lemma == "ある" and prev is not None and prev.surface == "で":
        return Form.STATE
    if last.pos == "助動詞" and last.lemma in lx.NEGATION_AUX:
        return Form.STATE
    if last.pos == "助動詞" and last.lemma in ("れる", "られる", "た"):
        return Form.STATE
    if last.pos in ("形容詞", "形状詞"):
        return Form.STATE
    if last.pos == "動詞":
        if prev is not None and prev.surface in ("て", "で") and last.lemma in ("いる", "ある", "おる", "しまう"):
            return Form.STATE
        if last.lemma in ("いる", "ある"):
            return Form.STATE
        if last.lemma in ("する", "できる") and prev is not None:
            if prev.surface in lx.STATE_NOUNS or prev.lemma in lx.STATE_NOUNS:
                return Form.STATE
            if prev.pos == "名詞" or prev.surface in ("に", "と", "よう"):
                return Form.ACTION
            return Form.UNKNOWN
        if last.lemma in lx.STATIVE_VERBS or last.norm in lx.STATIVE_VERBS:
            return Form.STATE
        if last.form.startswith(("終止形", "連体形")) and (has_object or last.lemma in lx.ACTION_NOUNS):
            return Form.ACTION
        return Form.UNKNOWN
    if last.pos in ("名詞", "接尾辞"):
        if last.surface in lx.ACTION_NOUNS or last.lemma in lx.ACTION_NOUNS:
            return Form.ACTION
        return Form.STATE
    return Form.UNKNOWN
