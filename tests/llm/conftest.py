"""A scripted OpenAI-compatible server on 127.0.0.1: the real openai client talks real HTTP to it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def tool_reply(arguments: str, name: str = "LLMCritique") -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "stub",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": None,
                "tool_calls": [{"id": "t1", "type": "function", "function": {"name": name, "arguments": arguments}}]}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def content_reply(content: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "stub",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class Script:
    """Each request takes the next step: ("json", body) | ("status", code) | ("sleep", s, body) | ("trickle", s, body)."""

    def __init__(self) -> None:
        self.steps: list[tuple[Any, ...]] = []
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def stub_llm() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            step = script.steps.pop(0) if script.steps else ("status", 500)
            try:
                if step[0] == "status":
                    payload = json.dumps({"error": {"message": "scripted", "type": "server_error"}}).encode()
                    self.send_response(step[1])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if step[0] == "sleep":
                    time.sleep(step[1])
                payload = json.dumps(step[-1], ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if step[0] == "trickle":  # a slow stream: a few bytes at a time
                    for i in range(0, len(payload), 16):
                        self.wfile.write(payload[i: i + 16])
                        self.wfile.flush()
                        time.sleep(step[1])
                else:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    server.shutdown()
