"""Linguistic analysis of sheet text for the rule critic (pure functions over SudachiPy tokens)."""

from __future__ import annotations

import re

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
TOBE_MEANS_RE = _term_pattern(lx.TOBE_MEANS)
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


def content_tokens(text: str) -> list[Token]:
    return [t for t in tokenize(text) if is_content(t)]


def written_in(tok: Token, text: str) -> bool:
    """Is this word in `text` as written or in its normalised spelling (届出/届け出, まま/侭)?"""
    return stem(tok.surface) in text or stem(tok.norm) in text


# 「一人ひとり」 means "each" and 「誰一人」 "nobody": neither is a count.
_EACH_PERSON = re.compile(r"一人(ひとり|一人)|誰(一|ひと)人")


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(_EACH_PERSON.sub("", text)))


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


def has_actor_subject(text: str) -> bool:
    """A person who is more than a possessive: 「住民が迷わず」 yes, 「住民の意識が向上」 no (the
    subject there is 意識, an abstraction)."""
    toks = tokenize(text)
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and nxt.pos == "助詞" and nxt.surface == "の":
            continue
        if has_actor(t.surface) or (t.pos == "接尾辞" and i > 0 and t.surface in lx.ACTOR_SUFFIXES):
            return True
    return False


def has_reduction(text: str) -> bool:
    """Negation or reduction: 〜しない, 〜がなくなる, 〜が減る, 〜をなくす, 〜が少ない …"""
    toks = tokenize(text)
    for i, t in enumerate(toks):
        if t.pos == "助動詞" and t.lemma in lx.NEGATION_AUX:
            return True
        if t.lemma in lx.REDUCTION_LEMMAS or t.norm in lx.REDUCTION_LEMMAS:
            return True
        if t.pos == "形容詞" and t.lemma in ("ない", "無い"):
            return True
        # 「短くなる」「少なくなる」: an adjective of less, turned into a change.
        if t.pos == "形容詞" and t.lemma in _LESS and i + 1 < len(toks) and toks[i + 1].lemma == "なる":
            return True
    return False


_LESS = frozenset({"短い", "少ない", "低い", "小さい", "軽い"})


def concrete_predicates(text: str) -> int:
    """Verbs/adjectives that say what someone does or what is observable (not 図る, 向上する …)."""
    toks = tokenize(text)
    # Words inside an abstract phrase (「やりがいを持って」「姿勢を示す」) draw no picture.
    abstract = [(m.start(), m.end()) for m in ABSTRACT_RE.finditer(text)]
    count = 0
    for i, t in enumerate(toks):
        if ABSTRACT_RE.fullmatch(t.surface) or any(s <= t.begin < e for s, e in abstract):
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


# How a sentence ends lives in its own module; re-exported here for the critics.
from coach.critics.forms import Form, sentence_form  # noqa: E402,F401
