"""Per-code rule tests: positives, and near misses that must stay quiet."""

from __future__ import annotations

import pytest

from coach.critics.rules import RuleCritic
from coach.service import CritiqueService
from tests.conftest import make_sheet

critic = RuleCritic()


def codes(**overrides: object) -> set[tuple[str | None, str, int | None]]:
    return {f.key() for f in critic.critique(make_sheet(**overrides)) if f.code}


def test_a_good_sheet_gets_no_finding_and_encouragement() -> None:
    findings = critic.critique(make_sheet())
    assert [f.code for f in findings] == [None]
    assert findings[0].severity == "info"
    assert "よく書けて" in findings[0].message


# -- FIELD_EMPTY ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", "特になし", "○○", "未定", "-"])
def test_empty_or_placeholder_asis_and_tobe(value: str) -> None:
    assert ("FIELD_EMPTY", "asis", None) in codes(asis=value)
    assert codes(tobe=value) == {("FIELD_EMPTY", "tobe", None)}


@pytest.mark.parametrize("items", [[], [""], ["なし"], ["  ", "未定"]])
def test_empty_lists(items: list[str]) -> None:
    assert ("FIELD_EMPTY", "problems", None) in codes(problems=items)
    assert ("FIELD_EMPTY", "tasks", None) in codes(tasks=items)


def test_a_blank_row_beside_real_rows_is_not_empty() -> None:
    assert codes(tasks=["件数を数える", ""]) == set()


def test_a_short_real_text_is_not_a_placeholder() -> None:
    assert ("FIELD_EMPTY", "asis", None) not in codes(asis="窓口で紙に書いてもらっている。")


# -- TOBE_MIRRORS_ASIS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asis", "tobe"),
    [
        ("審査会の資料を紙で印刷して委員に郵送している。", "審査会の資料を紙で印刷せず、郵送もしない。"),
        ("月末の集計に3日かかる。", "集計に時間がかからない。"),
        ("ごみの分別の問い合わせ電話が多い。", "問い合わせ電話が減る。"),
        ("昼休みは窓口で20分以上待たせている。", "待ち時間がなくなる。"),
        ("入札の案内を業者にFAXで送っている。", "入札の案内をFAXで送らなくなる。"),
    ],
)
def test_mirror(asis: str, tobe: str) -> None:
    assert ("TOBE_MIRRORS_ASIS", "tobe", None) in codes(asis=asis, tobe=tobe)


@pytest.mark.parametrize(
    "tobe",
    [
        # contains ない/ず but draws a new picture of who is in what state
        "転入者が窓口で迷わず、15分以内に手続きを終えて帰れている。",
        "高齢の住民も立ったまま待つことがなく、座って順番を待てている。",
        "保護者が仕事を休まずに、夜でも健診の日を選んで予約できている。",
    ],
)
def test_good_tobe_with_negation_is_not_a_mirror(tobe: str) -> None:
    got = codes(asis="窓口で40分待つ。手続きが分かりにくく迷う人が多い。", tobe=tobe)
    assert ("TOBE_MIRRORS_ASIS", "tobe", None) not in got


def test_a_persons_state_is_not_a_mirror_when_the_asis_never_said_it() -> None:
    # Found in the browser: only the person (住民) is shared, not what is turned around.
    asis = "転入の届出は窓口で受け付け、1件40分。住民が最大6か所の窓口を自分で回っている。"
    assert codes(asis=asis, tobe="住民が迷わない。") == set()
    assert codes(asis="手続きが分かりにくく迷う住民が多い。", tobe="住民が迷わない。") == {
        ("TOBE_MIRRORS_ASIS", "tobe", None)
    }


# -- TOBE_VAGUE ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tobe",
    [
        "業務の効率化が図られ、円滑に調整できている。",
        "申込がスムーズになり、サービスが充実している。",
        "選挙事務が円滑に行われ、有権者の利便性が向上している。",
        "納付の相談が適正化されている。",
    ],
)
def test_vague(tobe: str) -> None:
    assert codes(tobe=tobe) == {("TOBE_VAGUE", "tobe", None)}


def test_abstract_word_beside_a_concrete_picture_is_fine() -> None:
    tobe = "窓口業務が効率化され、住民が20分以内に手続きを終えて帰れている。"
    assert ("TOBE_VAGUE", "tobe", None) not in codes(tobe=tobe)


def test_vague_message_names_the_abstract_words() -> None:
    f = next(f for f in critic.critique(make_sheet(tobe="業務がスムーズになり、効率化されている。")) if f.code)
    assert "スムーズ" in f.message and f.evidence == "スムーズ"


# -- SOLUTION_IN_SHEET ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tobe",
    [
        "電子申請システムで届出が提出されている。",
        "文書がデジタル化されている。",
        "住民がLINEで予約できている。",
        "ＲＰＡで入力が自動で行われている。",  # full-width letters are normalised
    ],
)
def test_solution_in_tobe_wins_over_mirror_and_vague(tobe: str) -> None:
    assert codes(tobe=tobe) == {("SOLUTION_IN_SHEET", "tobe", None)}


def test_tobe_describing_an_experience_is_not_a_solution() -> None:
    assert codes(tobe="住民が自宅から24時間、好きなときに手続きできている。") == set()


@pytest.mark.parametrize("problem", ["チャットボットがない", "GISが導入されていない", "オンライン申請ができない"])
def test_problem_naming_a_missing_tool_is_a_solution_not_a_gap(problem: str) -> None:
    assert codes(problems=[problem]) == {("SOLUTION_IN_SHEET", "problems", 0)}


def test_problem_mentioning_an_existing_system_as_fact_is_fine() -> None:
    assert codes(problems=["住民記録システムと税システムに同じ住所を二重に入力している"]) == set()


@pytest.mark.parametrize("task", ["RPAを導入する", "予約アプリを開発する", "LINEで予約できるようにする", "台帳をデータ化する"])
def test_task_adopting_a_tool_is_a_solution_not_unactionable(task: str) -> None:
    assert codes(tasks=[task]) == {("SOLUTION_IN_SHEET", "tasks", 0)}


def test_task_investigating_today_is_fine_even_with_a_tool_word() -> None:
    assert codes(tasks=["今の基幹システムで入力している項目を書き出す"]) == set()


def test_margin_never_yields_a_finding() -> None:
    assert codes(margin="RPA、AI-OCR、チャットボット、電子申請システムを導入する必要がある") == set()


def test_ai_inside_a_latin_word_is_not_a_tool() -> None:
    assert codes(tobe="住民がMAILの返事を翌日に受け取り、安心して待てている。") == set()


# -- PROBLEM_NOT_GAP / TASK_NOT_ACTIONABLE ---------------------------------------------------------


@pytest.mark.parametrize(
    "problem",
    ["マニュアルを見直す必要がある", "受付方法を見直すべき", "記入例を作る", "様式を統一する", "手順の見直し"],
)
def test_problem_written_as_a_to_do(problem: str) -> None:
    assert codes(problems=[problem]) == {("PROBLEM_NOT_GAP", "problems", 0)}


@pytest.mark.parametrize(
    "problem",
    [
        "受付票の回付に頼っているため、情報が届くのが翌日になっている",
        "必要書類の案内がない",
        "申請書の記入項目が多い",
        "見直す人がいない",
        "不在の人がいると止まる",
    ],
)
def test_problem_stated_as_a_gap_is_fine(problem: str) -> None:
    assert codes(problems=[problem]) == set()


@pytest.mark.parametrize(
    "task",
    ["職員の負担が大きい", "電話対応が多い", "マニュアルができていない", "人手が不足している", "入力作業が大変"],
)
def test_task_written_as_a_complaint(task: str) -> None:
    assert codes(tasks=[task]) == {("TASK_NOT_ACTIONABLE", "tasks", 0)}


@pytest.mark.parametrize(
    "task",
    ["負担が大きい作業を洗い出す", "電話が多い時間帯を記録する", "受付の手順を決める", "決裁規程を見直す必要がある"],
)
def test_task_that_is_an_action_is_fine(task: str) -> None:
    assert codes(tasks=[task]) == set()


def test_item_index_points_at_the_right_row() -> None:
    got = codes(tasks=["件数を数える", "書類が足りない", "流れを図に書く"])
    assert got == {("TASK_NOT_ACTIONABLE", "tasks", 1)}


# -- PURPOSE_MISSING ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "purpose",
    ["", "効率化のため", "住民サービス向上のため", "ペーパーレスのため", "業務の効率化", "保護者のため", "働き方改革の推進"],
)
def test_purpose_missing(purpose: str) -> None:
    assert codes(purpose=purpose) == {("PURPOSE_MISSING", "purpose", None)}


def test_purpose_restating_the_tobe() -> None:
    got = codes(tobe="待ち時間がなくなる。", purpose="住民の待ち時間をなくすため。", asis="窓口で20分待たせている。")
    assert ("PURPOSE_MISSING", "purpose", None) in got


@pytest.mark.parametrize(
    "purpose",
    ["子育て世帯が仕事を休まずに手続きできるようにするため", "無断伐採や災害につながる伐採を防ぎ、町の森林を次の世代に引き継ぐため。"],
)
def test_purpose_saying_for_whom_and_why_is_fine(purpose: str) -> None:
    assert codes(purpose=purpose) == set()


# -- contract-wide properties --------------------------------------------------------------------------


def test_evidence_is_always_verbatim_and_messages_are_polite_japanese() -> None:
    sheet = make_sheet(tobe="ＡＩで自動化されている。", problems=["マニュアルを見直す必要がある"], tasks=["大変"],
                       purpose="効率化のため")
    critique = CritiqueService().critique(sheet)
    assert critique.rejected == 0
    for f in critique.findings:
        assert f.evidence in sheet.text_of(f.field, f.item)
        assert f.message.endswith(("。", "？"))
        assert any(polite in f.message for polite in ("ます", "ません", "です", "ましょう"))
        assert f.question.endswith(("？", "。"))


def test_extra_keys_are_ignored() -> None:
    from coach.sheet import Sheet

    sheet = Sheet.model_validate({**make_sheet().model_dump(), "id": "x-1", "group": "窓口"})
    assert critic.critique(sheet)[0].code is None
