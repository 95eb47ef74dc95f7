"""Small helpers the templates use: highlighted evidence, Japanese times, field hints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from markupsafe import Markup, escape

from coach.critics.headings import heading
from coach.findings import CODE_LABELS, SEVERITY, Critique, Finding
from coach.findings import counts as count_findings
from coach.sheet import LABELS
from coach.workspace.cycle import OUTCOME_KINDS, STAGES
from coach.workspace.exchange import IMPORT_STATES
from coach.workspace.review import FLAGS, STATES, VERDICTS
from coach.workspace.tokens import SCOPES

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


def day(value: date) -> str:
    """A calendar day as people write it: 2026年11月26日 (the same form as `jst`, without the time)."""
    return f"{value.year}年{value.month}月{value.day}日"


def number(value: float) -> str:
    """A measured value without a needless 「.0」: 120 → 「120」, 1234.5 → 「1,234.5」."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def iso_day(text: str) -> str:
    """「2026-04-03」 as 「2026年4月3日」; anything else as it is."""
    try:
        return day(date.fromisoformat(text))
    except ValueError:
        return text


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


def audit_summary(detail: dict[str, object]) -> str:
    """One line of Japanese for an audit entry's details."""
    d = detail
    if "token_created" in d:
        reach = "町全体" if d.get("reach") == "town" else d.get("reach")
        return f"API トークン「{d['token_created']}」を作成（{SCOPES.get(str(d.get('scope')), '')}・{reach}）"
    if "token_revoked" in d:
        return f"API トークン「{d['token_revoked']}」を取り消し"
    if "method" in d:
        return f"{d['method']} {d.get('path', '')}（このトークンの{d.get('calls', '?')}回目の呼び出し）"
    if "linked_to" in d:
        return f"相手：{d.get('other')}・問題：{d.get('label')}"
    if "rejected" in d:
        return f"相手：{d.get('other')}（似ているシートに出さない）"
    if "unlinked" in d:
        what = f"問題：{d.get('label')}" if d.get("was") == "linked" else "「違う問題」を取り消し"
        return f"相手：{d.get('other')}・{what}"
    if d.get("code"):
        field = LABELS.get(str(d.get("field")), str(d.get("field")))
        row = f"{int(d['item']) + 1}行目" if isinstance(d.get("item"), int) else ""  # type: ignore[call-overload]
        return f"{CODE_LABELS.get(str(d['code']), d['code'])}（{field}{row}）"
    if "file" in d:
        state = IMPORT_STATES.get(str(d.get("status")), "")
        return f"{d['file']}：新規 {d.get('created', 0)}{f'（{state}）' if state else ''}・更新 {d.get('updated', 0)}"
    if "created" in d:
        return f"アカウント {d['created']} を作成"
    if "password_reset" in d:
        return f"{d['password_reset']} のパスワードを再発行"
    if "password_changed" in d:
        return "自分のパスワードを変更"
    if "active" in d:
        return f"{d.get('login')} を{'再開' if d['active'] else '停止'}"
    if "sections_added" in d:
        return f"係を {d['sections_added']} 件追加"
    if "stage" in d:
        return f"{d['stage']}（{iso_day(str(d.get('on', '')))}）"
    if "themes" in d:
        return "テーマ：" + ("・".join(map(str, d["themes"])) or "なし")  # type: ignore[call-overload]
    if "added" in d or "removed" in d:
        return f"テーマ「{d.get('added') or d.get('removed')}」を{'追加' if 'added' in d else '削除'}"
    if "flags" in d:
        flags = [FLAGS.get(str(f), str(f)) for f in d["flags"]]  # type: ignore[attr-defined]
        return f"第{d.get('version')}版" + (f"（{'・'.join(flags)}）" if flags else "")
    if "kind" in d:
        value = d.get("value")
        shown = number(value) if isinstance(value, int | float) else value
        return f"{OUTCOME_KINDS.get(str(d['kind']), (d['kind'],))[0]} {shown}"
    return str(d.get("note") or d.get("body") or "")


def register(env) -> None:  # type: ignore[no-untyped-def]
    env.globals.update(LABELS=LABELS, HINTS=HINTS, CODE_LABELS=CODE_LABELS, KIND_LABELS=KIND_LABELS, SEVERITY=SEVERITY)
    env.globals.update(snippet=snippet, finding_source=finding_source, counts=counts, audit_summary=audit_summary,
                       heading=heading)
    env.globals.update(STATES=STATES, FLAGS=FLAGS, VERDICTS=VERDICTS, STAGES=STAGES, OUTCOME_KINDS=OUTCOME_KINDS)
    env.filters["jst"] = jst
    env.filters["jst_time"] = jst_time
    env.filters["day"] = day
    env.filters["number"] = number
    env.globals["engine_label"] = engine_label
