"""Prompts are files in coach/prompts/, rendered with StrictUndefined; their content fixes the version."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined

from coach.sheet import Sheet

PROMPT_FILES = ("system.md.j2", "critique.md.j2", "fewshot.json")
CODE_MEANINGS = [
    ("FIELD_EMPTY", "現状・あるべき姿・問題・課題のどれかが空、または「なし」「〇〇」だけ"),
    ("TOBE_MIRRORS_ASIS", "あるべき姿が現状の裏返し（〜しない・なくなる・減る）で、誰がどんな状態かが新しく描かれていない"),
    ("TOBE_VAGUE", "あるべき姿が効率化・円滑化・向上などの抽象語に頼り、誰がどんな状態かが具体的でない"),
    ("SOLUTION_IN_SHEET", "システム・アプリ・AI・電子申請・デジタル化など解決の手段がシートの中に書かれている"),
    ("PROBLEM_NOT_GAP", "問題が「〜する必要がある」「〜すべき」「〜を見直す」のような、やることの形で書かれている"),
    ("TASK_NOT_ACTIONABLE", "課題が「〜が多い」「〜できていない」「〜が大変」のような状態・不満の形で書かれている"),
    ("PURPOSE_MISSING", "目的が空、あるべき姿の言い換え、または誰のため・なぜが分からない標語"),
]


def _read(name: str) -> str:
    return resources.files("coach").joinpath(f"prompts/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def prompt_version() -> str:
    """critique-<sha256 of every prompt file>: any edit to a prompt changes it."""
    digest = hashlib.sha256()
    for name in PROMPT_FILES:
        digest.update(name.encode())
        digest.update(_read(name).encode())
    return f"critique-{digest.hexdigest()[:12]}"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def sheet_block(sheet: Sheet | dict[str, Any]) -> str:
    """The sheet as data for the model: one field a line, list items numbered from 0."""
    data = sheet.model_dump() if isinstance(sheet, Sheet) else sheet
    lines = [f"係名: {data['section']}", f"業務・案件名: {data['title']}", f"asis（現状）: {data['asis']}",
             f"tobe（あるべき姿）: {data['tobe']}", f"purpose（目的）: {data['purpose']}"]
    lines += [f"problems[{i}]（問題）: {p}" for i, p in enumerate(data["problems"])]
    lines += [f"tasks[{i}]（課題）: {t}" for i, t in enumerate(data["tasks"])]
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
