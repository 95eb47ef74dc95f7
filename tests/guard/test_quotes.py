"""Quotes: what the coach writes is read back by the guard as one quote of the author's words."""

from __future__ import annotations

import pytest

from coach.quotes import balance, grounded, quote, split, squash
from coach.text import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("窓口で「書かない窓口」を", "窓口で「書かない窓口」を"),
        ("「記入例」と『見本』", "「記入例」と『見本』"),
        ("途中で切れた「記入", "途中で切れた「記入」"),
        ("閉じだけ」がある", "閉じだけがある"),
        ("「入れ子『の』まま", "「入れ子『の』まま」"),
        ("｢半角｣", "｢半角｣"),
    ],
)
def test_balance(text: str, expected: str) -> None:
    assert balance(text) == expected


def test_quote_truncates_squashes_whitespace_and_balances() -> None:
    q = quote("住民が「書かない\n窓口」でタブレットを使い、" + "長い説明" * 20, limit=12)
    assert q == "住民が「書かない 窓口…」"  # cut inside the author's quote: closed after the mark
    assert len(split(normalize(f"「{q}」")[0]).quotes) == 1
    assert split(normalize(f"「{q}」")[0]).outside == ""


def test_split_is_nesting_aware() -> None:
    parsed = split("課題に「職員が「AI」を使う」と書かれ、『ほか』もある")
    assert parsed.quotes == ["職員が「AI」を使う", "ほか"]
    assert parsed.outside == "課題にと書かれ、もある"


def test_an_unterminated_quote_is_still_a_quote() -> None:
    assert split("説明「RPAを導入").quotes == ["RPAを導入"]


def test_grounded_accepts_truncation_in_either_width_and_rejects_other_words() -> None:
    sheet = squash(normalize("住民がタブレットで 申請し、\n職員が確認する")[0])
    assert grounded("住民がタブレットで申請し...", sheet)
    assert grounded("住民が…職員が確認", sheet)
    assert not grounded("住民がドローンで…", sheet)
