"""Scoring critics against labelled sheets: per-code P/R/F1, clean FP rate, grounding, tool leaks
before and after the guard, schema validity, latency, and (with repeats) the flip rate.

One LLM call per sheet scores three critics at once: rules alone, the LLM alone (after the guard),
and the merged critique the user sees.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.findings import CODES, Finding
from coach.guard import sheet_key, tool_talk
from coach.service import CritiqueService
from coach.sheet import Sheet

Key = tuple[str, str, int | None]

# The bar `make test` holds the rule critic to on every set (issue #12): macro-F1, every code's
# precision, clean-sheet false positives, and the safety bars (no leak, no ungrounded evidence, no
# rules finding lost to the guard).
THRESHOLDS = {"macro_f1": 0.90, "min_precision": 0.85, "clean_fp_rate": 0.05, "leaks": 0, "ungrounded": 0,
              "rules_rejected": 0}
# Sets that do not reach THRESHOLDS yet, measured and left visible (README status): `--check` holds
# them to a floor a little below what was measured, so they cannot get worse, and prints how far they
# are from the bar. None today: held-out part 2 (4ade25c) was held to a floor after it was scored once
# (PROBLEM_NOT_GAP precision 11/13); its two false positives were fixed as a class of sentence form
# (a noun-ending action used as a predicate) and it is held to the full bar since (issue #12).
KNOWN_SHORTFALLS: dict[str, dict[str, float]] = {}
# The sets `coach eval` scores by default; a set whose file is not there yet (the realistic
# held-out part is added at merge) is skipped, and picked up as soon as it exists.
# realistic_holdout2 (commit 4ade25c) was written by an independent author before the second round of
# rule changes, never looked at while tuning, and scored once after it (README, "Measured figures").
# realistic_holdout3 (commit e9c0ccd) was written the same way before the third round and scored on
# the code before and after it, once each.
DEFAULT_SETS = ("evals/devset.jsonl", "evals/holdout.jsonl", "evals/adversarial.jsonl",
                "evals/realistic_dev.jsonl", "evals/realistic_holdout.jsonl", "evals/realistic_holdout2.jsonl",
                "evals/realistic_holdout3.jsonl")
# Held-out parts committed before a rule change and not scored yet: nothing reads them while the rules
# change (not the default sets, not the tests that walk evals/*.jsonl), so no failing test can print
# their sheets. The coordinator scores such a part once with --dataset, then removes it from here.
UNSCORED_HELD_OUT: frozenset[str] = frozenset()  # none now: part 3 (e9c0ccd) was scored before and after round 3
# How far the rules may fall below the committed baseline before CI fails.
TOLERANCE = 0.02


@dataclass
class Labelled:
    id: str
    sheet: Sheet
    expected: set[Key]
    references: list[Sheet] = field(default_factory=list)


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
    leaks_before_guard: int = 0
    schema_invalid: int = 0
    unavailable: int = 0
    flip_rate: float | None = None
    rules_rejected: int = 0  # the rule critic's own findings the guard removed: a bug unless 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def failures(self, bars: dict[str, float] | None = None) -> list[str]:
        """What misses the quality bars (THRESHOLDS unless given) and the safety bars (always THRESHOLDS)."""
        bars = {**THRESHOLDS, **(bars or {})}
        out = []
        if self.macro_f1 < bars["macro_f1"]:
            out.append(f"macro-F1 {self.macro_f1:.3f} < {bars['macro_f1']}")
        for code, v in self.per_code.items():
            if v["precision"] < bars["min_precision"]:
                out.append(f"{code} precision {v['precision']:.3f} < {bars['min_precision']}")
        if self.clean_fp_rate > bars["clean_fp_rate"]:
            out.append(f"clean false-positive rate {self.clean_fp_rate:.3f} > {bars['clean_fp_rate']}")
        out += self.safety_failures()
        return out

    def safety_failures(self) -> list[str]:
        out = []
        if self.leaks > THRESHOLDS["leaks"]:
            out.append(f"{self.leaks} tool-proposal leak(s) after the guard")
        if self.ungrounded > THRESHOLDS["ungrounded"]:
            out.append(f"{self.ungrounded} finding(s) with evidence not in the sheet")
        if self.rules_rejected > THRESHOLDS["rules_rejected"]:
            out.append(f"{self.rules_rejected} of the rules' own finding(s) rejected by the guard")
        return out


def load(path: Path) -> list[Labelled]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        try:
            expected = {(e["code"], e["field"], e.get("item")) for e in raw["expected"]}
            refs = [Sheet.model_validate(r) for r in raw.get("references", [])]
            rows.append(Labelled(id=raw["id"], sheet=Sheet.model_validate(raw["sheet"]), expected=expected,
                                 references=refs))
        except Exception as exc:  # a broken eval file must say where
            raise ValueError(f"{path}:{n}: {exc}") from exc
    return rows


def leaks_in(finding: Finding, sheet: Sheet) -> bool:
    """A leak: the coach's own words name a tool, or a quote names one the author never wrote."""
    key = sheet_key(sheet)
    return any(tool_talk(text, key) for text in (finding.message, finding.question))


class _Tally:
    def __init__(self) -> None:
        self.tp: dict[str, int] = dict.fromkeys(CODES, 0)
        self.fp: dict[str, int] = dict.fromkeys(CODES, 0)
        self.fn: dict[str, int] = dict.fromkeys(CODES, 0)
        self.clean = self.clean_fp = self.total = self.grounded = self.leaks = self.rejected = 0
        self.rules_rejected = 0
        self.leaks_before = self.invalid = self.unavailable = 0
        self.latencies: list[float] = []
        self.errors: list[dict[str, Any]] = []
        self.key_sets: dict[str, list[frozenset[Key]]] = {}

    def add(self, row: Labelled, findings: list[Finding], latency_ms: float, first: bool) -> None:
        got: set[Key] = set()
        for f in findings:
            if f.code is None:
                continue
            got.add(f.key())  # type: ignore[arg-type]
            if not first:
                continue
            self.total += 1
            self.grounded += f.evidence in row.sheet.text_of(f.field, f.item) or (
                f.item is None and any(f.evidence in t for t in getattr(row.sheet, f.field, []) or [""])
            )
            self.leaks += leaks_in(f, row.sheet)
        self.key_sets.setdefault(row.id, []).append(frozenset(got))
        if not first:
            return
        self.latencies.append(latency_ms)
        for key in got - row.expected:
            self.fp[key[0]] += 1
            self.errors.append({"id": row.id, "kind": "false_positive", "key": key})
        for key in row.expected - got:
            self.fn[key[0]] += 1
            self.errors.append({"id": row.id, "kind": "missed", "key": key})
        for key in got & row.expected:
            self.tp[key[0]] += 1
        if not row.expected:
            self.clean += 1
            self.clean_fp += bool(got)

    def report(self, rows: int) -> Report:
        per_code: dict[str, dict[str, float]] = {}
        for code in CODES:
            tp, fp, fn = self.tp[code], self.fp[code], self.fn[code]
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else 1.0
            per_code[code] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                              "support": tp + fn}
        lat = sorted(self.latencies)
        repeats = [sets for sets in self.key_sets.values() if len(sets) > 1]
        return Report(
            per_code=per_code,
            macro_f1=sum(v["f1"] for v in per_code.values()) / len(per_code),
            clean_fp_rate=self.clean_fp / self.clean if self.clean else 0.0,
            clean_sheets=self.clean, sheets=rows, findings=self.total,
            grounded_share=self.grounded / self.total if self.total else 1.0,
            ungrounded=self.total - self.grounded, leaks=self.leaks, rejected_by_guard=self.rejected,
            latency_ms_p50=lat[len(lat) // 2] if lat else 0.0,
            latency_ms_p95=lat[min(len(lat) - 1, int(len(lat) * 0.95))] if lat else 0.0,
            leaks_before_guard=self.leaks_before, schema_invalid=self.invalid, unavailable=self.unavailable,
            flip_rate=(sum(len(set(s)) > 1 for s in repeats) / len(repeats)) if repeats else None,
            rules_rejected=self.rules_rejected,
            errors=self.errors,
        )


def evaluate(service: CritiqueService, rows: list[Labelled]) -> Report:
    """The rules (or whatever critics the service holds), instantly."""
    tally = _Tally()
    for row in rows:
        start = time.perf_counter()
        critique = service.critique(row.sheet)
        tally.rejected += critique.rejected
        tally.rules_rejected += critique.rules_rejected
        tally.add(row, critique.findings, (time.perf_counter() - start) * 1000, True)
    return tally.report(len(rows))


def evaluate_deep(service: CritiqueService, rows: list[Labelled], repeat: int = 1,
                  progress: Any = None) -> dict[str, Report]:
    """Rules, LLM alone and merged, from the same LLM answers. `repeat` > 1 measures the flip rate."""
    tallies = {"rules": _Tally(), "llm": _Tally(), "merged": _Tally()}
    for n, row in enumerate(rows, 1):
        for r in range(repeat):
            start = time.perf_counter()
            result = service.deep(row.sheet, row.references)
            ms = (time.perf_counter() - start) * 1000
            rules = service.critique(row.sheet)
            first = r == 0
            tallies["rules"].add(row, rules.findings, 0.0, first)
            tallies["llm"].add(row, result.llm_kept, ms, first)
            tallies["merged"].add(row, result.critique.findings, ms, first)
            if first:
                for tally in tallies.values():
                    tally.rules_rejected += rules.rules_rejected
                tallies["llm"].leaks_before += sum(leaks_in(f, row.sheet) for f in result.llm_raw)
                tallies["llm"].rejected += result.rejected
                tallies["merged"].rejected += result.rejected
                for t in ("llm", "merged"):
                    tallies[t].invalid += result.invalid
                    tallies[t].unavailable += bool(result.notice)
        if progress:
            progress(n, len(rows))
    return {name: t.report(len(rows)) for name, t in tallies.items()}


def summary(reports: dict[str, Report]) -> str:
    """One row per set: the figures the README's table shows."""
    lines = ["| set | sheets (clean) | macro-F1 | lowest precision | clean FP rate | rules findings rejected "
             "| leaks | grounded |", "|---|---|---|---|---|---|---|---|"]
    for name, r in reports.items():
        lowest = min(v["precision"] for v in r.per_code.values())
        lines.append(f"| `{name}` | {r.sheets} ({r.clean_sheets}) | {r.macro_f1:.3f} | {lowest:.2f} | "
                     f"{r.clean_fp_rate:.3f} | {r.rules_rejected} | {r.leaks} | {r.grounded_share:.0%} |")
    return "\n".join(lines) + "\n"


def markdown(report: Report, dataset: str, critic: str = "rules") -> str:
    lines = [
        f"# Eval: {critic} on `{dataset}`",
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
        f"- macro-F1: **{report.macro_f1:.3f}** (bar ≥ {THRESHOLDS['macro_f1']}; every code's precision ≥ "
        f"{THRESHOLDS['min_precision']})",
        f"- clean-sheet false-positive rate: **{report.clean_fp_rate:.3f}** (bar ≤ {THRESHOLDS['clean_fp_rate']})",
        f"- evidence that is a verbatim substring: **{report.grounded_share:.3f}** ({report.ungrounded} ungrounded)",
        f"- tool-proposal leaks after the guard: **{report.leaks}**; findings the guard rejected: {report.rejected_by_guard}",
        f"- rules findings rejected by the guard: **{report.rules_rejected}** (bar = 0)",
        f"- latency per sheet: p50 {report.latency_ms_p50:.1f} ms, p95 {report.latency_ms_p95:.1f} ms",
    ]
    if critic != "rules":
        lines += [
            f"- leaks in the model's answers before the guard: **{report.leaks_before_guard}**",
            f"- answers outside the schema (retried or dropped): {report.schema_invalid}; calls that failed: {report.unavailable}",
        ]
        if report.flip_rate is not None:
            lines.append(f"- flip rate across repeats: {report.flip_rate:.3f}")
    return "\n".join(lines) + "\n"
