"""Building the LLM critic from settings: LangChain's ChatOpenAI over the openai client."""

from __future__ import annotations

from coach.llm.cache import AnswerCache
from coach.llm.calling import caller
from coach.llm.critic import LLMCritic
from coach.settings import Settings


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
