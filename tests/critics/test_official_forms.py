"""Sentence forms as officials write them (issue #12, section 2): near-misses both ways.

Each case is a general form, not a sentence from an eval set: the point is that the rule reads
the grammar (tense, politeness, verbal nouns, reported speech, what a clause does with a tool).
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


# -- tasks -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["手順書を作成した", "説明会を行った", "記入例を窓口担当4人で書き出しました",
                                  "昨年度に差し戻した申請を集計した。"])
def test_a_past_action_is_done_not_a_state(task: str) -> None:
    assert form(task) is Form.DONE
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) not in codes(make_sheet(tasks=[task]))


@pytest.mark.parametrize("task", ["申請書様式の見直し", "関係課との協議", "受付横への掲示", "1.保存年限の棚卸し",
                                  "・転入手続きの一覧化（世帯類型別）", "滞留日数の測定"])
def test_a_noun_ending_task_on_a_verbal_noun_is_an_action(task: str) -> None:
    assert ("TASK_NOT_ACTIONABLE", "tasks", 0) not in codes(make_sheet(tasks=[task]))


@pytest.mark.parametrize("task", ["窓口の負担を下げたい", "聞き直しをなんとか減らしたい", "様式を統一できればと思っている"])
def test_a_wish_is_not_yet_an_action(task: str) -> None:
    assert form(task) is Form.WISH
    findings = [f for f in RuleCritic().critique(make_sheet(tasks=[task])) if f.code == "TASK_NOT_ACTIONABLE"]
    assert len(findings) == 1 and "願い" in findings[0].message and "困りごと" not in findings[0].message


@pytest.mark.parametrize("task", ["件数が増えた", "日程調整に時間がかかっています", "覚えることが多すぎます",
                                  "説明の不足", "住民への未周知"])
def test_past_or_polite_states_are_still_states(task: str) -> None:
    assert form(task) is Form.STATE


# -- problems --------------------------------------------------------------------------------------

@pytest.mark.parametrize("problem", ["農地の状況を把握することが求められていた。", "手順を統一する必要があった",
                                     "決裁ルートの見直しが急務となっている。", "名簿の整備が急務です",
                                     "マニュアルを作らなきゃいけない、という話は前から出てた"])
def test_past_passive_and_reported_obligations_are_obligations(problem: str) -> None:
    assert form(problem) is Form.OBLIGATION
    assert ("PROBLEM_NOT_GAP", "problems", 0) in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("problem", ["確認手段の窓口と電話への限定", "突合せの担当者1名への固定",
                                     "古い分別表のまま出している世帯があると当番から聞いているという",
                                     "再開見込みの住民への未周知"])
def test_a_stated_fact_in_official_style_is_a_gap(problem: str) -> None:
    assert ("PROBLEM_NOT_GAP", "problems", 0) not in codes(make_sheet(problems=[problem]))


# -- a tool word is not always a proposal ------------------------------------------------------------

@pytest.mark.parametrize("problem", ["ツール導入以前の業務への課題意識が乏しい",
                                     "今のシステムにも予約を見る機能はあるけど、利用者のほとんどが知らない",
                                     "システム更新の話が先行して、様式の見直しには手がついていない"])
def test_a_tool_as_a_topic_in_a_problem_is_not_a_solution(problem: str) -> None:
    assert ("SOLUTION_IN_SHEET", "problems", 0) not in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("problem", ["スマホ決済に対応していません。", "予約のシステムがない", "RPAを導入すべき"])
def test_a_tool_lacked_or_adopted_in_a_problem_is_a_solution(problem: str) -> None:
    assert ("SOLUTION_IN_SHEET", "problems", 0) in codes(make_sheet(problems=[problem]))


@pytest.mark.parametrize("task", ["今のシステムの入力項目を書き出す", "現行の福祉システムの入力項目の書き出し",
                                  "・選挙システムから出力しているデータの項目を確かめる"])
def test_investigating_todays_tools_is_not_a_solution(task: str) -> None:
    assert ("SOLUTION_IN_SHEET", "tasks", 0) not in codes(make_sheet(tasks=[task]))


@pytest.mark.parametrize("task", ["グループウェアのスケジュール機能を導入します。", "タブレットで受け付ける",
                                  "入力項目を書き出し、RPAを導入する", "おすすめのシステムを教えてください"])
def test_adopting_or_using_a_tool_in_a_task_is_a_solution(task: str) -> None:
    assert ("SOLUTION_IN_SHEET", "tasks", 0) in codes(make_sheet(tasks=[task]))


# -- ToBe ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tobe", ["観光案内の高度化が図られ、来訪者の満足度の向上と地域の活性化が実現している。",
                                  "保護者にとって、より納付しやすい環境が充実しています。",
                                  "職員一人ひとりがやりがいを持って業務に取り組み、住民に寄り添う姿勢を示しています。"])
def test_official_vague_tobes(tobe: str) -> None:
    assert ("TOBE_VAGUE", "tobe", None) in codes(make_sheet(tobe=tobe))


def test_a_person_in_a_concrete_state_with_one_abstract_word_is_not_vague() -> None:
    tobe = "転入した住民が、1か所の窓口で手続きをまとめて済ませ、円滑に20分ほどで役場を出られている。"
    assert ("TOBE_VAGUE", "tobe", None) not in codes(make_sheet(tobe=tobe))


def test_dx_as_the_state_itself_is_a_means() -> None:
    assert ("SOLUTION_IN_SHEET", "tobe", None) in codes(make_sheet(tobe="観光DXが進み、観光客が情報を手に入れています。"))


@pytest.mark.parametrize(("asis", "tobe"), [
    ("現地確認に往復し、1件平均50分かかる。", "現地確認の往復回数の削減。1件当たり所要時間の短縮。"),
    ("書類の不足で保護者が出直している。", "・「書類がそろっていない」と言われて出直す保護者がいなくなる"),
])
def test_mirrors_written_as_reduction_or_people_gone(asis: str, tobe: str) -> None:
    assert ("TOBE_MIRRORS_ASIS", "tobe", None) in codes(make_sheet(asis=asis, tobe=tobe))


def test_a_new_picture_that_mentions_something_missing_is_not_a_mirror() -> None:
    tobe = "本部が、どの避難所に何人いて何が足りないかを、開設から1時間以内につかみ、物資を届けられている。"
    assert ("TOBE_MIRRORS_ASIS", "tobe", None) not in codes(make_sheet(asis="避難所の状況が電話でしか集まらない。", tobe=tobe))


# -- shape of real fields --------------------------------------------------------------------------

def test_findings_point_at_the_right_row_in_bulleted_multi_sentence_fields() -> None:
    sheet = make_sheet(
        problems=["・窓口が混んでいる。\n・待ち時間は平均40分。", "1.様式の整備が急務となっている"],
        tasks=["①件数の集計\t②処理時間の測定", "職員の負担が大きいです。"],
    )
    got = codes(sheet)
    assert ("PROBLEM_NOT_GAP", "problems", 1) in got and ("PROBLEM_NOT_GAP", "problems", 0) not in got
    assert ("TASK_NOT_ACTIONABLE", "tasks", 1) in got and ("TASK_NOT_ACTIONABLE", "tasks", 0) not in got
