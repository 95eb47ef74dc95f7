"""Sentence forms, third round (issue #12): a noun-ending action in a problem row.

A verbal noun heading a noun phrase names something to do (「通知書の発送」: a to-do written as a
problem); the same verbal noun used as a predicate with its own arguments — a topic or subject, a
place, a manner, a destination, a frequency — is a clause whose する was left out, and reports what
happens today (「出欠は毎朝電話で確認」: a fact). Each case is a general form written for the test,
with near-misses both ways; none is a sentence of an eval set.
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


# -- a noun-ending action used as a predicate reports today's practice ------------------------------

PRACTICES = [
    "書類に不備があるたびに申請者へ電話確認",
    "在庫の有無は倉庫で目視確認",
    "出欠は電話で確認（週15件ほど）",
    "苦情は各担当で個別に対応",
    "欠席連絡は毎朝職員室で共有",
    "変更があるたびに全施設へ確認",
    "申込書が各課に散在、件数は月末に手集計で把握",
    "締切前は窓口で書類を整理",
    "申請書は紙で受付、台帳へ手入力",
    "照合結果を係長へ口頭で報告",
]


@pytest.mark.parametrize("problem", PRACTICES)
def test_a_noun_ending_action_with_its_own_arguments_reports_a_practice(problem: str) -> None:
    assert form(problem) is not Form.ACTION
    assert ("PROBLEM_NOT_GAP", "problems", 0) not in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("task", PRACTICES[:5])
def test_the_same_forms_are_still_tasks(task: str) -> None:
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) not in codes(make_sheet(tasks=[task]))


# -- a bare action (a noun phrase headed by the verbal noun) is a to-do, also in a problem row -------

TODOS = [
    "通知書の発送",
    "案内文の送付",
    "申込書の配布",
    "ポスターの掲示",
    "利用者名簿の更新",
    "点検結果の記録",
    "受付横への案内の掲示",
    "様式の統一に向けた検討",
    "手順が決まっていないため、受付簿の整備",
]


@pytest.mark.parametrize("problem", TODOS)
def test_a_bare_noun_ending_action_as_a_problem_is_flagged(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("task", TODOS)
def test_a_bare_noun_ending_action_is_a_task(task: str) -> None:
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) not in codes(make_sheet(tasks=[task]))


# -- a noun-ending event that nobody does on purpose stays a fact -----------------------------------

@pytest.mark.parametrize("problem", ["問い合わせの殺到", "紙資料の散逸", "申請の急増", "職員の異動",
                                     "電話受付時間の平日日中への限定"])
def test_an_event_noun_ending_is_a_fact(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) not in codes(make_sheet(problems=[problem]))
