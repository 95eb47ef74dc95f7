"""The recurring problems the town found across sections (横連携), and the words that signal them.

Used as one channel of the embedding and to explain in Japanese why two sheets look alike.
Matched on NFKC-normalised text; a concept counts once per sheet however often its words appear.
"""

from __future__ import annotations

import math
import unicodedata

import numpy as np

CONCEPTS_VERSION = 1  # bump when the lexicon changes: vectors made with another version differ

CONCEPTS: dict[str, tuple[str, ...]] = {
    "手入力・転記": ("手入力", "打ち直", "転記", "書き写", "入力して", "入力ミス", "手書き", "二重に入力", "入力し直", "入力に"),
    "電話問い合わせの集中": ("問い合わせ", "電話が鳴", "電話対応", "受話器", "電話が集中", "ひっきりなし", "電話番"),
    "予約受付": ("予約", "日程", "空き状況", "空き", "抽選", "申し込", "面談日"),
    "会議録・文字起こし": ("会議録", "議事録", "文字起こし", "文字に起こ", "聞き直", "聞き起こ", "録音"),
    "紙の保管・検索": ("書庫", "保管", "探す", "探して", "箱", "綴じ", "ファイルして", "保存している"),
    "位置の特定": ("場所", "位置", "地図", "地番", "目印", "現地", "配管図", "図面", "どこを", "現場"),
    "窓口の待ち・たらい回し": ("待ち時間", "待たせ", "待つ", "行列", "混雑", "混む", "窓口を回", "窓口を移動", "番号札"),
    "書類の不備・出直し": ("不備", "書き直", "出直", "差し戻", "返戻", "不足書類", "必要書類", "記入例", "来庁になって"),
    "紙の印刷・郵送": ("印刷", "郵送", "封入", "配布", "持ち帰", "はがき", "FAX"),
    "手作業の集計": ("集計", "電卓", "合計", "手計算", "貼り付け", "一覧表", "取りまとめ"),
    "台帳・名簿の更新": ("台帳", "名簿", "更新", "反映されない", "最新"),
    "個別の連絡": ("一人ひとりに電話", "連絡", "かけ直", "不在", "一斉", "届いたか", "伝える"),
    "記録の属人化": ("担当者の", "手帳", "ノート", "頭の中", "メモ", "担当者ごと", "1名しか", "属人"),
}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def concepts_in(text: str) -> dict[str, list[str]]:
    """Concept → the signal words found in the text (in lexicon order)."""
    norm = _norm(text)
    found: dict[str, list[str]] = {}
    for concept, words in CONCEPTS.items():
        hits = [w for w in words if _norm(w) in norm]
        if hits:
            found[concept] = hits
    return found


NAMES = tuple(CONCEPTS)


def concept_vector(text: str) -> np.ndarray:
    """One dimension a concept, 1 + log(number of its signal words), L2-normalised."""
    v = np.zeros(len(NAMES), dtype=np.float32)
    for concept, hits in concepts_in(text).items():
        v[NAMES.index(concept)] = 1.0 + math.log(len(hits))
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v
