"""LLM problem tags (issue #14): the guard, and the tagger over real HTTP against a scripted
OpenAI-compatible server on 127.0.0.1 — closed list, masking, cache, and failure as an outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest

from coach.llm.cache import MemoryCache
from coach.llm.calling import InvalidOutput
from coach.llm.client import TAG_MAX_TOKENS, tagger_from_settings
from coach.llm.tagger import MAX_TAGS, ProblemTagger, guard, prompt_version, schema, system_prompt
from coach.retrieval.concepts import NAMES
from coach.settings import Settings
from tests.conftest import make_sheet
from tests.llm.conftest import content_reply, tool_reply
from tests.servers import free_port

PHONE, MINUTES, COUNTER = "問い合わせ対応の負担", "会議録・文字起こし", "窓口の待ち・たらい回し"


def make(url: str, method: str = "function_calling", timeout: float = 5.0, tags: bool = True) -> ProblemTagger:
    settings = Settings(llm_base_url=url, llm_model="stub-model", llm_timeout=timeout, llm_tags=tags,
                        llm_structured=method)  # type: ignore[arg-type]
    tagger = tagger_from_settings(settings)
    assert tagger is not None
    return tagger


def tags_reply(*tags: Any) -> dict[str, Any]:
    return tool_reply(json.dumps({"tags": list(tags)}, ensure_ascii=False), name="problem_tags")


def test_the_guard_keeps_only_names_of_the_list_each_once_at_most_three() -> None:
    assert guard({"tags": [PHONE, "電話が多い", PHONE, " " + MINUTES + " ", 7, None]}) == (PHONE, MINUTES)
    assert guard({"tags": list(NAMES[:6])}) == NAMES[:MAX_TAGS]
    assert guard({"tags": []}) == ()


@pytest.mark.parametrize("garbage", [None, "tags", ["問い合わせ対応の負担"], {"tag": [PHONE]}, {"tags": PHONE},
                                     {"tags": {"0": PHONE}}])
def test_an_answer_outside_the_schema_is_invalid(garbage: Any) -> None:
    with pytest.raises(InvalidOutput):
        guard(garbage)


def test_invalid_output_and_exceptions_mean_no_tags_never_an_exception() -> None:
    def garbage(system: str, user: str) -> Any:
        return "I think it is about phones"

    def broken(system: str, user: str) -> Any:
        raise ConnectionError("refused")

    invalid = ProblemTagger(garbage, "m").tag(make_sheet())
    assert (invalid.tags, invalid.outcome, invalid.answered) == ((), "invalid", True)
    down = ProblemTagger(broken, "m").tag(make_sheet())
    assert (down.tags, down.outcome, down.answered) == ((), "unavailable", False)


def test_the_prompt_lists_every_concept_and_its_version_follows_it() -> None:
    prompt = system_prompt()
    assert all(f"- {name}:" in prompt for name in NAMES)
    assert prompt_version().startswith("tags-")
    assert schema()["properties"]["tags"]["items"]["enum"] == list(NAMES)


def test_function_calling_round_trip_over_http(stub_llm) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", tags_reply(COUNTER, "存在しない問題", PHONE))]
    got = make(url).tag(make_sheet())
    assert (got.tags, got.outcome) == ((COUNTER, PHONE), "ok")
    body = script.requests[0]["body"]
    tool = body["tools"][0]["function"]
    assert tool["name"] == "problem_tags" and tool["parameters"]["properties"]["tags"]["items"]["enum"] == list(NAMES)
    assert body.get("max_completion_tokens", body.get("max_tokens")) == TAG_MAX_TOKENS  # a short answer
    user = body["messages"][-1]["content"]
    sheet = make_sheet()
    assert sheet.asis in user and sheet.problems[0] in user
    assert sheet.tobe not in user and sheet.tasks[0] not in user  # only the fields that carry the problem


def test_the_json_path_sends_the_closed_list_as_the_schema(stub_llm) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", content_reply('```json\n{"tags": ["' + MINUTES + '"]}\n```'))]
    got = make(url, "json_object_schema").tag(make_sheet())
    assert got.tags == (MINUTES,)
    fmt = script.requests[0]["body"]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["properties"]["tags"]["maxItems"] == MAX_TAGS


def test_personal_data_is_masked_and_answers_are_cached(stub_llm) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", tags_reply(PHONE))]
    tagger = make(url)
    tagger.cache = MemoryCache()
    sheet = make_sheet(asis="山田太郎さんから 090-1234-5678 に問い合わせの電話が毎日来る。")
    first, second = tagger.tag(sheet), tagger.tag(sheet)
    assert len(script.requests) == 1 and (first.outcome, second.outcome) == ("ok", "cached")
    assert first.tags == second.tags == (PHONE,)
    sent = json.dumps(script.requests[0]["body"], ensure_ascii=False)
    assert "山田" not in sent and "090-1234-5678" not in sent and "［電話1］" in sent


def test_a_dead_endpoint_or_a_server_error_is_an_outcome(stub_llm) -> None:  # type: ignore[no-untyped-def]
    dead = make(f"http://127.0.0.1:{free_port()}/v1", timeout=2.0).tag(make_sheet())
    assert (dead.tags, dead.outcome) == ((), "unavailable")
    url, script = stub_llm
    script.steps = [("status", 500)]
    failed = make(url).tag(make_sheet())
    assert (failed.tags, failed.outcome) == ((), "unavailable")
    script.steps = [("sleep", 2.0, tags_reply(PHONE))]
    slow = make(url, timeout=0.5).tag(make_sheet(title="別のシート"))
    assert slow.outcome == "unavailable"


def test_no_tagger_without_a_model_or_without_the_setting() -> None:
    assert tagger_from_settings(Settings(llm_tags=True)) is None
    assert tagger_from_settings(Settings(llm_model="m", llm_base_url="http://127.0.0.1:9/v1")) is None
