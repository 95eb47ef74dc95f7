"""Every prompt renders; a missing variable is an error; the version follows the files' content."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from jinja2 import StrictUndefined, UndefinedError

from coach.llm import prompts
from coach.llm.schema import LLMCritique
from tests.conftest import make_sheet


def test_every_prompt_renders_with_the_method_codes_and_the_fenced_sheet() -> None:
    system, user = prompts.render(prompts.sheet_block(make_sheet()), [prompts.sheet_block(make_sheet(section="総務係"))])
    for code, _ in prompts.CODE_MEANINGS:
        assert code in system
    assert "欄外メモ" in system and "データ" in system and "勧めない" in system
    assert user.count("<sheet>") == 1 and user.count("<reference>") == 1
    assert "{{" not in system + user and "{%" not in system + user


def test_fewshot_answers_follow_the_schema() -> None:
    examples = json.loads(resources.files("coach").joinpath("prompts/fewshot.json").read_text("utf-8"))
    for example in examples:
        LLMCritique.model_validate(example["answer"])


def test_a_missing_variable_is_an_error() -> None:
    from jinja2 import Environment

    env = Environment(undefined=StrictUndefined)
    template = resources.files("coach").joinpath("prompts/critique.md.j2").read_text("utf-8")
    with pytest.raises(UndefinedError):
        env.from_string(template).render(examples=[], references=[])  # no sheet


def test_version_is_stable_and_follows_content(monkeypatch: pytest.MonkeyPatch) -> None:
    before = prompts.prompt_version()
    assert before == prompts.prompt_version() and before.startswith("critique-")
    prompts.prompt_version.cache_clear()
    original = prompts._read
    monkeypatch.setattr(prompts, "_read", lambda name: original(name) + ("\n" if name == "system.md.j2" else ""))
    assert prompts.prompt_version() != before
    prompts.prompt_version.cache_clear()


def test_version_covers_what_is_rendered_from_code(monkeypatch: pytest.MonkeyPatch) -> None:
    before = prompts.prompt_version()
    prompts.prompt_version.cache_clear()
    monkeypatch.setattr(prompts, "CODE_MEANINGS", [*prompts.CODE_MEANINGS[:-1], ("PURPOSE_MISSING", "変えた説明")])
    assert prompts.prompt_version() != before
    prompts.prompt_version.cache_clear()


def test_the_prompt_names_exactly_the_fields_the_guard_allows_for_each_code() -> None:
    """One table (coach.findings.FIELDS_OF): what the model is told is what the guard enforces."""
    import re

    from coach.findings import CODES, FIELDS_OF
    from coach.sheet import FIELDS as SHEET_FIELDS

    told = dict(prompts.CODE_MEANINGS)
    assert set(told) == set(CODES)
    for code in CODES:
        rule = told[code].split("。")[0]
        named = tuple(f for f in re.findall(r"[a-z]+", rule) if f in SHEET_FIELDS)
        assert named == FIELDS_OF[code], (code, rule)
