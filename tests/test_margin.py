from __future__ import annotations

from coach.margin import move_to_margin
from tests.conftest import make_sheet


def test_moves_a_sentence_out_of_the_tobe_and_keeps_the_rest() -> None:
    sheet = make_sheet(tobe="住民が迷わない。RPAで自動化されている。職員が相談に集中できている。", margin="")
    moved = move_to_margin(sheet, "tobe", None, "RPAで自動化されている")
    assert moved.tobe == "住民が迷わない。職員が相談に集中できている。"
    assert moved.margin == "RPAで自動化されている"


def test_moves_a_whole_task_row_and_appends_to_the_margin() -> None:
    sheet = make_sheet(tasks=["RPAを導入する", "件数を数える"], margin="メモ")
    moved = move_to_margin(sheet, "tasks", 0, "RPAを導入する")
    assert moved.tasks == ["件数を数える"]
    assert moved.margin == "メモ\nRPAを導入する"


def test_nothing_changes_when_the_evidence_is_not_there() -> None:
    sheet = make_sheet()
    assert move_to_margin(sheet, "tasks", 0, "存在しない文") == sheet
    assert move_to_margin(sheet, "tasks", 9, "件数") == sheet
    assert move_to_margin(sheet, "section", None, "住民") == sheet


def _move_solution(sheet):  # type: ignore[no-untyped-def]
    """What the editor's 「欄外メモへ移す」 does: move the SOLUTION_IN_SHEET finding's evidence."""
    from coach.service import CritiqueService

    [f] = [f for f in CritiqueService().critique(sheet).findings if f.code == "SOLUTION_IN_SHEET"]
    return f.evidence, move_to_margin(sheet, f.field, f.item, f.evidence)


def test_only_the_clause_naming_the_means_moves_from_a_long_tobe() -> None:
    tobe = ("来庁者が番号発券機とタブレット端末を使って手続きを進め、住民が窓口で長く待たされることなく、"
            "必要な証明書を短時間で受け取って帰ることができる状態になっている。")
    evidence, moved = _move_solution(make_sheet(tobe=tobe, margin=""))
    assert evidence == "来庁者が番号発券機とタブレット端末を使って手続きを進め"
    assert moved.tobe == "住民が窓口で長く待たされることなく、必要な証明書を短時間で受け取って帰ることができる状態になっている。"
    assert moved.margin == evidence


def test_a_last_clause_moves_and_the_sentence_keeps_its_full_stop() -> None:
    tobe = "住民が窓口で迷わずに手続きを終え、職員はタブレットで受付内容を確認している。"
    evidence, moved = _move_solution(make_sheet(tobe=tobe, margin=""))
    assert evidence == "職員はタブレットで受付内容を確認している"
    assert moved.tobe == "住民が窓口で迷わずに手続きを終え。"


def test_a_clause_moves_out_of_a_task_row_and_the_rest_of_the_row_stays() -> None:
    sheet = make_sheet(tasks=["RPAを導入し、入力作業の時間を3月に計測する。", "件数を数える"], margin="メモ")
    evidence, moved = _move_solution(sheet)
    assert evidence == "RPAを導入し"
    assert moved.tasks == ["入力作業の時間を3月に計測する。", "件数を数える"]
    assert moved.margin == "メモ\nRPAを導入し"


def test_a_whole_sentence_moves_from_the_middle_of_a_field_with_line_breaks() -> None:
    tobe = "・住民が迷わず手続きを終えている。\n・LINEで予約できている。\n・職員が相談に集中できている。"
    evidence, moved = _move_solution(make_sheet(tobe=tobe, margin=""))
    assert evidence == "LINEで予約できている"
    assert moved.tobe == "・住民が迷わず手続きを終えている。\n・職員が相談に集中できている。"
