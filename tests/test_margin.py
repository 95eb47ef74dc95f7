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
