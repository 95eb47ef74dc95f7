"""Property: the guard never rejects a finding of the rule critic, on every eval sheet and on
generated variants in the shapes real fields take (issue #12, section 1)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.critics.rules import RuleCritic
from coach.evaluation import UNSCORED_HELD_OUT
from coach.guard import guard
from coach.quotes import VARIANTS
from coach.sheet import MAX_ITEM, MAX_TEXT, Sheet

ROOT = Path(__file__).resolve().parents[2]


def _eval_sheets() -> list[tuple[str, Sheet]]:
    out = []
    for path in sorted((ROOT / "evals").glob("*.jsonl")):
        if path.name in UNSCORED_HELD_OUT:
            continue
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                if "sheet" in raw:
                    out.append((f"{path.name}:{raw.get('id')}", Sheet.model_validate(raw["sheet"])))
    return out


SHEETS = _eval_sheets()


def assert_rules_kept(sheet: Sheet) -> None:
    result = guard(RuleCritic().critique(sheet), sheet, source="rules")
    assert result.rejected == [], [(f.code, f.field, f.item, reason, f.evidence) for f, reason in result.rejected]


def test_the_eval_sets_are_all_read() -> None:
    names = {name.split(":")[0] for name, _ in SHEETS}
    assert {"devset.jsonl", "holdout.jsonl", "adversarial.jsonl", "realistic_dev.jsonl"} <= names


@pytest.mark.parametrize(("name", "sheet"), SHEETS, ids=[n for n, _ in SHEETS])
def test_no_rules_finding_on_an_eval_sheet_is_rejected(name: str, sheet: Sheet) -> None:
    assert_rules_kept(sheet)


# -- generated variants ------------------------------------------------------------------------

TOOLS = ["RPA", "ＡＩ", "AI-OCR", "タブレット", "システム", "チャットボット", "kintone", "ｋｉｎｔｏｎｅ", "LINE",
         "電子申請", "デジタル化", "ペーパーレス", "ｴｸｾﾙ", "Excel", "Web予約", "Ｗｅｂ予約"]
PIECES = ["住民が", "窓口で", "申請書を", "導入し、", "活用して", "使い、", "確認する", "が必要である", "がない",
          "見直しを行った", "整理したい", "書かない窓口", "待たずに", "帰れている", "職員の負担が", "軽減され、",
          "効率化を図る", "ため", "なくなる", "短縮される", "については", "1件あたり15分", "を入力し"]
INSERTS = ["「", "」", "『", "』", "「…」", "「...」", "…", "...", "\n", "\t", "\r\n", "・", "①", "1. ", "　",
           "😀", "🍛", "ｶﾚｰ", "（注）", "、", "。", "」」", "「「", "｢", "｣", "﹁", "﹂"]


def _widen(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _narrow(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


fragment = st.one_of(st.sampled_from(TOOLS), st.sampled_from(PIECES), st.sampled_from(INSERTS),
                     st.text(alphabet="あいうえおアイウ漢字ABCxyz0123「」『』…. \n\t", max_size=8))


@st.composite
def field_text(draw: st.DrawFn, limit: int) -> str:
    parts = draw(st.lists(fragment, min_size=1, max_size=60))
    text = "".join(parts)
    shape = draw(st.sampled_from(["as is", "wide", "narrow", "long", "bullets"]))
    if shape == "wide":
        text = _widen(text)
    elif shape == "narrow":
        text = _narrow(text)
    elif shape == "long":
        text = "、".join([text] * draw(st.integers(2, 6)))
    elif shape == "bullets":
        text = "\n".join(f"{b}{line}" for b, line in zip(["・", "①", "1. ", "\t- "], text.split("。"), strict=False))
    return text[:limit]


@st.composite
def variant(draw: st.DrawFn) -> Sheet:
    _, base = draw(st.sampled_from(SHEETS))
    data = base.model_dump()
    for name in draw(st.sets(st.sampled_from(["asis", "tobe", "purpose", "problems", "tasks"]), min_size=1)):
        if name in ("problems", "tasks"):
            rows = list(data[name])
            rows.insert(draw(st.integers(0, len(rows))), draw(field_text(MAX_ITEM)))
            data[name] = rows[:20]
        else:
            original = data[name]
            at = draw(st.integers(0, len(original)))
            data[name] = (original[:at] + draw(field_text(MAX_TEXT)) + original[at:])[:MAX_TEXT]
    return Sheet.model_validate(data)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(variant())
def test_no_rules_finding_on_a_generated_variant_is_rejected(sheet: Sheet) -> None:
    assert_rules_kept(sheet)


def test_the_quote_mark_variants_are_complete() -> None:
    """Every BMP character NFKC folds into a quotation mark is known to the quote parser."""
    for target, known in VARIANTS.items():
        found = {chr(c) for c in range(0x10000) if unicodedata.normalize("NFKC", chr(c)) == target}
        assert found == set(known)
