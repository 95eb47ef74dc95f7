"""Getting a typed answer out of a chat model, by whichever strict path its server accepts.

- function_calling: tool calls (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp's server)
- json_schema:      OpenAI's structured outputs (llama.cpp's server answers HTTP 500 to it)
- json_object_schema: response_format json_object with a schema (llama.cpp enforces it by grammar)
- json_mode:        plain JSON mode; the schema is only in the prompt
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import ValidationError

from coach.llm.schema import LLMCritique

Method = Literal["function_calling", "json_schema", "json_object_schema", "json_mode"]
Caller = Callable[[str, str], LLMCritique]


class InvalidOutput(ValueError):
    """The model answered, but not in the schema. Retried once, then dropped; never shown."""


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_content(content: Any) -> LLMCritique:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    text = _FENCE.sub("", text.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise InvalidOutput("no JSON object in the answer")
    try:
        return LLMCritique.model_validate_json(text[start: end + 1])
    except ValidationError as exc:
        raise InvalidOutput(str(exc)) from exc


def caller(chat: BaseChatModel, method: Method) -> Caller:
    def messages(system: str, user: str) -> list[Any]:
        return [SystemMessage(system), HumanMessage(user)]

    if method in ("function_calling", "json_schema"):
        runnable = chat.with_structured_output(LLMCritique, method=method, include_raw=True)

        def call(system: str, user: str) -> LLMCritique:
            out = runnable.invoke(messages(system, user))
            parsed = out.get("parsed") if isinstance(out, dict) else None
            if isinstance(parsed, LLMCritique):
                return parsed
            if isinstance(parsed, dict):
                try:
                    return LLMCritique.model_validate(parsed)
                except ValidationError as exc:
                    raise InvalidOutput(str(exc)) from exc
            raise InvalidOutput(str(out.get("parsing_error") if isinstance(out, dict) else "no answer"))

        return call

    if method == "json_object_schema":
        bound = chat.bind(response_format={"type": "json_object", "schema": LLMCritique.model_json_schema()})
    else:
        bound = chat.bind(response_format={"type": "json_object"})

    def call_json(system: str, user: str) -> LLMCritique:
        return parse_content(bound.invoke(messages(system, user)).content)

    return call_json


def plain_caller(chat: BaseChatModel) -> Caller:
    """No response_format at all: for fakes in unit tests and servers without JSON mode."""

    def call(system: str, user: str) -> LLMCritique:
        return parse_content(chat.invoke([SystemMessage(system), HumanMessage(user)]).content)

    return call


RawCaller = Callable[[str, str], Any]


def parse_object(content: Any) -> dict[str, Any]:
    """The JSON object in a model's text answer (fences and prose around it ignored)."""
    if isinstance(content, dict):
        return content
    text = _FENCE.sub("", (content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)).strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise InvalidOutput("no JSON object in the answer")
    try:
        value = json.loads(text[start: end + 1])
    except ValueError as exc:
        raise InvalidOutput(str(exc)) from exc
    if not isinstance(value, dict):
        raise InvalidOutput("the answer is not a JSON object")
    return value


def schema_caller(chat: BaseChatModel, method: Method, schema: dict[str, Any]) -> RawCaller:
    """Like `caller`, for a JSON schema given as a dict: the answer comes back as a plain dict, unchecked
    (the caller's guard decides what of it to keep)."""
    def messages(system: str, user: str) -> list[Any]:
        return [SystemMessage(system), HumanMessage(user)]

    if method in ("function_calling", "json_schema"):
        runnable = chat.with_structured_output(schema, method=method, include_raw=True)

        def call(system: str, user: str) -> dict[str, Any]:
            out = runnable.invoke(messages(system, user))
            parsed = out.get("parsed") if isinstance(out, dict) else None
            if isinstance(parsed, dict):
                return parsed
            raise InvalidOutput(str(out.get("parsing_error") if isinstance(out, dict) else "no answer"))

        return call

    fmt: dict[str, Any] = {"type": "json_object"}
    if method == "json_object_schema":
        fmt["schema"] = schema
    bound = chat.bind(response_format=fmt)

    def call_json(system: str, user: str) -> dict[str, Any]:
        return parse_object(bound.invoke(messages(system, user)).content)

    return call_json
