"""The LLM's calls are logged for operators with duration and outcome, never with the sheet's words."""

from __future__ import annotations

import json

from tests.conftest import make_sheet
from tests.llm.test_http import GOOD, make, tool_reply


def test_llm_calls_are_logged_with_duration_and_outcome_but_never_the_text(stub_llm, json_logs) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", tool_reply(GOOD))]
    sheet = make_sheet()
    make(url).critique(sheet)
    calls = [line for line in json_logs() if line["logger"] == "coach.llm"]
    assert calls and calls[-1]["outcome"] == "ok" and calls[-1]["model"] == "stub-model"
    assert calls[-1]["duration_ms"] >= 0
    logged = json.dumps(calls, ensure_ascii=False)
    for words in (sheet.tobe[:10], sheet.asis[:10], "20分ほどで役場を出られている", "そのとき職員は"):
        assert words not in logged
