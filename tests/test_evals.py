"""The eval scorer itself, checked on a critic whose answers we fix (a fake, as unit tests should)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach.evaluation import Labelled, evaluate, leaks_in, load
from coach.findings import Finding
from coach.service import CritiqueService
from tests.conftest import make_sheet

ROOT = Path(__file__).resolve().parents[1]


class Fixed:
    name = "fixed"

    def __init__(self, answers: dict[str, list[Finding]]) -> None:
        self.answers = answers

    def critique(self, sheet):  # type: ignore[no-untyped-def]
        return self.answers.get(sheet.title, [])


def f(code: str, field: str, item: int | None = None, evidence: str = "") -> Finding:
    return Finding(code=code, field=field, item=item, severity="error", evidence=evidence,  # type: ignore[arg-type]
                   message="確かめてください。", question="どうなっていますか？")


def test_precision_recall_and_clean_false_positives() -> None:
    rows = [
        Labelled("a", make_sheet(title="a"), {("PURPOSE_MISSING", "purpose", None)}),
        Labelled("b", make_sheet(title="b"), set()),
        Labelled("c", make_sheet(title="c"), {("TASK_NOT_ACTIONABLE", "tasks", 1)}),
    ]
    critic = Fixed({
        "a": [f("PURPOSE_MISSING", "purpose")],
        "b": [f("TOBE_VAGUE", "tobe")],  # a false positive on a clean sheet
        "c": [f("TASK_NOT_ACTIONABLE", "tasks", 0)],  # wrong row: a miss and a false positive
    })
    report = evaluate(CritiqueService([critic]), rows)
    assert report.per_code["PURPOSE_MISSING"]["f1"] == 1.0
    assert report.per_code["TOBE_VAGUE"]["precision"] == 0.0
    assert report.per_code["TASK_NOT_ACTIONABLE"]["recall"] == 0.0
    assert report.clean_fp_rate == 1.0 and report.clean_sheets == 1
    assert report.failures()


def test_leak_detection_counts_tools_outside_quotes() -> None:
    sheet = make_sheet(tasks=["RPAを導入する"])
    ok = Finding(code="SOLUTION_IN_SHEET", field="tasks", item=0, severity="error", evidence="RPAを導入する",
                 message="「RPAを導入する」は手段です。", question="何に困っていますか？")
    bad = ok.model_copy(update={"question": "AIはどうですか？"})
    assert not leaks_in(ok, sheet) and leaks_in(bad, sheet)


@pytest.mark.parametrize("name", ["devset.jsonl", "holdout.jsonl", "adversarial.jsonl", "realistic_dev.jsonl"])
def test_eval_sets_are_well_formed(name: str) -> None:
    rows = load(ROOT / "evals" / name)
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))
    for line in (ROOT / "evals" / name).read_text("utf-8").splitlines():
        for e in json.loads(line)["expected"]:
            assert e["field"] in ("asis", "tobe", "purpose", "problems", "tasks")


def test_devset_meets_the_issue_shape() -> None:
    rows = load(ROOT / "evals" / "devset.jsonl")
    assert len(rows) >= 60
    assert sum(not r.expected for r in rows) / len(rows) >= 0.30
    from collections import Counter

    counts = Counter(key[0] for r in rows for key in r.expected)
    assert min(counts.values()) >= 8 and len(counts) == 7


def _write(path: Path, rows: list[dict]) -> None:  # type: ignore[type-arg]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_default_sets_pick_up_the_realistic_holdout_once_it_exists(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.cli import main

    monkeypatch.chdir(tmp_path)
    dev = [json.loads(line) for line in (ROOT / "evals" / "realistic_dev.jsonl").read_text("utf-8").splitlines()]
    _write(tmp_path / "evals" / "devset.jsonl", dev[:5])
    out = tmp_path / "out.json"
    assert main(["eval", "--json", str(out), "--baseline", ""]) == 0
    assert list(json.loads(out.read_text("utf-8"))) == ["evals/devset.jsonl"]
    _write(tmp_path / "evals" / "realistic_holdout.jsonl", dev[5:10])  # a stand-in: the real one comes at merge
    assert main(["eval", "--json", str(out), "--baseline", ""]) == 0
    assert list(json.loads(out.read_text("utf-8"))) == ["evals/devset.jsonl", "evals/realistic_holdout.jsonl"]


def test_check_fails_a_set_whose_code_precision_is_below_the_bar(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from coach.cli import main

    rows = [json.loads(line) for line in (ROOT / "evals" / "devset.jsonl").read_text("utf-8").splitlines()]
    flagged = [r for r in rows if r["expected"]][:4]
    for r in flagged:
        r["expected"] = []  # labels that call every finding a false positive
    _write(tmp_path / "wrong.jsonl", flagged)
    assert main(["eval", "--check", "--dataset", str(tmp_path / "wrong.jsonl"), "--baseline", ""]) == 1
    err = capsys.readouterr().err
    assert "precision" in err and "clean false-positive rate" in err
