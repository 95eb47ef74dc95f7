"""Sentence forms, second round (issue #12, section 2): the classes the realistic held-out part
showed the rules misreading. Each case is a general form written for the test, with near-misses
both ways; none is a sentence of an eval set.
"""

from __future__ import annotations

import pytest

from coach.critics.forms import Form, sentence_form
from coach.critics.rules import RuleCritic
from coach.text import normalize
from tests.conftest import make_sheet


def codes(sheet) -> set[tuple[str | None, str, int | None]]:  # type: ignore[no-untyped-def]
    return {f.key() for f in RuleCritic().critique(sheet) if f.code}


def form(text: str) -> Form:
    return sentence_form(normalize(text)[0])


# -- tasks: a noun ending on a nominalised verb (連用形名詞) or on 〜化 is a task --------------------

@pytest.mark.parametrize("task", ["窓口当番の割り振り", "担当者間の申し送り", "受付手順の引継ぎ", "記入例の書き換え",
                                  "相談票の様式の標準化", "集計方法の固定化"])
def test_a_task_ending_on_a_nominalised_verb_is_not_a_state(task: str) -> None:
    assert form(task) is not Form.STATE
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) not in codes(make_sheet(tasks=[task]))


@pytest.mark.parametrize("task", ["受付の遅れ", "書類の偏り", "記入漏れ"])
def test_a_task_ending_on_a_nominalised_state_verb_is_still_a_state(task: str) -> None:
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) in codes(make_sheet(tasks=[task]))


# -- problems: who does what, and whose object ------------------------------------------------------

@pytest.mark.parametrize("problem", ["台帳がなく、担当者が毎回倉庫で現物を確認。",
                                     "書式が決まっておらず、各係が個別に集計。"])
def test_a_noun_ending_practice_with_its_doer_is_a_fact(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) not in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("problem", ["台帳の整備。", "記入例の作成"])
def test_a_bare_action_as_a_problem_is_still_flagged(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("problem", ["添付書類を忘れて来る人が月に20人ほどいらっしゃいます。",
                                     "様式が古く、収入欄を空けたまま出す世帯が3割にのぼる。"])
def test_an_object_inside_a_relative_clause_does_not_make_the_row_an_action(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) not in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("problem", ["受付の手順を見直す。", "担当者が手順書を作り直す"])
def test_an_action_on_its_own_object_is_still_flagged(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) in codes(make_sheet(problems=[problem]))


# -- problems: obligations hedged, colloquial or reported ---------------------------------------------

@pytest.mark.parametrize("problem", ["受付票の項目の整理が必要だと思います。", "決裁ルートの短縮が求められてて",
                                     "様式を改めるべきと考える",
                                     "手順を文書にしておく必要があるとの指摘が、監査からもなされている。"])
def test_hedged_colloquial_and_reported_obligations_are_obligations(problem: str) -> None:
    assert form(problem) is Form.OBLIGATION
    assert ("PROBLEM_NOT_GAP", "problems", 0) in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("problem", ["窓口が混んでいると思います。", "届出が必要なことを知らない住民が多いとの指摘がある。"])
def test_a_hedged_state_is_still_a_state(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) not in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("task", ["様式を統一できればと思う", "様式を統一したいと思います"])
def test_a_hedged_wish_stays_a_wish(task: str) -> None:
    assert form(task) is Form.WISH


@pytest.mark.parametrize("task", ["利用者の声を聞けたらいいなと", "記入例を配れればありがたい", "件数を増やしたいです",
                                  "様式を揃えられればいいと思う"])
def test_wishes_in_conversational_and_polite_forms_are_wishes(task: str) -> None:
    assert form(task) is Form.WISH
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) in codes(make_sheet(tasks=[task]))


@pytest.mark.parametrize("task", ["利用者の声を聞いた", "記入例を配る", "件数を数えます"])
def test_an_action_near_a_wish_is_not_a_wish(task: str) -> None:
    assert form(task) is not Form.WISH
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) not in codes(make_sheet(tasks=[task]))
