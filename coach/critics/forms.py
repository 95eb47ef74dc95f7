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
# Wishes, also polite or conversational: 〜したいです, 〜できればと思う, 〜聞けたらいいなと, 〜ればありがたい.
_WISH = re.compile(
    r"(たい(です|んです|のです)?|たいと(思|考)\w*|ば(と|いいと|よいと)(思|考)\w*|"
    r"(ば|たら)(いい|よい|良い)(な|のに|けど|んだけど)?と?|(ば|たら)ありがた(い|いです)|(ほ|欲)しい|願う|望む)$"
)
_NEGATING_PREFIXES = ("未", "不", "無", "非")
# A hedge does not change what is said: 「見直しが必要だと思います」 is an obligation, 「混んでいると思う」
# a state. Not after 〜ば: 「〜できればと思う」 is a wish and keeps its 「と思う」.
_HEDGE = re.compile(r"(?<!ば)と(思|考|感じ)[ぁ-ん]*$")
# Godan verbs' 連用形 ending → 終止形 ending (割り振り → 割り振る); ichidan verbs add る (取り決め → 取り決める).
_GODAN = {"い": "う", "き": "く", "ぎ": "ぐ", "し": "す", "ち": "つ", "に": "ぬ", "び": "ぶ", "み": "む", "り": "る"}
_ICHIDAN_TAIL = frozenset("いきぎしちにびみりえけげせぜてでねべめれ")
_ASIDE = re.compile(r"\s*[（(][^（）()]*[）)]$")


def _strip(text: str) -> str:
    stripped = _ASIDE.sub("", text.strip().rstrip("。．.、，,！!？?")).rstrip("。．.、，,！!？?")
    reported = _REPORTED.search(stripped)
    if reported and reported.start() > 0:
        stripped = stripped[: reported.start()].rstrip("、,")
    hedge = _HEDGE.search(stripped)
    return stripped[: hedge.start()] if hedge and hedge.start() > 0 else stripped


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
    has_object = _own_object(toks)

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
        form = _noun_form(last, prev)
        # 「各課が書庫で箱を一つずつ確認」「有無は現地確認」: a noun-ending action with its doer or
        # its own arguments is a clause whose する was left out — a practice reported.
        if form is Form.ACTION and (_doer_in_last_clause(toks) or _used_as_predicate(toks)):
            return Form.EVENT
        return form
    return Form.UNKNOWN


def _last_clause(toks: list[Token]) -> list[Token]:
    for i in range(len(toks) - 1, -1, -1):
        if toks[i].surface in ("、", ",", "，") or (toks[i].pos == "助詞" and toks[i].pos2 == "接続助詞"):
            return toks[i + 1:]
    return toks


def _own_object(toks: list[Token]) -> bool:
    """Has the final predicate an object of its own? Read back from the end to the subject (〜が/〜は)
    or the clause's start: in 「見込みを書かない申請者が半数にのぼる」 the を belongs to a relative clause."""
    for t in reversed(toks[:-1]):
        if t.surface in ("、", ",", "，") or (t.pos == "助詞" and t.pos2 == "接続助詞"):
            return False
        if t.pos == "助詞" and t.surface in ("が", "は"):
            return False
        if t.pos == "助詞" and t.surface == "を":
            return True
    return False


def _doer_in_last_clause(toks: list[Token]) -> bool:
    clause = _last_clause(toks)
    return any(
        t.pos in ("名詞", "接尾辞") and _is_doer(t.surface)
        and nxt.pos == "助詞" and nxt.surface in ("が", "は")
        for t, nxt in zip(clause, clause[1:], strict=False)
    )


# Case particles that attach an argument to a predicate (not to a noun: への/での/との are followed by の).
_PREDICATE_CASES = frozenset({"が", "は", "で", "へ", "に", "から", "より", "も"})
# Words of habit: 毎回/毎朝/毎月…, その都度, 常に, いつも.
_HABITUAL = re.compile(r"^(毎.+|都度|その都度|常に|いつも|随時)$")


def _used_as_predicate(toks: list[Token]) -> bool:
    """Is the final verbal noun a predicate with arguments of its own (「団体へ電話確認」「有無は
    現地確認」「毎回手作業で入力」), not the head of a noun phrase (「督促状の送付」「受付横への掲示」
    「統一に向けた検討」)? Read back from the noun to its phrase's start: a comma, a conjunction or the
    end of a modifying clause (a verb, an adjective, an auxiliary) closes it."""
    for i in range(len(toks) - 2, -1, -1):
        t = toks[i]
        nxt = toks[i + 1]
        if t.surface in ("、", ",", "，") or (t.pos == "助詞" and t.pos2 == "接続助詞"):
            return False
        if nxt.surface == "の":
            continue
        # An adverb or an adverbial 〜に (「個別に」「丁寧に」) modifies a predicate, not a noun.
        if t.pos == "副詞" or (t.pos == "助動詞" and t.surface == "に"):
            return True
        if t.pos in ("動詞", "形容詞", "助動詞"):
            return False
        if t.pos == "助詞" and t.surface in _PREDICATE_CASES:
            return True
        if t.pos == "名詞" and _HABITUAL.match(t.surface):
            return True
    return False


def _is_doer(word: str) -> bool:
    """A person or a section: 担当者, 各課 (各/全/両 quantify the section), 職員."""
    return word in lx.ACTORS or word.endswith(lx.ACTOR_SUFFIXES) or word.lstrip("各全両") in lx.ACTORS


def nominalised_verb(word: str) -> Token | None:
    """The verb a noun is the 連用形 of (割り振り → 割り振る, 取り決め → 取り決める, 記入漏れ → 漏れる)."""
    if not word or word[-1] not in _ICHIDAN_TAIL:
        return None
    candidates = [word + "る"]
    if word[-1] in _GODAN:
        candidates.insert(0, word[:-1] + _GODAN[word[-1]])
    for candidate in candidates:
        toks = tokenize(candidate)
        last = toks[-1] if toks else None
        if last is not None and last.pos == "動詞" and last.surface == last.lemma and candidate.endswith(last.lemma) \
                and len(last.lemma) >= 2:
            return last
    return None


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
    if word.endswith("化") and len(word) >= 2:  # 固定化, 標準化: 〜化する, a verbal noun
        return Form.EVENT
    verb = nominalised_verb(last.surface) if last.pos == "名詞" else None
    if verb is not None:  # 引継ぎ, 割り振り: a task; 漏れ, 偏り (stative verbs): a state
        return Form.STATE if verb.lemma in lx.STATIVE_VERBS or verb.norm in lx.STATIVE_VERBS else Form.EVENT
    return Form.STATE
