"""PURPOSE_MISSING, third round (issue #12): a value named after a person's の is still a slogan, a
request to the coach is not a purpose, and a student is a person. General forms written for the
test, with near-misses both ways; none is a sentence of an eval set.
"""

from __future__ import annotations

import pytest

from coach.critics.rules import RuleCritic
from tests.conftest import make_sheet

KEY = ("PURPOSE_MISSING", "purpose", None)


def codes(sheet) -> set[tuple[str | None, str, int | None]]:  # type: ignore[no-untyped-def]
    return {f.key() for f in RuleCritic().critique(sheet) if f.code}


# -- a person only as a possessive of a value, and no predicate: a slogan -----------------------------

@pytest.mark.parametrize("purpose", ["高齢者の安心のため", "児童の健康のため", "職員の意識改革",
                                     "住民の満足度アップのため", "保護者の安心・安全", "来庁者の快適性のため。"])
def test_a_value_of_a_person_without_a_predicate_is_a_slogan(purpose: str) -> None:
    assert KEY in codes(make_sheet(purpose=purpose))


@pytest.mark.parametrize("purpose", ["高齢者が一人で手続きを終えられるようにするため",
                                     "児童が熱を出した日に保護者が迷わず迎えに来られるため。",
                                     "奨学金を後輩の学生に引き継ぐため。",
                                     "受験生が願書の書き方で迷わないため"])
def test_a_person_in_a_state_is_a_purpose(purpose: str) -> None:
    assert KEY not in codes(make_sheet(purpose=purpose))


# -- a question or request to the coach is not a purpose ---------------------------------------------

@pytest.mark.parametrize("purpose", ["どのシステムを買えばいいか教えてください。", "おすすめのアプリを紹介してほしい",
                                     "RPAとAIのどちらがよいでしょうか？", "予算内で入れられる製品を提案していただきたい。",
                                     "他の町が何を使っているのか知りたい"])
def test_a_request_to_the_coach_is_not_a_purpose(purpose: str) -> None:
    assert KEY in codes(make_sheet(purpose=purpose))


@pytest.mark.parametrize("purpose", ["転入した世帯に、ごみの出し方を最初の週に知ってほしい。特に単身の若い人に。",
                                     "申請する住民が、何を持って来ればよいか迷わずに済むようにするため。"])
def test_a_wish_about_residents_is_a_purpose(purpose: str) -> None:
    assert KEY not in codes(make_sheet(purpose=purpose))
