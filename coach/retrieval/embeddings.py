"""Embedding functions registered with Chroma (chromadb 1.x protocol), so a collection reopens in
a new process without anyone passing the function by hand. The default works with no network and
no model; the OpenAI-compatible one talks to the endpoint the settings name."""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from collections import Counter
from typing import Any, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from coach.retrieval.concepts import CONCEPTS_VERSION, concept_vector

_NOISE = re.compile(r"[\s、。，．・「」『』（）()\[\]【】!！?？:：;；/／\-‐ー―…]+")
_DIGITS = re.compile(r"\d+")


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGITS.sub("0", text)
    return _NOISE.sub(" ", text)


def _bucket(gram: str, dim: int) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "little")
    return h % dim, (1.0 if (h >> 63) & 1 else -1.0)


class _Cosine:
    """Every function here is compared by cosine (Chroma's hnsw space is set to match)."""

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]


@register_embedding_function
class CharNgramEmbedding(_Cosine, EmbeddingFunction[Documents]):
    """Hashed character n-grams with log term frequency: stateless, ~0.1 ms a text, no model."""

    def __init__(self, ngrams: tuple[int, ...] | list[int] = (2, 3), dim: int = 2048) -> None:
        self.ngrams = tuple(int(n) for n in ngrams)
        self.dim = int(dim)

    def __call__(self, input: Documents) -> Embeddings:
        out = np.zeros((len(input), self.dim), dtype=np.float32)
        for row, text in enumerate(input):
            counts: Counter[str] = Counter()
            for chunk in _prepare(text).split():
                for n in self.ngrams:
                    counts.update(chunk[i: i + n] for i in range(max(0, len(chunk) - n + 1)))
            for gram, tf in counts.items():
                index, sign = _bucket(gram, self.dim)
                out[row, index] += sign * (1.0 + math.log(tf))
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return [v for v in out]

    @staticmethod
    def name() -> str:
        return "coach-char-ngram"

    def get_config(self) -> dict[str, Any]:
        return {"ngrams": list(self.ngrams), "dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CharNgramEmbedding:
        return CharNgramEmbedding(ngrams=config.get("ngrams", [2, 3]), dim=config.get("dim", 2048))


@register_embedding_function
class ProblemNgramEmbedding(_Cosine, EmbeddingFunction[Documents]):
    """The offline default: character n-grams beside the town's recurring-problem concepts.

    cosine(concat(√w·a, √(1−w)·b)) = w·cos(a) + (1−w)·cos(b): one vector, two channels.
    Chosen by the retrieval eval (see README); `concepts_version` changes when the lexicon does,
    which makes a new collection and asks for `coach reindex`.
    """

    def __init__(self, dim: int = 2048, concept_weight: float = 0.5, concepts_version: int = CONCEPTS_VERSION) -> None:
        self.char = CharNgramEmbedding(dim=dim)
        self.concept_weight = float(concept_weight)
        self.concepts_version = int(concepts_version)

    def __call__(self, input: Documents) -> Embeddings:
        a = math.sqrt(1.0 - self.concept_weight)
        b = math.sqrt(self.concept_weight)
        out: list[np.ndarray] = []
        for text, chars in zip(input, self.char(input), strict=True):
            joined = np.concatenate([a * np.asarray(chars, dtype=np.float32), b * concept_vector(text)])
            norm = float(np.linalg.norm(joined))
            # A sheet with no known concept is all n-grams: unit length keeps scores comparable.
            out.append((joined / norm if norm else joined).astype(np.float32))
        return cast(Embeddings, out)

    @staticmethod
    def name() -> str:
        return "coach-problem-ngram"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.char.dim, "concept_weight": self.concept_weight, "concepts_version": self.concepts_version}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ProblemNgramEmbedding:
        return ProblemNgramEmbedding(dim=config.get("dim", 2048), concept_weight=config.get("concept_weight", 0.5),
                                     concepts_version=config.get("concepts_version", CONCEPTS_VERSION))


@register_embedding_function
class OpenAICompatibleEmbedding(_Cosine, EmbeddingFunction[Documents]):
    """Any OpenAI-compatible /embeddings endpoint (OpenAI, Azure OpenAI, a local server).

    The API key is never stored in the collection's config: only the name of the variable holding it.
    """

    def __init__(self, model: str, base_url: str | None = None, api_key_env: str = "COACH_EMBEDDING_API_KEY",
                 timeout: float = 30.0) -> None:
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout = timeout

    def _client(self) -> Any:
        from openai import OpenAI

        return OpenAI(base_url=self.base_url, api_key=os.environ.get(self.api_key_env) or "not-needed",
                      timeout=self.timeout, max_retries=1)

    def __call__(self, input: Documents) -> Embeddings:
        response = self._client().embeddings.create(model=self.model, input=list(input))
        data = sorted(response.data, key=lambda d: d.index)
        return [np.asarray(d.embedding, dtype=np.float32) for d in data]

    @staticmethod
    def name() -> str:
        return "coach-openai-compatible"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, "api_key_env": self.api_key_env}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAICompatibleEmbedding:
        return OpenAICompatibleEmbedding(model=config["model"], base_url=config.get("base_url"),
                                         api_key_env=config.get("api_key_env", "COACH_EMBEDDING_API_KEY"))
