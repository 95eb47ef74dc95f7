"""The real openai client (through LangChain's ChatOpenAI) over HTTP against a scripted local server."""

from __future__ import annotations

import json

import pytest

from coach.llm.client import llm_from_settings
from coach.llm.critic import LLMUnavailable
from coach.settings import Settings
from tests.conftest import make_sheet
from tests.llm.conftest import content_reply, tool_reply

GOOD = json.dumps({"findings": [{"code": "TOBE_VAGUE", "field": "tobe", "item": None, "severity": "warning",
                                 "evidence": "20分ほどで役場を出られている", "message": "具体的にできそうです。",
                                 "question": "そのとき職員は何をしていますか？"}]}, ensure_ascii=False)


def make(url: str, method: str = "function_calling", timeout: float = 2.0):  # type: ignore[no-untyped-def]
    settings = Settings(llm_base_url=url, llm_model="stub-model", llm_api_key="sk-local", llm_timeout=timeout,
                        llm_structured=method)  # type: ignore[arg-type]
    critic = llm_from_settings(settings)
    assert critic is not None
    critic.backoff = 0.05
    return critic


def test_function_calling_round_trip(stub_llm) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", tool_reply(GOOD))]
    got = make(url).critique(make_sheet())
    assert [f.code for f in got.findings] == ["TOBE_VAGUE"]
    sent = script.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sk-local"
    assert sent["body"]["tools"][0]["function"]["name"] == "LLMCritique" and sent["body"]["model"] == "stub-model"


@pytest.mark.parametrize(("method", "expected"), [
    ("json_object_schema", {"type": "json_object"}),
    ("json_mode", {"type": "json_object"}),
])
def test_json_paths_send_the_right_response_format(stub_llm, method: str, expected: dict) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", content_reply("```json\n" + GOOD + "\n```"))]
    got = make(url, method).critique(make_sheet())
    assert len(got.findings) == 1
    fmt = script.requests[0]["body"]["response_format"]
    assert fmt["type"] == expected["type"]
    assert ("schema" in fmt) == (method == "json_object_schema")


def test_malformed_tool_arguments_are_retried_then_dropped(stub_llm) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", tool_reply('{"findings": [{"code": ')), ("json", tool_reply("not json at all"))]
    got = make(url).critique(make_sheet())
    assert got.findings == [] and got.invalid == 2 and len(script.requests) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
def test_server_errors_retry_once_then_unavailable(stub_llm, status: int) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("status", status), ("status", status)]
    with pytest.raises(LLMUnavailable):
        make(url).critique(make_sheet())
    assert len(script.requests) == 2


def test_a_server_error_then_success(stub_llm) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("status", 500), ("json", tool_reply(GOOD))]
    assert len(make(url).critique(make_sheet()).findings) == 1


def test_timeouts_and_slow_streams_end_in_unavailable(stub_llm) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("sleep", 2.0, tool_reply(GOOD)), ("trickle", 0.2, tool_reply(GOOD))]
    with pytest.raises(LLMUnavailable):
        make(url, timeout=0.5).critique(make_sheet())


def test_not_configured_means_rules_only() -> None:
    assert llm_from_settings(Settings()) is None


def test_the_whole_call_retries_included_ends_within_the_timeout() -> None:
    """A server that accepts the connection and never answers: the README promises at most
    COACH_LLM_TIMEOUT seconds for the whole call, retries and backoff included."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # read nothing, answer nothing
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        critic = make(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", timeout=1.0)
        critic.backoff = 1.0  # the default backoff: it must fit inside the same deadline
        started = time.monotonic()
        with pytest.raises(LLMUnavailable):
            critic.critique(make_sheet())
        assert time.monotonic() - started < 1.0 + 0.5
    finally:
        stop.set()
        thread.join(timeout=2)
        for s in held:
            s.close()
        listener.close()
