"""What the rule critic says, in polite Japanese. It quotes the author, asks, and never names a tool."""

from __future__ import annotations

from coach.critics.forms import Form
from coach.quotes import quote as _q
from coach.sheet import LABELS


def field_empty(field: str) -> tuple[str, str]:
    label = LABELS[field]
    questions = {
        "asis": "今、この仕事は誰が、いつ、何を使って、どのくらいの時間や件数で行っていますか？",
        "tobe": "この仕事がうまくいっている日、住民や職員は誰がどんな様子になっていますか？",
        "problems": "現状とあるべき姿を見比べたとき、その間に立ちはだかっているものは何ですか？",
        "tasks": "問題を埋めるために、まず係として何に取り組みますか？",
    }
    return (f"「{label}」がまだ書かれていません。", questions[field])


def tobe_mirrors(evidence: str) -> tuple[str, str]:
    return (
        f"あるべき姿「{_q(evidence)}」は、現状を裏返した書き方になっています。"
        "「〜しない」「〜がなくなる」だけでは、理想の様子が見えてきません。",
        "それが実現したとき、誰が、どんな状態になっていますか？ その日の様子を思い浮かべて書いてみてください。",
    )


def tobe_vague(words: list[str]) -> tuple[str, str]:
    shown = "」「".join(_q(w) for w in words[:3])
    return (
        f"あるべき姿が「{shown}」のような抽象的な言葉に頼っています。"
        "誰がどんな状態になるのかが、読む人によって違って見えてしまいます。",
        "それが実現したら、誰の、何が、どう変わっていますか？ 見て確かめられる様子や数字で言うとどうなりますか？",
    )


def solution(field: str, evidence: str) -> tuple[str, str]:
    label = LABELS[field]
    if field == "tobe":
        question = "その手段を使った結果、住民や職員はどんな状態になっていますか？"
    elif field == "problems":
        question = "その手段がないことで、今、誰が、何に困っていますか？"
    else:
        question = "手段を決める前に、係として確かめたり決めたりしておくことは何ですか？"
    return (
        f"{label}に「{_q(evidence)}」と解決の手段が書かれています。"
        "手段はシートの外（欄外メモ）に置き、シートには状態と取り組みを書きましょう。",
        question,
    )


def problem_not_gap(evidence: str, form: Form = Form.ACTION) -> tuple[str, str]:
    shape = {Form.OBLIGATION: "「しなければならないこと」", Form.WISH: "「したいこと」"}.get(form, "「やること」")
    return (
        f"問題「{_q(evidence)}」は{shape}の形になっています。"
        "問題には、現状とあるべき姿の間にある「ずれ」を事実や状態として書きます。",
        "それが必要なのは、今どんな状態になっているからですか？",
    )


def task_not_actionable(evidence: str, form: Form = Form.STATE) -> tuple[str, str]:
    if form is Form.WISH:
        return (
            f"課題「{_q(evidence)}」は願い（〜したい）の形で、まだ取り組みになっていません。"
            "課題には、係が実際にすることを「〜する」の形で書きます。",
            "そのために、係として最初に何をしますか？ いつ、誰が行いますか？",
        )
    return (
        f"課題「{_q(evidence)}」は困りごと（状態）の形になっています。"
        "課題には、問題を埋めるために係が取り組むことを「〜する」の形で書きます。",
        "この状態を変えるために、係として最初に何をしますか？",
    )


def purpose_missing(kind: str, evidence: str) -> tuple[str, str]:
    if kind == "empty":
        message = "目的（あるべき姿が実現すると、なぜ良いのか）がまだ書かれていません。"
    elif kind == "request":
        message = f"目的「{_q(evidence)}」は質問やお願いの形になっていて、あるべき姿が実現するとなぜ良いのかが書かれていません。"
    elif kind == "restates":
        message = f"目的「{_q(evidence)}」が、あるべき姿の言い換えになっています。"
    else:
        message = f"目的「{_q(evidence)}」は標語のような書き方で、誰のために、なぜ良いのかが伝わりません。"
    return (message, "あるべき姿が実現すると、誰が、どんなふうに助かりますか？ それはなぜ大切ですか？")


def encouragement() -> tuple[str, str]:
    return (
        "よく書けています。現状・あるべき姿・問題・課題がそれぞれの役割で書き分けられています。",
        "他の係のシートと見比べて、同じ問題を抱えている係がないか確かめてみましょう。",
    )
