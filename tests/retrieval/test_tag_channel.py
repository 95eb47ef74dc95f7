"""LLM problem tags as part of the concept channel (issue #14), and where they are stored: real
SQLite and PostgreSQL for the rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from coach.db import init_db, make_engine
from coach.llm.tagger import ProblemTagger
from coach.repository import SheetRepository
from coach.retrieval.embeddings import ProblemNgramEmbedding
from coach.retrieval.problem_tags import ProblemTags
from coach.retrieval.store import collection_name
from coach.retrieval.texts import plain_text, sheet_text, split_fields, tags_of
from tests.conftest import make_sheet

MINUTES, PHONE = "会議録・文字起こし", "問い合わせ対応の負担"
PLAIN = make_sheet(title="記録づくり", asis="毎月の打ち合わせの内容を、担当が思い出しながらまとめている。",
                   problems=["まとめるのに半日かかる"])


def test_tags_ride_in_a_last_field_that_only_the_tag_aware_embedding_reads() -> None:
    text = sheet_text(PLAIN, (MINUTES,))
    assert sheet_text(PLAIN, ()) == sheet_text(PLAIN) and tags_of(sheet_text(PLAIN)) == ()
    assert tags_of(text) == (MINUTES,) and split_fields(text)["asis"] == PLAIN.asis  # type: ignore[index]
    assert MINUTES not in plain_text(text)  # people and other embeddings never read the tags
    default = ProblemNgramEmbedding()
    assert np.allclose(default.one(text), default.one(sheet_text(PLAIN)))  # tags off: ignored


def test_a_tag_brings_sheets_of_the_same_problem_closer() -> None:
    ef = ProblemNgramEmbedding(tags_version="tags-test:m")
    other = make_sheet(title="議会の記録", asis="録音を聞き直して議事録を作るのに三日かかる。", problems=["公開が遅れる"])
    untagged = float(ef.one(sheet_text(PLAIN)) @ ef.one(sheet_text(other)))
    tagged = float(ef.one(sheet_text(PLAIN, (MINUTES,))) @ ef.one(sheet_text(other, (MINUTES,))))
    unrelated = float(ef.one(sheet_text(PLAIN, (PHONE,))) @ ef.one(sheet_text(other, (MINUTES,))))
    assert tagged > untagged >= unrelated - 1e-6


def test_the_collection_follows_the_tagger_and_stays_the_same_without_it() -> None:
    legacy_keys = {"dim", "concept_weight", "concepts_version", "char_fields", "concept_fields"}
    assert set(ProblemNgramEmbedding().get_config()) == legacy_keys
    names = {collection_name(ProblemNgramEmbedding(tags_version=v)) for v in ("", "tags-a:m", "tags-b:m")}
    assert len(names) == 3
    rebuilt = ProblemNgramEmbedding.build_from_config(ProblemNgramEmbedding(tags_version="tags-a:m").get_config())
    assert rebuilt.tags_version == "tags-a:m" and collection_name(rebuilt) in names


@pytest.fixture
def repo(database_url: str) -> Iterator[SheetRepository]:
    sessions = init_db(make_engine(database_url))
    yield SheetRepository(sessions)
    sessions.kw["bind"].dispose()


def tagger(model: str, *answers: Any) -> ProblemTagger:
    replies = list(answers)
    return ProblemTagger(lambda system, user: replies.pop(0), model)


def test_stored_tags_belong_to_the_text_and_the_tagger_that_made_them(repo: SheetRepository) -> None:
    org = repo.ensure_organisation("町")
    stored = repo.create(org, PLAIN)
    tags = ProblemTags(repo.sessions, tagger("m1", {"tags": [MINUTES]}, {"tags": []}))
    assert tags.ask(stored.id, stored.version, PLAIN).tags == (MINUTES,)
    assert tags.stored([(stored.id, PLAIN)]) == {stored.id: (MINUTES,)} and tags.of(stored.id, PLAIN) == (MINUTES,)
    changed = make_sheet(title=PLAIN.title, asis=PLAIN.asis + "会議は月2回。", problems=PLAIN.problems)
    assert tags.stored([(stored.id, changed)]) == {}  # another text: asked again
    assert tags.stored([(stored.id, PLAIN.model_copy(update={"tobe": "別の理想"}))]) != {}  # ToBe is not read
    assert ProblemTags(repo.sessions, tagger("m2")).stored([(stored.id, PLAIN)]) == {}  # another model
    assert tags.ask(stored.id, stored.version, changed).tags == () and tags.stored([(stored.id, changed)]) == {
        stored.id: ()}  # an answer with no tag is stored too: not asked again
    repo.delete(stored.id, org)  # the tags go with the sheet
    assert tags.stored([(stored.id, changed)]) == {}
