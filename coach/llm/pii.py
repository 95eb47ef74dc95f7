"""Personal data stays home: mask it before text leaves the process, unmask what comes back.

Masked: names with さん/様/氏/くん/ちゃん, phone numbers, postal codes and street addresses, e-mail
addresses, 12-digit (マイナンバー-like) numbers, and dates of birth. Each value gets a stable token
such as ［氏名1］ within one sheet, so the model can still tell two people apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("メール", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("番号", re.compile(r"(?<![\d０-９])(?:[0-9０-９]{4}[ -－]?){2}[0-9０-９]{4}(?![\d０-９])")),
    ("生年月日", re.compile(
        r"(?:(?:明治|大正|昭和|平成|令和)[0-9０-９元]{1,2}|[12][0-9]{3})年[0-9０-９]{1,2}月[0-9０-９]{1,2}日"
        r"(?:生まれ|生|うまれ)|生年月日[:：は]?\s*\S+?日")),
    ("郵便番号", re.compile(r"〒\s?[0-9０-９]{3}[-－]?[0-9０-９]{4}|(?<![\d０-９-])[0-9０-９]{3}[-－][0-9０-９]{4}(?![\d０-９-])")),
    ("電話", re.compile(
        r"(?<![\d０-９])(?:0[0-9０-９]{1,4}[-－(（][0-9０-９]{1,4}[-－)）][0-9０-９]{3,4}|0[0-9０-９]{9,10})(?![\d０-９])")),
    ("住所", re.compile(
        r"(?:北海道|東京都|大阪府|京都府|[一-龥]{2,3}県)?[一-龥ァ-ヶ]{1,6}[市町村郡][一-龥ァ-ヶ]{0,8}?"
        r"(?:[0-9０-９一二三四五六七八九十]+丁目)?[0-9０-９]+(?:番地?|[-－])[0-9０-９]+(?:号|[-－][0-9０-９]+)?")),
    ("氏名", re.compile(r"[一-龥々ァ-ヶー]{1,5}(?:\s|　)?[一-龥々ァ-ヶー]{0,4}(?=さん|様|氏|くん|ちゃん)")),
]


# Words before さん/様 that are not anybody's name.
NOT_NAMES = frozenset({"皆", "みな", "お客", "客", "利用者", "住民", "町民", "市民", "業者", "担当者", "患者", "お子",
                       "奥", "お父", "お母", "ご家族", "家族", "先生", "議員", "委員", "お年寄り", "相談者", "申請者"})


@dataclass
class Masked:
    text: dict[str, str]  # field key → masked text
    tokens: dict[str, str] = field(default_factory=dict)  # token → original

    def unmask(self, text: str) -> str:
        for token, original in self.tokens.items():
            text = text.replace(token, original)
        return text

    def summary(self) -> list[tuple[str, str]]:
        """(kind, token) pairs for showing the user what was kept from the model."""
        return [(token.strip("［］").rstrip("0123456789"), token) for token in self.tokens]


def mask(fields: dict[str, str]) -> Masked:
    seen: dict[str, str] = {}
    counters: dict[str, int] = {}
    out: dict[str, str] = {}
    for key, text in fields.items():
        for kind, pattern in _KINDS:
            def repl(m: re.Match[str], kind: str = kind) -> str:
                value = m.group(0)
                if value.startswith("［") or not value.strip() or (kind == "氏名" and value in NOT_NAMES):
                    return value
                if value not in seen:
                    counters[kind] = counters.get(kind, 0) + 1
                    seen[value] = f"［{kind}{counters[kind]}］"
                return seen[value]

            text = pattern.sub(repl, text)
        out[key] = text
    return Masked(text=out, tokens={token: value for value, token in seen.items()})
