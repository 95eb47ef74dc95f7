"""The committed LLM eval baseline (evals/baseline.json) and what CI checks against it.

The local-model eval takes minutes a sheet on CI's 2 cores, so developers run it (`make eval-llm`)
and commit the result stamped with the prompt version. CI then fails when
- a prompt file changed since the baseline was made (run `make eval-llm` again),
- the merged critique scored below the rules alone in the baseline,
- the baseline shows a tool leak after the guard or ungrounded evidence, or
- the rules today score below the baseline's rules on the same sheets, beyond TOLERANCE.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coach.evaluation import TOLERANCE, Labelled, Report, evaluate
from coach.llm.prompts import prompt_version
from coach.service import CritiqueService

RERUN = "ローカルモデルで評価し直してください: `make eval-llm`（evals/baseline.json を更新してコミット）"


def subset(rows: list[Labelled], limit: int | None) -> list[Labelled]:
    """A deterministic, evenly spread subset: the same sheets every run."""
    if not limit or limit >= len(rows):
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def _slim(report: Report) -> dict[str, Any]:
    data = report.as_dict()
    data.pop("errors", None)
    return data


def save(path: Path, model: str, datasets: list[str], rows: list[Labelled], reports: dict[str, Report]) -> None:
    data = {
        "prompt_version": prompt_version(),
        "model": model,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "datasets": datasets,
        "sheets": [r.id for r in rows],
        **{name: _slim(rep) for name, rep in reports.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def check(path: Path, all_rows: dict[str, Labelled]) -> list[str]:
    if not path.exists():
        return [f"{path} がありません。{RERUN}"]
    base = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    if base.get("prompt_version") != prompt_version():
        problems.append(f"プロンプトが変更されています（基準 {base.get('prompt_version')} → 今 {prompt_version()}）。{RERUN}")
    if base["merged"]["macro_f1"] < base["rules"]["macro_f1"]:
        problems.append(f"基準で統合結果がルールだけより悪い（merged {base['merged']['macro_f1']:.3f} < rules "
                        f"{base['rules']['macro_f1']:.3f}）")
    for name in ("llm", "merged"):
        if base[name]["leaks"] or base[name]["ungrounded"]:
            problems.append(f"基準の {name} にガード後の漏れ（{base[name]['leaks']}）または根拠のない指摘"
                            f"（{base[name]['ungrounded']}）があります")
    rows = [all_rows[i] for i in base["sheets"] if i in all_rows]
    if len(rows) != len(base["sheets"]):
        problems.append(f"基準のシートの一部が評価データにありません。{RERUN}")
    now = evaluate(CritiqueService(), rows)
    if now.macro_f1 < base["rules"]["macro_f1"] - TOLERANCE:
        problems.append(f"ルールの macro-F1 が基準より下がりました（{now.macro_f1:.3f} < {base['rules']['macro_f1']:.3f} − {TOLERANCE}）")
    return problems
