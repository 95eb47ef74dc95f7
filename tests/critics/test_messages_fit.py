"""Messages that fit (issue #12, section 4): one finding per row and code, headings that say what
was found, plain words (the curry metaphor stays in the help text)."""

from __future__ import annotations

import json
from pathlib import Path

from coach.critics.headings import heading
from coach.critics.rules import RuleCritic
from coach.evaluation import UNSCORED_HELD_OUT
from coach.findings import Finding
from coach.service import CritiqueService
from coach.sheet import Sheet
from tests.conftest import make_sheet

ROOT = Path(__file__).resolve().parents[2]


def _purpose_finding(purpose: str) -> Finding:
    [f] = [f for f in RuleCritic().critique(make_sheet(purpose=purpose)) if f.code == "PURPOSE_MISSING"]
    return f


def test_a_slogan_purpose_is_headed_as_a_slogan() -> None:
    assert heading(_purpose_finding("業務効率化のため")) == "目的が標語になっている"
    assert heading(_purpose_finding("")) == "目的が書かれていない"


def test_a_wish_task_and_an_obligation_problem_are_headed_as_such() -> None:
    found = {f.code: f for f in RuleCritic().critique(make_sheet(tasks=["窓口の負担を下げたい"],
                                                                 problems=["様式の統一が求められていた"]))}
    assert heading(found["TASK_NOT_ACTIONABLE"]) == "課題が願い（〜したい）になっている"
    assert heading(found["PROBLEM_NOT_GAP"]) == "問題が「しなければならないこと」になっている"


def test_past_actions_on_several_rows_draw_no_complaint() -> None:
    sheet = make_sheet(tasks=["仕様書を作成し直した", "説明会を行った", "手順書を作成した", "様式を作成し直した"])
    assert [f for f in RuleCritic().critique(sheet) if f.code == "TASK_NOT_ACTIONABLE"] == []


def test_one_finding_per_row_and_code_whatever_the_critics_say() -> None:
    class Twice:
        name = "twice"

        def critique(self, sheet):  # type: ignore[no-untyped-def]
            found = RuleCritic().critique(sheet)
            return found + [f.model_copy(update={"message": "別の言い方です。"}) for f in found]

    sheet = make_sheet(tasks=["窓口が混んでいる", "件数が多い"], purpose="")
    got = CritiqueService([Twice()]).critique(sheet).findings
    keys = [f.key() for f in got if f.code]
    assert len(keys) == len(set(keys)) == 3


def test_messages_speak_plainly_without_the_curry_metaphor() -> None:
    for path in sorted((ROOT / "evals").glob("*.jsonl")):
        if path.name in UNSCORED_HELD_OUT:
            continue
        for line in path.read_text("utf-8").splitlines():
            raw = json.loads(line)
            for f in RuleCritic().critique(Sheet.model_validate(raw["sheet"])):
                assert "カレー" not in f.message + f.question, (path.name, raw["id"], f.message)
