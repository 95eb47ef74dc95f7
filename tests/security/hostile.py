"""Hostile values, and the bar every answer must clear: never a 5xx, and a 4xx says why in Japanese."""

from __future__ import annotations

import json
import math
from typing import Any

from bs4 import BeautifulSoup
from hypothesis import strategies as st

# Each C0 control character, DEL, and the other characters that break storage, exports or display.
C0 = [chr(c) for c in range(0x20)]
DEL = "\x7f"
BIDI = ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f"]  # overrides and isolates
NAMED_TEXT: dict[str, str] = {
    **{f"c0-{ord(c):02x}": f"前{c}後" for c in C0},
    "del": f"前{DEL}後",
    "bidi-override": "\u202e" + "txt.exe" + "\u202c",
    "bidi-isolates": "".join(BIDI) + "窓口",
    "nul-only": "\x00",
    "long-10k": "あ" * 10_000,
    "long-10k-ascii": "x" * 10_000,
    "combining": "が" + "\u0301" * 300,
    "emoji-zwj": "👩‍👩‍👧‍👦" * 50,
    "formula": "=1+1",
    "fullwidth-formula": "＝HYPERLINK(\"http://x\")",
    "bom-zwsp": "\ufeff\u200b窓口",
}
# A lone surrogate cannot be built as a Python str that encodes; it goes in raw JSON bytes instead.
LONE_SURROGATES = {"lone-high": "\\ud800", "lone-low": "\\udfff", "swapped-pair": "\\udc00\\ud800"}

INT32_MAX = 2**31 - 1
HUGE_AND_TINY_IDS = {"int32+1": 2**31, "int64": 2**63, "int64+": 2**64, "minus-1": -1, "zero": 0}

# hypothesis: text a person (or an attacker) could paste: controls incl. NUL, marks, emoji, bidi.
hostile_chars = st.characters(codec="utf-8", categories=["Cc", "Cf", "Mn", "So", "Zs", "Lo", "L", "N", "P"])
hostile_text = st.one_of(
    st.text(hostile_chars, max_size=60),
    st.sampled_from(list(NAMED_TEXT.values())),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),  # numbers as text
    st.sampled_from(["nan", "inf", "-inf", "1e999", "-0", "0x10", "１２３", " "]),
    st.builds(lambda s, n: s * n, st.text(hostile_chars, min_size=1, max_size=3), st.integers(4000, 12000)),
    st.just(""),
)


def has_japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def json_reason(body: Any) -> str:
    """The Japanese reason in a JSON error body (`detail`, or any `errors[].reason`), or ''."""
    if not isinstance(body, dict):
        return ""
    texts = [body.get("detail")] + [e.get("reason") for e in body.get("errors") or [] if isinstance(e, dict)]
    return next((t for t in texts if isinstance(t, str) and has_japanese(t)), "")


REASON_SELECTORS = ".field-error, .notice.error, [role=alert], main.page > section.card.narrow > h1"


def html_reason(html: str) -> str:
    """The Japanese reason a 4xx page shows next to a field, in a notice, or as the error page's heading."""
    page = BeautifulSoup(html, "html.parser")
    texts = [el.get_text(" ", strip=True) for el in page.select(REASON_SELECTORS)]
    return next((t for t in texts if has_japanese(t)), "")


def problem(status: int, content_type: str, text: str) -> str:
    """'' when the answer clears the bar, else what is wrong with it."""
    if status >= 500:
        return f"{status} (server error)"
    if not 400 <= status < 500:
        return ""
    if "json" in content_type:
        try:
            body = json.loads(text)
        except ValueError:
            return f"{status} with a body that is not JSON"
        return "" if json_reason(body) else f"{status} without a Japanese reason: {text[:300]}"
    if "html" in content_type:
        return "" if html_reason(text) else f"{status} page without a Japanese reason"
    return f"{status} with neither a JSON body nor a page (content-type {content_type!r})"


def input_class(value: Any) -> str:
    """A short name for what made an input hostile (for the list of distinct 5xx)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, bool):
            return
        elif isinstance(v, int):
            if not -(2**31) <= v <= INT32_MAX:
                found.add("int beyond int64" if abs(v) >= 2**63 else "int beyond int32")
            elif v <= 0:
                found.add("int <= 0")
        elif isinstance(v, float) and not math.isfinite(v):
            found.add("non-finite float")
        elif isinstance(v, str | bytes):
            s = v if isinstance(v, str) else v.decode("utf-8", "replace")
            found.update(_text_class(s))

    walk(value)
    return ", ".join(sorted(found)) or "ordinary"


def url_values(url: str, params: Any = None) -> list[Any]:
    """Path segments and query values of a request, numbers as ints (to classify huge ids)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    parts = urlsplit(url)
    values: list[Any] = [unquote(p) for p in parts.path.split("/") if p]
    values += [v for _, v in parse_qsl(parts.query)] + list((params or {}).values())
    return [int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v for v in values]


def _text_class(s: str) -> set[str]:
    out = set()
    if "\x00" in s:
        out.add("NUL")
    if any(c in s for c in C0 if c not in "\x00\t\n\r"):
        out.add("C0 control")
    if DEL in s:
        out.add("DEL")
    if any(c in s for c in BIDI):
        out.add("bidi")
    if "\\ud8" in s or "\\udc" in s or "\\udf" in s:
        out.add("lone surrogate")
    if len(s) > 4000:
        out.add("long text")
    if s.strip().lower() in ("nan", "inf", "-inf", "1e999", "infinity"):
        out.add("non-finite number text")
    try:
        if abs(int(s.strip())) > INT32_MAX:
            out.add("huge number text")
    except ValueError:
        pass
    return out
