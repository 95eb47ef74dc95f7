"""Quotes of the author's words: how the coach writes them and how the guard reads them back.

One definition on both sides, so a quote the coach writes is always read back as one quote:
- `quote()` squashes whitespace, truncates with 「…」 and balances 「」『』 (the author's own
  quotation marks stay, an unmatched one is dropped or closed);
- `split()` parses NFKC-normalised text into what stands outside quotes and the top-level quotes,
  nesting-aware;
- `grounded()` says whether a quote is the author's words: every piece between truncation marks
  (「…」, after NFKC 「...」) is in the sheet, ignoring whitespace and quotation marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAIRS = {"「": "」", "『": "』"}
ELLIPSIS = "…"


# Every character NFKC folds into a quotation mark (a test checks the whole BMP).
VARIANTS = {"「": "「﹁｢", "」": "」﹂｣", "『": "『﹃", "』": "』﹄"}
_OPEN_OF = {ch: canon for canon in _PAIRS for ch in VARIANTS[canon]}
_CLOSE_OF = {ch: canon for canon in _PAIRS.values() for ch in VARIANTS[canon]}
_MARKS = re.compile(r"[\s「」『』]+")
_TRUNCATION = re.compile(r"…|‥|\.{2,}")


def balance(text: str) -> str:
    """Drop closing marks with no opener, close openers left open: one quote reads back as one."""
    out: list[str] = []
    stack: list[str] = []  # canonical openers
    for ch in text:
        if ch in _OPEN_OF:
            stack.append(_OPEN_OF[ch])
            out.append(ch)
        elif ch in _CLOSE_OF:
            if stack and _PAIRS[stack[-1]] == _CLOSE_OF[ch]:
                stack.pop()
                out.append(ch)
            # else: a closing mark that closes nothing is left out
        else:
            out.append(ch)
    out.extend(_PAIRS[opener] for opener in reversed(stack))
    return "".join(out)


def quote(text: str, limit: int = 40) -> str:
    """The author's words as the coach shows them between 「」 (without the outer marks)."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    return balance(text)


@dataclass(frozen=True)
class Parsed:
    outside: str  # the text outside every quote: the coach's own words
    quotes: list[str]  # contents of the top-level quotes


def split(norm: str) -> Parsed:
    """Top-level 「」/『』 quotes of NFKC-normalised text, nesting-aware.

    A closing mark that matches a deeper opener closes the quotes inside it; one that matches
    nothing stays plain text; an unterminated quote runs to the end (and is checked as a quote).
    """
    outside: list[str] = []
    quotes: list[str] = []
    stack: list[str] = []
    current: list[str] = []
    for ch in norm:
        if ch in _PAIRS:
            if stack:
                current.append(ch)
            stack.append(ch)
        elif ch in _CLOSE_OF and stack and _CLOSE_OF[ch] in (_PAIRS[o] for o in stack):
            while stack and _PAIRS[stack[-1]] != ch:
                stack.pop()
            stack.pop()
            if stack:
                current.append(ch)
            else:
                quotes.append("".join(current))
                current = []
        elif stack:
            current.append(ch)
        else:
            outside.append(ch)
    if stack:
        quotes.append("".join(current))
    return Parsed(outside="".join(outside), quotes=quotes)


def squash(text: str) -> str:
    """Text without whitespace or quotation marks: what a quote is compared on."""
    return _MARKS.sub("", text)


def grounded(quoted: str, sheet_squashed: str) -> bool:
    """Is every piece of the quote, between truncation marks, the author's own words?"""
    pieces = [squash(p) for p in _TRUNCATION.split(quoted)]
    return all(p in sheet_squashed for p in pieces if p)
