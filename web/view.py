"""Small helpers the templates use: highlighted evidence, Japanese times, field hints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from markupsafe import Markup, escape

from coach.critics.headings import heading
from coach.findings import CODE_LABELS, SEVERITY, Critique, Finding
from coach.findings import counts as count_findings
from coach.formats import day, iso_day, number  # noqa: F401  (template filters)
from coach.sheet import LABELS
from coach.status import status_label
from coach.workspace.cycle import OUTCOME_KINDS, STAGES
from coach.workspace.review import FLAGS, STATES, VERDICTS

JST = timezone(timedelta(hours=9))  # Japan has no daylight saving time

HINTS = {
    "asis": ("現状のカレー", "今この仕事は、誰が・いつ・何を使って・どのくらい（時間・件数）行っていますか。"),
    "tobe": ("理想のカレー", "理想の日を思い浮かべて、誰がどんな状態になっているかを書きます（バックキャスト）。"),
    "purpose": ("なぜそのカレーが良いのか", "その理想が実現すると、誰にとって、なぜ良いのかを書きます。"),
    "problems": ("現状と理想のずれ", "現状とあるべき姿の間に立ちはだかっていることを、事実や状態として書きます。"),
    "tasks": ("ずれを埋めるために取り組むこと", "問題を埋めるために係がすることを「〜する」の形で書きます。手段（システム等）は書きません。"),
    "margin": ("欄外メモ", "システム・アプリ・AI などの解決のアイデアはここへ。シートの外なので講評の対象になりません。"),
}
KIND_LABELS = {"create": "作成", "save": "保存", "autosave": "自動保存", "restore": "復元", "move": "欄外へ移動", "undo": "移動を元に戻す",
               "import": "取り込み"}


def jst(value: datetime) -> str:
    return value.replace(tzinfo=UTC).astimezone(JST).strftime("%Y年%-m月%-d日 %H:%M")


ENGINE_LABELS = {"rules": "自動チェック", "llm": "AIコーチ"}


def engine_label(engine: str) -> str:
    """Which critics answered, in Japanese: 「rules+llm:model」 → 「自動チェック＋AIコーチ」."""
    parts = [ENGINE_LABELS.get(part.split(":")[0], part.split(":")[0]) for part in engine.split("+") if part]
    return "＋".join(dict.fromkeys(parts)) or "自動チェック"


def jst_time(value: datetime) -> str:
    return value.replace(tzinfo=UTC).astimezone(JST).strftime("%H:%M")


def snippet(text: str, evidence: str, context: int = 24) -> Markup:
    """The part of `text` around `evidence`, escaped, with the evidence in <mark>."""
    if not evidence:
        return Markup("")
    at = text.find(evidence)
    if at < 0:
        return Markup("<mark>") + escape(evidence) + Markup("</mark>")
    start = max(0, at - context)
    end = min(len(text), at + len(evidence) + context)
    before = ("…" if start > 0 else "") + text[start:at]
    after = text[at + len(evidence): end] + ("…" if end < len(text) else "")
    return escape(before) + Markup("<mark>") + escape(evidence) + Markup("</mark>") + escape(after)


def finding_source(values: dict[str, object], f: Finding) -> str:
    value = values.get(f.field, "")
    if isinstance(value, list):
        if f.item is not None and 0 <= f.item < len(value):
            return str(value[f.item])
        return ""
    return str(value)


def counts(critique: Critique | None) -> dict[str, int]:
    return count_findings(critique.findings if critique is not None else [])


def register(env) -> None:  # type: ignore[no-untyped-def]
    env.globals.update(LABELS=LABELS, HINTS=HINTS, CODE_LABELS=CODE_LABELS, KIND_LABELS=KIND_LABELS, SEVERITY=SEVERITY)
    env.globals.update(snippet=snippet, finding_source=finding_source, counts=counts,
                       heading=heading)
    env.globals.update(status_label=status_label)
    env.globals.update(STATES=STATES, FLAGS=FLAGS, VERDICTS=VERDICTS, STAGES=STAGES, OUTCOME_KINDS=OUTCOME_KINDS)
    env.filters["jst"] = jst
    env.filters["jst_time"] = jst_time
    env.filters["day"] = day
    env.filters["number"] = number
    env.globals["engine_label"] = engine_label
