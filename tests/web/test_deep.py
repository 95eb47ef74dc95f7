"""「AIコーチに聞く」 with a fake model: progress over SSE, the result, cancel, no-JS, failures."""

from __future__ import annotations

import json
import threading

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from coach.llm.calling import plain_caller
from coach.llm.critic import LLMCritic
from tests.conftest import logged_in, sheet_data

EXTRA = {"findings": [{"code": "TOBE_VAGUE", "field": "tobe", "item": None, "severity": "warning",
                       "evidence": "20分ほどで役場を出られている", "message": "職員の様子も描けそうです。",
                       "question": "そのとき窓口の職員は何をしていますか？"},
                      {"code": "TOBE_VAGUE", "field": "purpose", "item": None, "severity": "warning",
                       "evidence": "安心して", "message": "RPAを入れるとよいです。", "question": "どうですか？"}]}


# An abstract word beside a concrete picture: the rules hold back, so the LLM may add TOBE_VAGUE here.
DATA = sheet_data(tobe="窓口業務が効率化され、転入した住民が20分ほどで役場を出られている。")


@pytest.fixture
def client(client: TestClient) -> TestClient:
    """These pages are used by section staff of 住民窓口係, logged in from a town PC."""
    return logged_in(client.app, "madoguchi", "staff", "住民窓口係")


def with_llm(client: TestClient, *replies: str, gate: threading.Event | None = None) -> None:
    inner = plain_caller(GenericFakeChatModel(messages=iter([AIMessage(r) for r in replies])))

    def call(system: str, user: str):  # type: ignore[no-untyped-def]
        if gate is not None:
            gate.wait(10)
        return inner(system, user)

    client.app.state.services.critic.llm = LLMCritic(call, "fake-model", backoff=0)  # type: ignore[attr-defined]


def new(client: TestClient) -> int:
    return int(client.post("/api/v1/sheets", json=DATA).json()["id"])


def soup(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def test_without_llm_the_page_says_rules_only(client: TestClient) -> None:
    page = soup(client.get(f"/sheets/{new(client)}").text)
    assert page.select_one("#deep [data-state=off]") is not None
    assert page.select_one("#deep button") is None


def test_ask_streams_progress_then_the_guarded_result(client: TestClient) -> None:
    gate = threading.Event()
    with_llm(client, json.dumps(EXTRA, ensure_ascii=False), gate=gate)
    sid = new(client)
    page = soup(client.get(f"/sheets/{sid}").text)
    assert page.select_one("#deep button[value=deep]").text == "AIコーチに聞く"
    started = soup(client.post(f"/sheets/{sid}/deep", data=DATA, headers={"HX-Request": "true"}).text)
    section = started.select_one("#deep")
    assert section["hx-ext"] == "sse" and section["sse-close"] == "done"
    events_url = section["sse-connect"]
    events: list[str] = []
    done_lines: list[str] = []
    with client.stream("GET", events_url) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
                if events[-1] == "progress":
                    gate.set()
            elif line.startswith("data:") and events[-1:] == ["done"]:
                done_lines.append(line[5:])
    assert events[0] == "progress" and events[-1] == "done"
    done = soup("\n".join(done_lines))
    extra = done.select("[data-source=llm]")
    assert [e["data-code"] for e in extra] == ["TOBE_VAGUE"]  # the pushy one was stopped by the guard
    assert "RPA" not in done.text


def test_cancel(client: TestClient) -> None:
    gate = threading.Event()
    with_llm(client, json.dumps(EXTRA, ensure_ascii=False), gate=gate)
    sid = new(client)
    started = soup(client.post(f"/sheets/{sid}/deep", data=DATA, headers={"HX-Request": "true"}).text)
    cancel_url = started.select_one("#deep button")["hx-post"]
    cancelled = soup(client.post(cancel_url, headers={"HX-Request": "true"}).text)
    gate.set()
    assert cancelled.select_one("#deep [data-state=cancelled]") is not None


def test_without_javascript_the_same_button_waits_and_shows_the_page(client: TestClient) -> None:
    with_llm(client, json.dumps(EXTRA, ensure_ascii=False))
    sid = new(client)
    page = soup(client.post(f"/sheets/{sid}", data={**DATA, "op": "deep"}).text)
    assert page.select_one("header") is not None
    assert [e["data-code"] for e in page.select("#deep [data-source=llm]")] == ["TOBE_VAGUE"]


def test_llm_failure_keeps_rules_and_says_so(client: TestClient) -> None:
    def broken(system: str, user: str):  # type: ignore[no-untyped-def]
        raise ConnectionError("refused")

    client.app.state.services.critic.llm = LLMCritic(broken, "fake-model", backoff=0)  # type: ignore[attr-defined]
    sid = new(client)
    page = soup(client.post(f"/sheets/{sid}", data={**sheet_data(purpose="効率化のため"), "op": "deep"}).text)
    assert "つながりません" in page.select_one("#deep .notice").text
    assert page.select_one("#fb-purpose .finding")["data-code"] == "PURPOSE_MISSING"
    assert client.get(f"/api/v1/sheets/{sid}").json()["purpose"] == "効率化のため"  # the draft was kept


def test_what_the_ai_coach_added_at_submit_is_on_the_review_page(client: TestClient) -> None:
    with_llm(client, json.dumps(EXTRA))
    sid = new(client)
    client.post(f"/sheets/{sid}", data={**DATA, "op": "submit"})
    review = client.app.state.services.reviews.get(sid)  # type: ignore[attr-defined]
    assert review.engine == "rules+llm:fake-model" and not review.flagged  # a warning is not a flag
    dx = logged_in(client.app, "dxteam", "dx", None)
    page = soup(dx.get(f"/review/{sid}").text)
    added = page.select_one("#rv-tobe .finding[data-code=TOBE_VAGUE]")
    assert added is not None and "AIコーチ" in added.select_one(".pill-ai").text
    assert page.select_one("#rv-purpose .finding") is None  # the guard dropped the tool proposal
    assert dx.post(f"/review/{sid}/findings", data={"code": "TOBE_VAGUE", "field": "tobe", "item": "",
                                                    "verdict": "confirmed"}, follow_redirects=False).status_code == 303
    client.post(f"/sheets/{sid}", data={**DATA, "asis": "書き換えた"})  # changed after submitting
    page = soup(dx.get(f"/review/{sid}").text)
    assert page.select_one("#rv-tobe .finding[data-code=TOBE_VAGUE]") is None
    assert "今の内容へのルールの講評" in page.text
