"""How a sentence of a problem or task row ends, decided on SudachiPy tokens.

Officials write the same meaning in many forms; each is read for what it says:
- an action: 「〜を整理する」, a noun-ending task on a verbal noun 「関係課との協議」「様式の見直し」;
- done: a past action 「手順書を作成した」「書き出しました」 (a fact, neither a to-do nor a complaint);
- an obligation, also past, passive or reported: 「〜する必要があった」「〜が求められていた」
  「見直しが急務となっている」「〜しなきゃいけない、という話は前から出てた」;
- a wish: 「負担を下げたい」「〜できればと思っている」 (not yet an action);
- a state: 「〜になっている」「〜がない」「〜が多すぎます」「住民への未周知」.
Politeness (〜ます/〜です) and reported speech (〜という/〜とのこと) do not change the form.
"""

from __future__ import annotations

import re
from enum import Enum

from coach import lexicon as lx
from coach.text import Token, tokenize


class Form(Enum):
    ACTION = "action"  # 〜を整理する, 〜の見直し
    EVENT = "event"  # a noun-ending verbal noun: a task in a task row (「世帯の抽出」), a fact in a problem (「〜への限定」)
    DONE = "done"  # 〜を作成した
    OBLIGATION = "obligation"  # 〜する必要がある, 〜すべき, 〜が求められていた
    WISH = "wish"  # 〜したい
    STATE = "state"  # 〜になっている, 〜がない, 〜が多い
    UNKNOWN = "unknown"


_TRAILING = ("補助記号", "空白", "記号")
_FINAL_PARTICLES = frozenset({"ね", "よ", "な", "か", "わ", "ね。"})
_REPORTED = re.compile(r"(と|って)(いう|いいます|のこと(だ|です)?|聞いている|聞いています)$|(そう|らしい)(だ|です)?$")
_WISH = re.compile(r"(たい|たいと(思|考)\w*|(れ|け|せ)ば(と|いいと|よいと)(思|考)\w*|(ほ|欲)しい|願う|望む)$")
_NEGATING_PREFIXES = ("未", "不", "無", "非")
_ASIDE = re.compile(r"\s*[（(][^（）()]*[）)]$")


def _strip(text: str) -> str:
    stripped = _ASIDE.sub("", text.strip().rstrip("。．.、，,！!？?")).rstrip("。．.、，,！!？?")
    reported = _REPORTED.search(stripped)
    return stripped[: reported.start()].rstrip("、,") if reported and reported.start() > 0 else stripped


def sentence_form(text: str) -> Form:
    """Classify how a list item ends: as something to do, done, an obligation, a wish or a state."""
    stripped = _strip(text)
    if not stripped:
        return Form.UNKNOWN
    if lx.OBLIGATION_TAIL.search(stripped) or lx.OBLIGATION_REPORTED.search(stripped):
        return Form.OBLIGATION
    if _WISH.search(stripped):
        return Form.WISH
    toks = [t for t in tokenize(stripped) if t.pos not in _TRAILING]
    while toks and toks[-1].pos == "助詞" and toks[-1].surface in _FINAL_PARTICLES:
        toks.pop()
    past = polite = False
    if toks and toks[-1].pos == "助動詞" and toks[-1].lemma == "た":
        past = True
        toks.pop()
    if toks and toks[-1].pos == "助動詞" and toks[-1].lemma == "ます":
        polite = True
        toks.pop()
    if not toks:
        return Form.UNKNOWN
    form = _tail_form(toks, finite=past or polite)
    if past and form is Form.ACTION:
        return Form.DONE
    return form


def _tail_form(toks: list[Token], finite: bool) -> Form:  # noqa: C901 - one decision table
    last = toks[-1]
    prev = toks[-2] if len(toks) > 1 else None
    has_object = any(t.pos == "助詞" and t.surface == "を" for t in toks)

    if last.pos == "助動詞" and last.lemma == "たい":
        return Form.WISH
    # Copula: 紙である / ばらばらだ / 〜でした → a state.
    if last.pos == "助動詞" and last.lemma in ("だ", "です", "である") and prev is not None:
        return Form.STATE
    if last.pos == "動詞" and last.lemma == "ある" and prev is not None and prev.surface == "で":
        return Form.STATE
    if last.pos == "助動詞" and last.lemma in lx.NEGATION_AUX:
        return Form.STATE
    if last.pos == "助動詞" and last.lemma in ("れる", "られる"):
        return Form.STATE
    if last.pos in ("形容詞", "形状詞"):
        return Form.STATE
    if last.pos == "動詞":
        return _verb_form(last, prev, has_object, finite)
    if last.pos in ("名詞", "接尾辞"):
        return _noun_form(last, prev)
    return Form.UNKNOWN


def _verb_form(last: Token, prev: Token | None, has_object: bool, finite: bool) -> Form:
    if prev is not None and prev.surface in ("て", "で") and last.lemma in ("いる", "ある", "おる", "しまう"):
        return Form.STATE
    if last.lemma in ("いる", "ある", "すぎる", "過ぎる"):
        return Form.STATE
    if last.lemma in ("する", "できる") and prev is not None:
        if prev.surface in lx.STATE_NOUNS or prev.lemma in lx.STATE_NOUNS:
            return Form.STATE
        if prev.pos == "名詞" or prev.surface in ("に", "と", "よう", "を"):
            return Form.ACTION
        return Form.UNKNOWN
    if last.lemma in lx.STATIVE_VERBS or last.norm in lx.STATIVE_VERBS:
        return Form.STATE
    ends = ("終止形", "連体形", "連用形") if finite else ("終止形", "連体形")
    if last.form.startswith(ends) and (has_object or last.lemma in lx.ACTION_NOUNS):
        return Form.ACTION
    return Form.UNKNOWN


def _noun_form(last: Token, prev: Token | None) -> Form:
    """A noun-ending row (体言止め): a verbal noun is a task (「関係課との協議」「一覧化」), unless it
    names a state (不足, 集中 …) or is negated by a prefix (「未周知」)."""
    word = last.surface
    if last.pos == "接尾辞" and prev is not None and prev.pos == "名詞":
        word = prev.surface + last.surface  # 一覧+化, 属人+化
    if word in lx.STATE_NOUNS or last.lemma in lx.STATE_NOUNS:
        return Form.STATE
    if prev is not None and prev.pos == "接頭辞" and prev.surface in _NEGATING_PREFIXES:
        return Form.STATE
    if last.surface in lx.ACTION_NOUNS or last.lemma in lx.ACTION_NOUNS or word in lx.ACTION_NOUNS:
        return Form.ACTION
    if last.pos3 == "サ変可能":
        return Form.EVENT
    return Form.STATE
