"""Tool words and ToBe shapes, second round (issue #12, section 2): general forms with near-misses
both ways, written for the test (none is a sentence of an eval set)."""

from __future__ import annotations

import pytest

from coach.critics.rules import RuleCritic
from tests.conftest import make_sheet


def codes(sheet) -> set[tuple[str | None, str, int | None]]:  # type: ignore[no-untyped-def]
    return {f.key() for f in RuleCritic().critique(sheet) if f.code}


# -- tasks: trying a tool is using it; today's tool in a relative clause is not a proposal -----------

@pytest.mark.parametrize("task", ["議事録作成アプリを試す", "予約管理ツールを試行する"])
def test_trying_a_tool_is_a_means(task: str) -> None:
    assert ("SOLUTION_IN_SHEET", "tasks", 0) in codes(make_sheet(tasks=[task]))


@pytest.mark.parametrize("task", ["今Excelで管理している貸出簿の項目を見直す", "現在エクセルで付けている台帳の列を整理し、様式を揃える"])
def test_todays_tool_in_a_relative_clause_is_not_a_means(task: str) -> None:
    assert ("SOLUTION_IN_SHEET", "tasks", 0) not in codes(make_sheet(tasks=[task]))


@pytest.mark.parametrize("task", ["貸出簿をExcelで管理する", "申込をタブレットで受け付ける"])
def test_using_a_tool_for_the_task_is_still_a_means(task: str) -> None:
    assert ("SOLUTION_IN_SHEET", "tasks", 0) in codes(make_sheet(tasks=[task]))


# -- problems: a missed integration or a missed use of a tool ---------------------------------------

@pytest.mark.parametrize("problem", ["予約システムと台帳のデータ連携がされていない", "LINEで開館日のお知らせを送れていません。",
                                     "タブレットで記録を付けられない。"])
def test_a_tool_missed_or_not_linked_is_a_means(problem: str) -> None:
    assert ("SOLUTION_IN_SHEET", "problems", 0) in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("problem", ["担当課どうしの連携がされていない", "システムで出力した帳票が読めない。"])
def test_a_missing_link_between_people_is_not_a_means(problem: str) -> None:
    assert ("SOLUTION_IN_SHEET", "problems", 0) not in codes(make_sheet(problems=[problem]))


# -- ToBe: mirrors written with other spellings, shortening by an adjective -----------------------------

ASIS = "転入の届出は窓口で受け付けており、申請から交付までに2週間を要する。待ち時間が長い日がある。"


@pytest.mark.parametrize("tobe", ["交付までに2週間を要することがなくなり、届出の待ち時間が短くなっている。",
                                  "届け出から交付までの日数が少なくなっている。"])
def test_a_turned_around_asis_is_a_mirror_whatever_the_spelling(tobe: str) -> None:
    assert ("TOBE_MIRRORS_ASIS", "tobe", None) in codes(make_sheet(asis=ASIS, tobe=tobe))


def test_a_new_picture_with_a_shorter_wait_is_not_a_mirror() -> None:
    tobe = "転入した住民が、受付で手続の流れを一度で聞き、必要な書類を揃えてその日のうちに帰れている。"
    assert ("TOBE_MIRRORS_ASIS", "tobe", None) not in codes(make_sheet(asis=ASIS, tobe=tobe))


# -- ToBe: vague words with a person only as a possessive, or an abstract predicate under a copula ----

@pytest.mark.parametrize("tobe", ["住民の防災意識が向上して、訓練への参加がスムーズになっている。",
                                  "相談体制が強化され、支援が充実している状態である。",
                                  "利用者に寄り添った、きめ細やかで充実した案内が行われている状態です。",
                                  "まあ、職員の接遇意識が向上して、窓口対応がスムーズになってればいいかなと。",
                                  "申請の審査体制が強化され、事業者の経営の安定に資する支援が充実している状態である。"])
def test_abstract_words_without_a_person_in_a_state_are_vague(tobe: str) -> None:
    assert ("TOBE_VAGUE", "tobe", None) in codes(make_sheet(tobe=tobe))


@pytest.mark.parametrize("tobe", ["住民が訓練の日程を回覧で知り、当日はスムーズに集合場所へ集まれている。",
                                  "職員が窓口で迷わず案内でき、来庁者が10分以内に手続を終えている。"])
def test_a_person_in_a_concrete_state_is_not_vague(tobe: str) -> None:
    assert ("TOBE_VAGUE", "tobe", None) not in codes(make_sheet(tobe=tobe))


def test_prevention_as_a_noun_turns_the_asis_around() -> None:
    asis = "提出書類の記入誤りが多く、差し戻しが月に20件ある。"
    assert ("TOBE_MIRRORS_ASIS", "tobe", None) in codes(make_sheet(asis=asis, tobe="記入誤りによる差し戻しの防止"))


def test_a_slogan_of_leaving_no_one_behind_is_vague() -> None:
    tobe = "誰一人取り残さない、きめ細やかな案内ができている。"
    assert ("TOBE_VAGUE", "tobe", None) in codes(make_sheet(tobe=tobe))
