"""Prompts are files in coach/prompts/, rendered with StrictUndefined; their content fixes the version."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined

from coach.findings import CODES, FIELDS_OF, Code
from coach.sheet import Sheet

PROMPT_FILES = ("system.md.j2", "critique.md.j2", "fewshot.json")
# What each code means, for the model; which fields it may point at comes from FIELDS_OF.
_MEANINGS: dict[str, tuple[str, str]] = {  # code: (a note on the field, the meaning)
    "FIELD_EMPTY": ("", "その欄が空、または「なし」「〇〇」だけ"),
    "TOBE_MIRRORS_ASIS": ("", "あるべき姿が現状の裏返し（〜しない・なくなる・減る）で、誰がどんな状態かが新しく描かれていない"),
    "TOBE_VAGUE": ("", "あるべき姿が効率化・円滑化・向上などの抽象語に頼り、誰がどんな状態かが具体的でない"),
    "SOLUTION_IN_SHEET": ("", "システム・アプリ・AI・電子申請・デジタル化など解決の手段がその欄に書かれている"),
    "PROBLEM_NOT_GAP": ("（item に番号）", "問題が「〜する必要がある」「〜すべき」「〜を見直す」のような、やることの形"),
    "TASK_NOT_ACTIONABLE": ("（item に番号）", "課題が「〜が多い」「〜できていない」「〜が大変」のような状態・不満の形"),
    "PURPOSE_MISSING": ("", "目的が空、あるべき姿の言い換え、または誰のため・なぜが分からない標語"),
}


def _field_rule(code: Code) -> str:
    fields, note = FIELDS_OF[code], _MEANINGS[code][0]
    if len(fields) == 1:
        return f"field は必ず {fields[0]}{note}"
    return f"field は {'・'.join(fields)} のどれか{note}"


CODE_MEANINGS = [(code, f"{_field_rule(code)}。{_MEANINGS[code][1]}") for code in CODES]


def _read(name: str) -> str:
    return resources.files("coach").joinpath(f"prompts/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def prompt_version() -> str:
    """critique-<sha256 of everything rendered into the prompt>: the files, the code meanings and
    the budgets. Any edit to what the model reads changes it (and CI asks for a fresh eval)."""
    digest = hashlib.sha256()
    for name in PROMPT_FILES:
        digest.update(name.encode())
        digest.update(_read(name).encode())
    digest.update(json.dumps([CODE_MEANINGS, TEXT_BUDGET, ITEM_BUDGET, ITEMS_BUDGET], ensure_ascii=False).encode())
    return f"critique-{digest.hexdigest()[:12]}"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


# What is sent is bounded, so a long sheet cannot overflow a small model's context window.
TEXT_BUDGET, ITEM_BUDGET, ITEMS_BUDGET = 1200, 300, 8


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…（長いため省略）"


def sheet_block(sheet: Sheet | dict[str, Any], budget: float = 1.0) -> str:
    """The sheet as data for the model: one field a line, list items numbered from 0."""
    data = sheet.model_dump() if isinstance(sheet, Sheet) else sheet
    text, item = int(TEXT_BUDGET * budget), int(ITEM_BUDGET * budget)
    lines = [f"係名: {data['section']}", f"業務・案件名: {data['title']}", f"asis（現状）: {_cut(data['asis'], text)}",
             f"tobe（あるべき姿）: {_cut(data['tobe'], text)}", f"purpose（目的）: {_cut(data['purpose'], text)}"]
    lines += [f"problems[{i}]（問題）: {_cut(p, item)}" for i, p in enumerate(data["problems"][:ITEMS_BUDGET])]
    lines += [f"tasks[{i}]（課題）: {_cut(t, item)}" for i, t in enumerate(data["tasks"][:ITEMS_BUDGET])]
    # Tags the model could read as the end of the data are neutralised.
    return "\n".join(lines).replace("</sheet>", "</ sheet>").replace("</reference>", "</ reference>")


def render(sheet_text: str, references: list[str] | None = None) -> tuple[str, str]:
    """(system prompt, user prompt) for one critique. A missing variable raises."""
    examples = [
        {"sheet": sheet_block(e["sheet"] | {"margin": ""}), "answer": json.dumps(e["answer"], ensure_ascii=False)}
        for e in json.loads(_read("fewshot.json"))
    ]
    system = _env().from_string(_read("system.md.j2")).render(codes=CODE_MEANINGS)
    user = _env().from_string(_read("critique.md.j2")).render(
        examples=examples, references=references or [], sheet=sheet_text
    )
    return system, user
