"""Does a problem or task row name a means (SOLUTION_IN_SHEET)? Decided by what the clause does
with the tool word, not by its mere presence.

- problems: the clause lacks the tool (「チャットボットがない」「スマホ決済に対応していません」) or
  adopts one (「RPAを導入すべき」); a tool as a topic is a fact (「ツール導入以前の業務への課題意識が
  乏しい」「今のシステムにも機能はあるけど、利用者が知らない」).
- tasks: adopting or using a tool (「RPAを導入する」「タブレットで受け付ける」) is a means; investigating
  today's tools (「現行システムの入力項目の書き出し」「…の項目を確かめる」) is not; a generic word
  (システム, ツール) in a clause that neither adopts nor uses it is not.
"""

from __future__ import annotations

import re

from coach import lexicon as lx
from coach.critics.analysis import DIGITISATION_RE, TOOL_RE, has_actor
from coach.critics.clauses import clause_bounds
from coach.text import Token, tokenize

ADOPTION_LEMMAS = frozenset({
    "導入", "入れる", "活用", "利用", "使う", "使える", "配布", "構築", "開発", "整備", "検討", "作る", "作成", "始める",
    "契約", "購入", "設置", "実装", "採用", "取り入れる", "対応", "用いる", "配備", "移行", "切り替える",
    "切り替え", "置き換える", "化",
    "試す", "試行", "試用",  # trying a tool out is using it
})
# After an adoption word these make the tool a topic, not a proposal: 導入以前, 利用者, 導入後の話.
_TOPIC_AFTER = frozenset({"以前", "前", "後", "以降", "当時", "者", "率", "状況", "実績", "議論", "話"})
# Heads of a task that investigates what exists today.
INVESTIGATE_LEMMAS = frozenset({
    "調べる", "調査", "確認", "確かめる", "数える", "聞く", "聞き取る", "聞き取り", "洗い出す", "洗い出し", "記録",
    "計測", "測る", "測定", "比べる", "比較", "書き出す", "書き出し", "整理", "集計", "把握", "分析", "棚卸し",
    "抽出", "点検", "見る", "読む", "一覧", "分類",
})
GENERIC_TOOLS = frozenset({"システム", "ツール", "ソフト", "ソフトウェア", "アプリ", "データベース", "機能"})
_USE_AFTER = re.compile(r"^(で|により|による|によって|を使|を用い|を活用|を利用)")
# Asking for a tool is proposing one: 「おすすめのシステムを教えてください」.
_WANTED = re.compile(r"おすすめ|お勧め|オススメ|推奨|教えて")
_LACK = re.compile(r"(対応|導入|整備|設置|用意|配備|連携)(が)?(して|されて|し|され)?(い|お)?(ない|ません|らず|ていない|ていません)")
# A tool the row says cannot be used for the job: 「LINEで案内を送れていません」.
_NEGATED_END = re.compile(r"(ない|ません|ず|ぬ)[。．.]?$")
# Today's tool, named to describe the work as it is: 「今の〜システム」「現行の〜」, or in a relative clause
# of ongoing practice 「Excelで付けている一覧」.
_TODAY_BEFORE = re.compile(r"(今|いま|現在|現行|従来|既存)の?\S{0,6}$")
_PRACTICE_AFTER = re.compile(r"^で[^、,。]{0,12}?(て|で)(い)?る(?=[一-龥ァ-ヶ])")


def _adopts(after: str) -> bool:
    toks = tokenize(after)
    for i, t in enumerate(toks):
        if t.lemma in ADOPTION_LEMMAS or t.surface in ADOPTION_LEMMAS:
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and (nxt.surface in _TOPIC_AFTER or nxt.lemma in _TOPIC_AFTER):
                continue
            return True
    return False


def _no_new_subject(text: str) -> bool:
    """No other subject (〜が/〜は) stands between the tool and the predicate: 「帳票が読めない」 is
    about the form, not the tool."""
    return not any(t.pos == "助詞" and t.surface in ("が", "は") for t in tokenize(text)[1:])


def _lacks(after: str) -> bool:
    head = after.lstrip("をがはもの")
    if lx.ABSENCE_RE.match(head) or _LACK.search(after[:16]):
        return True
    absent = lx.ABSENCE_RE.search(after[:12])
    if absent is not None and _no_new_subject(after[: absent.start()]):
        return True
    return bool(_USE_AFTER.match(after) and _NEGATED_END.search(after) and _no_new_subject(after))


def _head(tokens: tuple[Token, ...]) -> Token | None:
    """The word a row ends on, past politeness, tense and する: 書き出し, 確かめる, 確認(する)."""
    content = [t for t in tokens if t.pos in ("名詞", "動詞") and t.lemma not in ("する", "いる", "ある", "おる")]
    return content[-1] if content else None


def investigates(norm: str) -> bool:
    head = _head(tokenize(norm.rstrip("。．.")))
    return head is not None and (head.lemma in INVESTIGATE_LEMMAS or head.surface in INVESTIGATE_LEMMAS)


def _clause_after(norm: str, start: int, end: int) -> str:
    for begin, stop in clause_bounds(norm):
        if begin <= start < stop:
            return norm[end:stop]
    return norm[end:]


def item_names_means(norm: str, field: str) -> bool:
    """In problems and tasks a tool counts when it is proposed, adopted, used or missed."""
    if DIGITISATION_RE.search(norm):
        return True
    for m in TOOL_RE.finditer(norm):
        after = _clause_after(norm, m.start(), m.end())
        if field == "problems":
            if _lacks(after) and not existing_tool_fact(norm):
                return True
            if _adopts(after):
                return True
            continue
        # tasks
        if _TODAY_BEFORE.search(norm[max(0, m.start() - 8): m.start()]) and not _adopts(after) \
                or _PRACTICE_AFTER.match(after):
            continue
        if investigates(norm):
            if _adopts(after) and not after.lstrip("のをにから").startswith(("入力", "出力", "項目", "データ")):
                return True
            continue
        wanted = _WANTED.search(norm)
        if m.group(0) in GENERIC_TOOLS and not (_adopts(after) or _USE_AFTER.match(after) or wanted):
            continue
        return True
    return False


def existing_tool_fact(norm: str) -> bool:
    """「システムに入力する人がいない」: a tool in a fact about people, not the tool missed."""
    return bool(has_actor(norm) and "しか" in norm)
