"""The guard of contract §4: rejects tool proposals and ungrounded evidence from any critic."""

from __future__ import annotations

import pytest

from coach.findings import Finding
from coach.guard import guard
from coach.service import CritiqueService
from tests.conftest import make_sheet


def finding(message: str, question: str = "誰が、どんな状態になっていますか？", **kw: object) -> Finding:
    base: dict[str, object] = {"code": "TOBE_VAGUE", "field": "tobe", "item": None, "severity": "warning",
                               "evidence": "住民"}
    base.update(kw)
    return Finding(message=message, question=question, **base)  # type: ignore[arg-type]


SHEET = make_sheet(tasks=["RPAを導入する", "件数を数える"])


@pytest.mark.parametrize(
    "message",
    [
        "チャットボットを導入すると問い合わせが減ります。",
        "kintone で管理してはいかがでしょうか。",
        "電子申請にすれば解決します。",
        "デジタル化を進めましょう。",
        "おすすめの方法があります。導入してはいかがでしょう。",
        "「ChatGPT」を使えば早くなります。",  # a quote the author never wrote
    ],
)
def test_rejects_tool_talk_the_author_did_not_write(message: str) -> None:
    result = guard([finding(message)], SHEET)
    assert result.kept == [] and len(result.rejected) == 1


def test_rejects_a_tool_in_the_question_too() -> None:
    result = guard([finding("よく書けています。", question="AIを使うとどうなりますか？")], SHEET)
    assert result.kept == []


def test_quoting_the_authors_own_words_is_allowed() -> None:
    f = finding("課題に「RPAを導入する」と解決の手段が書かれています。", code="SOLUTION_IN_SHEET", field="tasks",
                item=0, severity="error", evidence="RPAを導入する")
    assert guard([f], SHEET).kept == [f]


def test_unquoted_tool_is_rejected_even_if_the_author_wrote_it() -> None:
    f = finding("RPAの導入は良い考えです。", code="SOLUTION_IN_SHEET", field="tasks", item=0, severity="error",
                evidence="RPAを導入する")
    assert guard([f], SHEET).kept == []


@pytest.mark.parametrize(
    ("field", "item", "evidence"),
    [("tobe", None, "書かれていない文"), ("tasks", 5, "件数"), ("tasks", 1, "RPA")],
)
def test_rejects_ungrounded_evidence(field: str, item: int | None, evidence: str) -> None:
    f = finding("確かめてください。", field=field, item=item, evidence=evidence)
    assert guard([f], SHEET).kept == []


def test_service_counts_rejections_from_a_misbehaving_critic() -> None:
    class Pushy:
        name = "pushy"

        def critique(self, sheet):  # type: ignore[no-untyped-def]
            return [finding("タブレットを配布しましょう。")]

    critique = CritiqueService([Pushy()]).critique(SHEET)
    assert critique.findings == [] and critique.rejected == 1
    assert "rejected" not in critique.model_dump()  # the contract's JSON shape stays exact


def test_rejects_a_code_on_a_field_it_cannot_point_at() -> None:
    sheet = make_sheet()
    wrong = finding("現状の裏返しです。", code="TOBE_MIRRORS_ASIS", field="asis", evidence="転入の届出")
    assert guard([wrong], sheet).kept == []
