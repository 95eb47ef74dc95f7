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
from functools import lru_cache
from typing import Any, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from coach.retrieval.concepts import CONCEPTS_VERSION, LEXICON, Lexicon
from coach.retrieval.texts import plain_text, split_fields, tags_of

_NOISE = re.compile(r"[\s、。，．・「」『』（）()\[\]【】!！?？:：;；/／\-‐ー―…]+")
_DIGITS = re.compile(r"\d+")


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGITS.sub("0", text)
    return _NOISE.sub(" ", text)


@lru_cache(maxsize=1 << 16)
def _bucket(gram: str, dim: int) -> tuple[int, float]:
    """The gram's index and sign in a vector of `dim` (a hash: the same on every machine). Remembered:
    a town's sheets share most of their character bigrams and trigrams, and hashing was most of the
    panel's embedding time."""
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
        return [self.weighted([(plain_text(text), 1.0)]) for text in input]

    def weighted(self, parts: list[tuple[str, float]]) -> np.ndarray:
        """Σ weight × log-tf vector of each part, L2-normalised."""
        out = np.zeros(self.dim, dtype=np.float32)
        for text, weight in parts:
            if weight <= 0 or not text:
                continue
            counts: Counter[str] = Counter()
            for chunk in _prepare(text).split():
                for n in self.ngrams:
                    counts.update(chunk[i: i + n] for i in range(max(0, len(chunk) - n + 1)))
            for gram, tf in counts.items():
                index, sign = _bucket(gram, self.dim)
                out[index] += weight * sign * (1.0 + math.log(tf))
        norm = float(np.linalg.norm(out))
        return out / norm if norm else out

    @staticmethod
    def name() -> str:
        return "coach-char-ngram"

    def get_config(self) -> dict[str, Any]:
        return {"ngrams": list(self.ngrams), "dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CharNgramEmbedding:
        return CharNgramEmbedding(ngrams=config.get("ngrams", [2, 3]), dim=config.get("dim", 2048))


# Version 2 of the default, chosen on the tuning sets (README): the fields that state the problem
# (title, AsIs, problems) count fully; ToBe, purpose and tasks describe the wish and add noise.
CHAR_FIELD_WEIGHTS = {"title": 1.0, "asis": 1.0, "problems": 1.0, "tobe": 0.5, "purpose": 0.5, "tasks": 0.5}
CONCEPT_FIELD_WEIGHTS = {"title": 1.0, "asis": 1.0, "problems": 1.0, "tobe": 0.3, "purpose": 0.3, "tasks": 0.3}
UNIFORM = dict.fromkeys(CHAR_FIELD_WEIGHTS, 1.0)
# The concept channel's share of the cosine. 0.5 with the version 2 lexicon; 0.3 with version 3, chosen
# on the tuning sets (main, holdout, dev2, dev3: README "Similar sheets"), never on held-out sets 2 and 3.
CONCEPT_WEIGHT = 0.3


def _parts(text: str, weights: dict[str, float]) -> list[tuple[str, float]]:
    fields = split_fields(text)
    if fields is None:
        return [(text, 1.0)]
    return [(fields[name], weights.get(name, 1.0)) for name in fields if name != "tags"]


@register_embedding_function
class ProblemNgramEmbedding(_Cosine, EmbeddingFunction[Documents]):
    """The offline default: character n-grams beside the recurring-problem concepts, fields weighted.

    cosine(concat(√w·a, √(1−w)·b)) = w·cos(a) + (1−w)·cos(b): one vector, two channels.
    Chosen by the retrieval eval (see README); `concepts_version` changes when the lexicon does,
    which makes a new collection and asks for `coach reindex`.

    `tags_version` (the LLM tagger's, coach/llm/tagger.py; empty: tags off): a text's LLM problem tags
    count in the concept channel with `tag_weight`, like a signal word found in a main field. It is
    in the config only when set, so a collection made without tags keeps its name.
    """

    def __init__(self, dim: int = 2048, concept_weight: float = CONCEPT_WEIGHT, concepts_version: int = CONCEPTS_VERSION,
                 char_fields: dict[str, float] | None = None, concept_fields: dict[str, float] | None = None,
                 tags_version: str = "", tag_weight: float = 1.0, lexicon: Lexicon | None = None) -> None:
        self.char = CharNgramEmbedding(dim=dim)
        # Another lexicon only for the method comparison (evals/compare_retrieval.py); not in the config,
        # so never for a collection.
        self.lexicon = LEXICON if lexicon is None else lexicon
        self.concept_weight = float(concept_weight)
        self.concepts_version = int(concepts_version)
        self.char_fields = dict(CHAR_FIELD_WEIGHTS if char_fields is None else char_fields)
        self.concept_fields = dict(CONCEPT_FIELD_WEIGHTS if concept_fields is None else concept_fields)
        self.tags_version = str(tags_version)
        self.tag_weight = float(tag_weight)

    def one(self, text: str) -> np.ndarray:
        a = math.sqrt(1.0 - self.concept_weight)
        b = math.sqrt(self.concept_weight)
        chars = self.char.weighted(_parts(text, self.char_fields))
        tags = {tag: self.tag_weight for tag in tags_of(text)} if self.tags_version else {}
        joined = np.concatenate([a * chars, b * self.lexicon.vector(_parts(text, self.concept_fields), tags)])
        norm = float(np.linalg.norm(joined))
        # A sheet with no known concept is all n-grams: unit length keeps scores comparable.
        return (joined / norm if norm else joined).astype(np.float32)

    def __call__(self, input: Documents) -> Embeddings:
        return cast(Embeddings, [self.one(text) for text in input])

    @staticmethod
    def name() -> str:
        return "coach-problem-ngram"

    def get_config(self) -> dict[str, Any]:
        config = {"dim": self.char.dim, "concept_weight": self.concept_weight, "concepts_version": self.concepts_version,
                  "char_fields": self.char_fields, "concept_fields": self.concept_fields}
        if self.tags_version:
            config |= {"tags_version": self.tags_version, "tag_weight": self.tag_weight}
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ProblemNgramEmbedding:
        # Collections made before fields were weighted have no field config: they weighed every field alike.
        return ProblemNgramEmbedding(dim=config.get("dim", 2048), concept_weight=config.get("concept_weight", 0.5),
                                     concepts_version=config.get("concepts_version", CONCEPTS_VERSION),
                                     char_fields=config.get("char_fields", UNIFORM),
                                     concept_fields=config.get("concept_fields", UNIFORM),
                                     tags_version=config.get("tags_version", ""), tag_weight=config.get("tag_weight", 1.0))


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
        response = self._client().embeddings.create(model=self.model, input=[plain_text(t) for t in input])
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
