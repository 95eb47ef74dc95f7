"""The recurring problems of municipal work (横連携), and the words that signal them.

Used as one channel of the embedding and to explain in Japanese why two sheets look alike.
Matched on NFKC-normalised text; a concept counts once per field however often its words appear.

Where the inventory comes from (version 2): the themes towns and the national DX plans publish as
common targets — 書かない・待たない・回らない窓口, online applications and payments, electronic
approval and the end of seals, AI minutes, GIS maps, facility reservations, inspections on tablets,
surveys, reminders, FAQ for repeated questions, hand-over of person-dependent knowledge, aggregation
for reports — each written as the *problem* staff describe before the change, in the plain verbs
of a sheet (打ち直す, 探す, 待たせる, 催促する). Words are stems so that conjugations match; words
that say nothing alone (更新, 連絡, 場所, 現場, 申し込む) are left out. Checked on the tuning sets
(evals/retrieval.jsonl, evals/retrieval_dev2.jsonl), never on evals/retrieval_holdout2.jsonl.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

import numpy as np

CONCEPTS_VERSION = 2  # bump when the lexicon changes: vectors made with another version differ

CONCEPTS: dict[str, tuple[str, ...]] = {
    "手入力・転記": ("手入力", "打ち直", "打ち込", "入力し直", "入れ直", "転記", "書き写", "二重に入力", "二重入力",
                 "再入力", "入力ミス", "入力作業", "入力して"),
    "問い合わせ対応の負担": ("問い合わせ", "問合せ", "電話が鳴", "電話対応", "電話が集中", "電話がかか", "電話が殺到",
                     "ひっきりなし", "受話器", "電話番", "同じ質問", "同じ説明", "何度も説明", "毎回説明", "一から説明",
                     "よくある質問", "同じ内容の電話", "何十回"),
    "予約・日程の調整": ("予約", "空き状況", "空き枠", "空き時間", "抽選", "先着", "面談日", "貸出", "貸し出", "予約簿",
                 "重複予約", "ダブルブッキング", "キャンセル待ち", "日程調整", "日程を決", "日程の調整", "日程を調整",
                 "都合を聞", "都合のよい", "都合の良い", "都合が合", "候補日", "出欠", "予定を聞", "開催日", "日取り"),
    "会議録・文字起こし": ("会議録", "議事録", "文字起こし", "文字に起こ", "聞き直", "聞き起こ", "録音", "テープ起こし", "要点筆記"),
    "紙の保管・検索": ("書庫", "保管", "探す", "探して", "探し出", "見つからな", "綴じ", "ファイリング", "簿冊", "段ボール",
                "倉庫", "保存年限", "保存期間", "キャビネット", "保存して", "ばらばら", "追えない", "過去の記録"),
    "位置の特定": ("地図", "地番", "目印", "位置", "住宅地図", "配管図", "図面", "所在地", "どこを", "どこにある",
              "場所が分から", "場所の特定", "場所を特定", "現地に行", "現地確認", "現地で確認"),
    "窓口の待ち・たらい回し": ("待ち時間", "待たせ", "窓口で待", "行列", "混雑", "混み合", "混む", "窓口を回", "窓口を移動",
                     "番号札", "順番待ち", "待ちが出", "たらい回し", "別の窓口", "複数の窓口", "か所の窓口", "箇所の窓口"),
    "書類の不備・出直し": ("不備", "書き直", "出直", "差し戻", "返戻", "不足書類", "必要書類", "記入例", "記入漏れ",
                   "添付漏れ", "再提出", "来庁になって"),
    "手書きの記入負担": ("手書き", "記入欄", "何枚も", "何度も書", "同じ内容を書", "同じことを何", "書いてもら", "書かせ",
                 "用紙に記入", "申請書を書", "書き損じ"),
    "紙の印刷・郵送": ("印刷", "郵送", "封入", "封筒", "発送", "配布", "持ち帰", "はがき", "FAX", "ファクス", "切手", "宛名",
                "一通ずつ", "1通ずつ"),
    "手作業の集計": ("集計", "電卓", "合計", "手計算", "正の字", "数えて", "手で数え", "表にまとめ", "一覧表", "貼り付け"),
    "アンケート・調査の回収": ("アンケート", "調査票", "回答用紙", "用紙を回収", "回答を集め", "設問", "意識調査", "満足度調査", "自由記述"),
    "報告・照会の取りまとめ": ("照会", "取りまとめ", "取りまと", "県への報告", "国への報告", "実績報告", "各課から集め",
                     "各課に依頼", "報告書を作"),
    "台帳・名簿の更新": ("台帳", "名簿", "反映されない", "反映が遅", "古いまま", "更新が遅", "更新漏れ", "名寄せ"),
    "個別の連絡・一斉連絡": ("一人ひとりに電話", "一人ずつ電話", "一件ずつ電話", "連絡網", "一斉", "かけ直", "届いたか",
                    "伝わっているか", "個別に連絡", "個別に電話"),
    "記録の属人化・引き継ぎ": ("担当者の", "手帳", "頭の中", "担当者ごと", "1名しか", "1人しか", "一人しか", "属人", "引き継",
                     "引継", "ベテラン", "経験頼み", "経験に頼", "その人しか", "特定の職員", "異動", "退職", "手順書がない",
                     "マニュアルがない", "メモ", "ノートに", "にしかない", "にしか残", "しか知らない", "しか分からない"),
    "決裁・押印の待ち": ("決裁", "起案", "押印", "印鑑をもら", "印鑑が", "ハンコ", "はんこ", "回議", "承認", "伺い書", "稟議",
                 "書類が進まない", "書類が止", "滞留", "机の上"),
    "人手による確認・照合": ("ダブルチェック", "二重チェック", "照合", "2人で確認", "二人で確認", "確認し直", "確かめ直",
                    "もう一度確", "再確認", "見落とし", "指差し", "照らし合わ", "確認作業", "再計算", "数え間違"),
    "期限後の催促": ("催促", "督促", "未納", "滞納", "未提出", "未返却", "延滞", "返却されない", "納め忘れ", "出てこない",
               "提出されない", "期限を過ぎ", "締め切りを過ぎ", "締切を過ぎ", "納付をうなが"),
    "期限・満了の管理": ("有効期限", "満了", "期限切れ", "切れかけ", "更新時期", "失効", "期限を忘れ", "うっかり", "期限の管理",
                 "期日の管理", "期限が近", "締切が近", "終期", "リマインド"),
    "現金の取り扱い": ("現金", "釣り銭", "つり銭", "集金", "金庫", "領収書", "窓口で納", "窓口で支払", "納付書", "レジ",
                "日計", "小銭", "キャッシュレス"),
    "点検・巡回の記録": ("点検", "巡回", "見回り", "パトロール", "チェックシート", "野帳", "点検票", "デジカメ", "写真を撮"),
    "周知が届かない": ("回覧板", "広報誌", "広報紙", "掲示板", "周知", "知らなかった", "伝わらない", "目に入らない", "チラシ",
                "案内が届"),
    "支払い・請求の事務": ("請求書", "支払伝票", "支出命令", "伝票", "支払い処理", "支払事務", "納品書"),
    "システム・データの分断": ("別々のシステム", "システムが別", "システムごと", "連携していない", "連携されていない",
                     "同じデータを", "同じ情報を何度"),
    "相談・訪問の記録": ("相談記録", "ケース記録", "相談票", "経過記録", "訪問記録", "記録を書", "記録の作成", "記録票"),
    "在庫・備品の管理": ("在庫", "備品", "棚卸", "持ち出し", "貸出簿", "数量を数"),
    "外国語での対応": ("外国人", "通訳", "日本語が", "外国語", "翻訳", "多言語"),
    "文書の校正": ("校正", "誤字", "脱字", "表記ゆれ", "表記の揺れ"),
}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


_NORMED = {concept: tuple(_norm(w) for w in words) for concept, words in CONCEPTS.items()}


@lru_cache(maxsize=1024)
def concepts_in(text: str) -> Mapping[str, tuple[str, ...]]:
    """Concept → the signal words found in the text (in lexicon order). Cached (read only): the panel
    explains the same hits on every refresh, and the index embeds the same fields again."""
    norm = _norm(text)
    found: dict[str, tuple[str, ...]] = {}
    for concept, words in CONCEPTS.items():
        hits = tuple(w for w, n in zip(words, _NORMED[concept], strict=True) if n in norm)
        if hits:
            found[concept] = hits
    return MappingProxyType(found)


NAMES = tuple(CONCEPTS)


def concept_vector(text: str) -> np.ndarray:
    """One dimension a concept, 1 + log(number of its signal words), L2-normalised."""
    return weighted_concept_vector([(text, 1.0)])


def weighted_concept_vector(parts: list[tuple[str, float]], given: Mapping[str, float] | None = None) -> np.ndarray:
    """Concepts of several fields: each concept takes its strongest field's weight × (1 + log(signal words)).
    `given`: concepts known otherwise (LLM problem tags) with their weight; the larger value counts."""
    v = np.zeros(len(NAMES), dtype=np.float32)
    for concept, weight in (given or {}).items():
        if concept in CONCEPTS:
            i = NAMES.index(concept)
            v[i] = max(v[i], weight)
    for text, weight in parts:
        if weight <= 0 or not text:
            continue
        for concept, hits in concepts_in(text).items():
            i = NAMES.index(concept)
            v[i] = max(v[i], weight * (1.0 + math.log(len(hits))))
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v
