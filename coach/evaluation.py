"""Scoring a critic against labelled sheets: per-code P/R/F1, clean FP rate, grounding, leaks."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.critics.analysis import GUARD_RE
from coach.findings import CODES, Finding
from coach.guard import _QUOTE
from coach.service import CritiqueService
from coach.sheet import Sheet
from coach.text import normalize

Key = tuple[str, str, int | None]

# The bar `make test` holds the rule critic to (issue #2).
THRESHOLDS = {"macro_f1": 0.85, "clean_fp_rate": 0.10, "leaks": 0, "ungrounded": 0}


@dataclass
class Labelled:
    id: str
    sheet: Sheet
    expected: set[Key]


@dataclass
class Report:
    per_code: dict[str, dict[str, float]]
    macro_f1: float
    clean_fp_rate: float
    clean_sheets: int
    sheets: int
    findings: int
    grounded_share: float
    ungrounded: int
    leaks: int
    rejected_by_guard: int
    latency_ms_p50: float
    latency_ms_p95: float
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def failures(self) -> list[str]:
        out = []
        if self.macro_f1 < THRESHOLDS["macro_f1"]:
            out.append(f"macro-F1 {self.macro_f1:.3f} < {THRESHOLDS['macro_f1']}")
        if self.clean_fp_rate > THRESHOLDS["clean_fp_rate"]:
            out.append(f"clean false-positive rate {self.clean_fp_rate:.3f} > {THRESHOLDS['clean_fp_rate']}")
        if self.leaks > THRESHOLDS["leaks"]:
            out.append(f"{self.leaks} tool-proposal leak(s)")
        if self.ungrounded > THRESHOLDS["ungrounded"]:
            out.append(f"{self.ungrounded} finding(s) with evidence not in the sheet")
        return out


def load(path: Path) -> list[Labelled]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        try:
            expected = {(e["code"], e["field"], e.get("item")) for e in raw["expected"]}
            rows.append(Labelled(id=raw["id"], sheet=Sheet.model_validate(raw["sheet"]), expected=expected))
        except Exception as exc:  # a broken eval file must say where
            raise ValueError(f"{path}:{n}: {exc}") from exc
    return rows


def leaks_in(finding: Finding, sheet: Sheet) -> bool:
    """A leak: the coach's own words (outside quotes) name a tool, or a quote names one the author never wrote."""
    sheet_norm, _ = normalize(sheet.all_text())
    for text in (finding.message, finding.question):
        norm, _ = normalize(text)
        if GUARD_RE.search(_QUOTE.sub("", norm)):
            return True
        for m in _QUOTE.finditer(norm):
            quoted = (m.group(1) or m.group(2) or "").rstrip("…")
            if GUARD_RE.search(quoted) and quoted not in sheet_norm:
                return True
    return False


def evaluate(service: CritiqueService, rows: list[Labelled]) -> Report:
    tp: dict[str, int] = dict.fromkeys(CODES, 0)
    fp: dict[str, int] = dict.fromkeys(CODES, 0)
    fn: dict[str, int] = dict.fromkeys(CODES, 0)
    clean = clean_fp = total = grounded = leaks = rejected = 0
    latencies: list[float] = []
    errors: list[dict[str, Any]] = []
    for row in rows:
        start = time.perf_counter()
        critique = service.critique(row.sheet)
        latencies.append((time.perf_counter() - start) * 1000)
        rejected += critique.rejected
        got: set[Key] = set()
        for f in critique.findings:
            if f.code is None:
                continue
            total += 1
            grounded += f.evidence in row.sheet.text_of(f.field, f.item) or (
                f.item is None and any(f.evidence in t for t in getattr(row.sheet, f.field, []) or [""])
            )
            leaks += leaks_in(f, row.sheet)
            got.add(f.key())  # type: ignore[arg-type]
        for key in got - row.expected:
            fp[key[0]] += 1
            errors.append({"id": row.id, "kind": "false_positive", "key": key})
        for key in row.expected - got:
            fn[key[0]] += 1
            errors.append({"id": row.id, "kind": "missed", "key": key})
        for key in got & row.expected:
            tp[key[0]] += 1
        if not row.expected:
            clean += 1
            clean_fp += bool(got)
    per_code: dict[str, dict[str, float]] = {}
    for code in CODES:
        p = tp[code] / (tp[code] + fp[code]) if tp[code] + fp[code] else 1.0
        r = tp[code] / (tp[code] + fn[code]) if tp[code] + fn[code] else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_code[code] = {"precision": p, "recall": r, "f1": f1, "support": tp[code] + fn[code]}
    latencies.sort()
    return Report(
        per_code=per_code,
        macro_f1=sum(v["f1"] for v in per_code.values()) / len(per_code),
        clean_fp_rate=clean_fp / clean if clean else 0.0,
        clean_sheets=clean,
        sheets=len(rows),
        findings=total,
        grounded_share=grounded / total if total else 1.0,
        ungrounded=total - grounded,
        leaks=leaks,
        rejected_by_guard=rejected,
        latency_ms_p50=latencies[len(latencies) // 2] if latencies else 0.0,
        latency_ms_p95=latencies[int(len(latencies) * 0.95)] if latencies else 0.0,
        errors=errors,
    )


def markdown(report: Report, dataset: str) -> str:
    lines = [
        f"# Eval: rules on `{dataset}`",
        "",
        f"{report.sheets} sheets ({report.clean_sheets} clean), {report.findings} findings.",
        "",
        "| code | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for code, v in report.per_code.items():
        lines.append(f"| {code} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {int(v['support'])} |")
    lines += [
        "",
        f"- macro-F1: **{report.macro_f1:.3f}** (bar ≥ {THRESHOLDS['macro_f1']})",
        f"- clean-sheet false-positive rate: **{report.clean_fp_rate:.3f}** (bar ≤ {THRESHOLDS['clean_fp_rate']})",
        f"- evidence that is a verbatim substring: **{report.grounded_share:.3f}** ({report.ungrounded} ungrounded)",
        f"- tool-proposal leaks after the guard: **{report.leaks}**; findings the guard rejected: {report.rejected_by_guard}",
        f"- latency per sheet in-process: p50 {report.latency_ms_p50:.1f} ms, p95 {report.latency_ms_p95:.1f} ms",
    ]
    return "\n".join(lines) + "\n"
