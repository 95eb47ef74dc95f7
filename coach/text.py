"""Japanese text handling: width normalisation with offsets, sentences, morphemes (SudachiPy)."""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sudachipy import Dictionary, SplitMode


@dataclass(frozen=True)
class Token:
    surface: str
    lemma: str  # dictionary form
    norm: str  # normalised form (表記ゆれ folded: 有る→ある, 迄→まで)
    pos: str  # e.g. 名詞, 動詞, 形容詞, 助動詞
    pos2: str  # e.g. 普通名詞, 数詞, 非自立可能
    form: str  # conjugation form, e.g. 終止形-一般, or "*"
    begin: int  # offsets into the normalised text
    end: int
    pos3: str = ""  # e.g. 一般, サ変可能, 副詞可能 (時を表す名詞)


@dataclass(frozen=True)
class Span:
    """A piece of an original field: its text as written, and the same text normalised."""

    original: str
    norm: str
    start: int  # offset of `original` in the field as written


_local = threading.local()


@lru_cache(maxsize=1)
def _dictionary() -> Dictionary:
    return Dictionary(dict="core")


def _tokenizer():  # type: ignore[no-untyped-def]
    tok = getattr(_local, "tokenizer", None)
    if tok is None:  # SudachiPy tokenizers are not thread-safe: one per thread
        tok = _dictionary().tokenizer(mode=SplitMode.C)
        _local.tokenizer = tok
    return tok


def normalize(text: str) -> tuple[str, list[int]]:
    """NFKC per character (full-width → half-width alnum etc.), with a map back to original offsets.

    `index[i]` is the offset in `text` of the character that produced normalised character i.
    """
    if unicodedata.is_normalized("NFKC", text):  # then every character is its own NFKC form
        return text, list(range(len(text)))
    out: list[str] = []
    index: list[int] = []
    cache = _NFKC
    for i, ch in enumerate(text):
        n = cache.get(ch)
        if n is None:
            n = unicodedata.normalize("NFKC", ch)
            if len(cache) < _NFKC_MAX:
                cache[ch] = n
        out.append(n)
        if len(n) == 1:
            index.append(i)
        else:
            index.extend([i] * len(n))
    return "".join(out), index


# NFKC of single characters, remembered (bounded: the characters sheets use are few).
_NFKC: dict[str, str] = {}
_NFKC_MAX = 20_000


@lru_cache(maxsize=4096)
def tokenize(norm_text: str) -> tuple[Token, ...]:
    tokens = []
    for m in _tokenizer().tokenize(norm_text):
        pos = m.part_of_speech()
        tokens.append(
            Token(
                surface=m.surface(),
                lemma=m.dictionary_form(),
                norm=m.normalized_form(),
                pos=pos[0],
                pos2=pos[1],
                form=pos[5],
                begin=m.begin(),
                end=m.end(),
                pos3=pos[2],
            )
        )
    return tuple(tokens)


# Sentence ends, line breaks, and bullet markers at the start of a line split a field into sentences.
# A bullet may follow a sentence end on the line before (「…。\n・次の文」); tabs pasted from Excel
# separate cells.
_SPLIT = re.compile(
    r"[。．！？!?]*(?:^|\n)[ \t\u3000]*(?:[・●○■□◆◇▼▽★☆※\-–—*]|[①-⑳]|[(（]?\d{1,2}[).)）．])[ \t\u3000]*"
    r"|[。．！？!?\n\t]+|[①-⑳]",
    re.MULTILINE,
)


def sentences(text: str) -> list[Span]:
    """Split a field as written into sentences, keeping offsets into the original text."""
    spans: list[Span] = []
    pos = 0
    for m in _SPLIT.finditer(text):
        _add_span(spans, text, pos, m.start())
        pos = m.end()
    _add_span(spans, text, pos, len(text))
    return spans


def _add_span(spans: list[Span], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip(" \t\u3000、,")
    if not stripped:
        return
    offset = start + piece.index(stripped)
    norm, _ = normalize(stripped)
    spans.append(Span(original=stripped, norm=norm, start=offset))


def original_slice(original: str, norm_index: list[int], begin: int, end: int) -> str:
    """The original text behind normalised offsets [begin, end)."""
    if begin >= end or not norm_index:
        return ""
    start = norm_index[begin]
    stop = norm_index[end - 1] + 1
    return original[start:stop]


PLACEHOLDERS = frozenset(
    {
        "", "なし", "無し", "特になし", "特に無し", "未記入", "未定", "未入力", "記入中", "検討中", "後で",
        "あとで", "tbd", "todo", "-", "--", "ー", "―", "…", "...", "○○", "〇〇", "xx", "xxx", "?", "？",
    }
)


def is_placeholder(text: str) -> bool:
    norm, _ = normalize(text)
    core = re.sub(r"[\s。、.,・]", "", norm).lower()
    return core in PLACEHOLDERS or bool(re.fullmatch(r"[○〇×x？?…ー―\-・]+", core))
