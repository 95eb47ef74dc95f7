"""Building the LLM critic from settings: LangChain's ChatOpenAI over the openai client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.llm.cache import AnswerCache
from coach.llm.calling import caller
from coach.llm.critic import LLMCritic
from coach.settings import Settings

if TYPE_CHECKING:
    from coach.llm.tagger import ProblemTagger

TAG_MAX_TOKENS = 96  # three names from the list and the JSON around them


def llm_from_settings(settings: Settings, cache: AnswerCache | None = None) -> LLMCritic | None:
    """None when no model is configured: the product then runs on the rules alone. Without `cache`
    the answers are remembered in this process only (the web service passes the database's)."""
    if not settings.llm_enabled():
        return None
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    chat = ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url or None,
        api_key=SecretStr(settings.llm_api_key or "not-needed"),  # local servers accept any key
        timeout=settings.llm_timeout,
        max_retries=0,  # our critic retries once with backoff and keeps a circuit breaker
        temperature=0,
    )
    return LLMCritic(caller(chat, settings.llm_structured), settings.llm_model, mask_pii=settings.llm_mask_pii,
                     deadline=settings.llm_timeout, cache=cache)


def tagger_from_settings(settings: Settings, cache: AnswerCache | None = None) -> ProblemTagger | None:
    """The LLM problem tagger (issue #14) when a model is configured and COACH_LLM_TAGS is on; else None."""
    if not (settings.llm_enabled() and settings.llm_tags):
        return None
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    from coach.llm.calling import schema_caller
    from coach.llm.tagger import ProblemTagger, schema

    chat = ChatOpenAI(model=settings.llm_model, base_url=settings.llm_base_url or None,
                      api_key=SecretStr(settings.llm_api_key or "not-needed"), timeout=settings.llm_timeout,
                      max_retries=0, temperature=0, max_completion_tokens=TAG_MAX_TOKENS)
    return ProblemTagger(schema_caller(chat, settings.llm_structured, schema()), settings.llm_model,
                         deadline=settings.llm_timeout, mask_pii=settings.llm_mask_pii, cache=cache)
