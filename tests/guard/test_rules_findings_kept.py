"""The guard never throws away a finding the rule critic made (issue #12, section 1).

The bug: the message quotes long evidence truncated with 「…」; NFKC turns 「…」 into 「...」 so the
guard's `rstrip("…")` stripped nothing, the quote counted as "a tool the author did not write",
and a long ToBe naming means got no finding at all. The author's own 「」 in the evidence broke
the quote parsing the same way.
"""

from __future__ import annotations

from coach.critics.rules import RuleCritic
from coach.guard import guard
from coach.service import CritiqueService
from tests.conftest import make_sheet

LONG_TOBE = (
    "来庁者が番号発券機とタブレット端末を使って手続きを進め、住民が窓口で長く待たされることなく、"
    "必要な証明書を短時間で受け取って帰ることができる状態になっている。"
)


def _codes(sheet):  # type: ignore[no-untyped-def]
    return {(f.code, f.field, f.item) for f in CritiqueService().critique(sheet).findings}


def test_a_long_tobe_naming_two_tools_keeps_its_finding() -> None:
    sheet = make_sheet(tobe=LONG_TOBE)
    assert ("SOLUTION_IN_SHEET", "tobe", None) in _codes(sheet)


def test_no_rules_finding_on_the_long_tobe_is_rejected() -> None:
    sheet = make_sheet(tobe=LONG_TOBE)
    result = guard(RuleCritic().critique(sheet), sheet)
    assert result.rejected == []


def test_the_authors_own_quotes_in_the_evidence_do_not_break_the_guard() -> None:
    tobe = "窓口で「書かない窓口」と呼ばれるタブレット受付を使い、住民が申請書を書かずに済んでいる状態。"
    sheet = make_sheet(tobe=tobe)
    result = guard(RuleCritic().critique(sheet), sheet)
    assert result.rejected == []
    assert any(f.code == "SOLUTION_IN_SHEET" for f in result.kept)


def test_a_quoted_tool_the_author_never_wrote_is_still_rejected() -> None:
    sheet = make_sheet(tobe=LONG_TOBE)
    [finding] = [f for f in RuleCritic().critique(sheet) if f.code == "SOLUTION_IN_SHEET"]
    forged = finding.model_copy(update={"message": "あるべき姿に「RPAとチャットボット…」と書かれています。"})
    assert guard([forged], sheet).kept == []


class _BrokenRules:
    """Stands in for a rule critic with a bug: its finding quotes a tool the author never wrote."""

    name = "rules"

    def critique(self, sheet):  # type: ignore[no-untyped-def]
        [real] = [f for f in RuleCritic().critique(sheet) if f.code == "SOLUTION_IN_SHEET"]
        return [real.model_copy(update={"message": "あるべき姿に「ドローン」と書かれています。"})]


def test_a_rejected_rules_finding_is_logged_as_an_error_and_counted(caplog) -> None:  # type: ignore[no-untyped-def]
    sheet = make_sheet(tobe=LONG_TOBE)
    with caplog.at_level("WARNING", logger="coach.guard"):
        critique = CritiqueService([_BrokenRules()]).critique(sheet)
    assert critique.rules_rejected == 1 and critique.rejected == 1
    assert [r.levelname for r in caplog.records] == ["ERROR"]


def test_the_eval_report_fails_on_any_rejected_rules_finding() -> None:
    from coach.evaluation import Labelled, evaluate

    sheet = make_sheet(tobe=LONG_TOBE)
    row = Labelled("x", sheet, {("SOLUTION_IN_SHEET", "tobe", None)})
    broken = evaluate(CritiqueService([_BrokenRules()]), [row])
    assert broken.rules_rejected == 1
    assert any("rules' own" in f for f in broken.safety_failures())
    fine = evaluate(CritiqueService(), [row])
    assert fine.rules_rejected == 0 and fine.safety_failures() == []


def test_rejections_of_another_critic_stay_warnings(caplog) -> None:  # type: ignore[no-untyped-def]
    class Pushy:
        name = "llm"

        def critique(self, sheet):  # type: ignore[no-untyped-def]
            return [f.model_copy(update={"message": "タブレットを配布しましょう。"}) for f in RuleCritic().critique(sheet)]

    with caplog.at_level("WARNING", logger="coach.guard"):
        critique = CritiqueService([Pushy()]).critique(make_sheet(tobe=LONG_TOBE))
    assert critique.rules_rejected == 0 and critique.rejected >= 1
    assert {r.levelname for r in caplog.records} == {"WARNING"}
