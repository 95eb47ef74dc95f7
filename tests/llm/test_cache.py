"""The LLM's answer cache in the database (issue #10 item 4): shared by every worker, keyed by the
masked prompt, holding only what the model saw and said (masked), bounded by age and count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from coach.db import init_db, make_engine
from coach.llm.cache import DatabaseCache, LLMCacheRow
from coach.llm.calling import plain_caller
from tests.conftest import make_sheet
from tests.llm.test_critic import VAGUE, Recording, answer, critic, fake

PERSON = "山田花子さん（090-1234-5678）から毎日電話がある。住所は北海道幕別町本町12-3。"
ABOUT_PERSON = {**VAGUE, "evidence": "［氏名1］さんが電話をかけずに済んでいる。", "message": "［氏名1］さんの様子が見えます。"}


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield init_db(engine)
    engine.dispose()


def _rows(sessions: sessionmaker[Session]) -> list[LLMCacheRow]:
    with sessions() as s:
        return list(s.scalars(select(LLMCacheRow)))


def test_a_second_worker_reads_the_first_ones_answer(sessions: sessionmaker[Session]) -> None:
    first = Recording(plain_caller(fake(answer(VAGUE))))
    second = Recording(plain_caller(fake(answer())))
    got = critic(first, cache=DatabaseCache(sessions)).critique(make_sheet())
    again = critic(second, cache=DatabaseCache(sessions)).critique(make_sheet())  # another process's critic
    assert len(first.sent) == 1 and second.sent == []
    assert again.cached and again.findings == got.findings
    critic(second, cache=DatabaseCache(sessions)).critique(make_sheet(asis="変わった"))
    assert len(second.sent) == 1  # another sheet is another question


def test_the_cache_holds_no_personal_data_and_each_sheet_reads_its_own(sessions: sessionmaker[Session]) -> None:
    rec = Recording(plain_caller(fake(answer(ABOUT_PERSON))))
    cache = DatabaseCache(sessions)
    hanako = critic(rec, cache=cache).critique(make_sheet(asis=PERSON, tobe="山田花子さんが電話をかけずに済んでいる。"))
    assert hanako.findings[0].evidence == "山田花子さんが電話をかけずに済んでいる。"
    stored = " ".join(r.key + r.answer for r in _rows(sessions))
    assert "［氏名1］" in stored
    for personal in ("山田", "花子", "090-1234-5678", "本町12-3"):
        assert personal not in stored
    # Another person in the same words: the same masked question, one answer, read with their own name.
    taro = critic(rec, cache=cache).critique(make_sheet(asis=PERSON.replace("山田花子", "佐藤太郎"),
                                                        tobe="佐藤太郎さんが電話をかけずに済んでいる。"))
    assert taro.cached and len(rec.sent) == 1
    assert taro.findings[0].evidence == "佐藤太郎さんが電話をかけずに済んでいる。"
    assert "山田" not in taro.findings[0].message and "佐藤太郎" in taro.findings[0].message


def test_without_masking_nothing_is_cached(sessions: sessionmaker[Session]) -> None:
    rec = Recording(plain_caller(fake(answer(VAGUE), answer(VAGUE))))
    c = critic(rec, cache=DatabaseCache(sessions), mask_pii=False)
    c.critique(make_sheet(asis=PERSON))
    c.critique(make_sheet(asis=PERSON))
    assert len(rec.sent) == 2 and _rows(sessions) == []


def test_old_answers_are_not_used_and_the_table_stays_bounded(sessions: sessionmaker[Session]) -> None:
    cache = DatabaseCache(sessions, max_rows=3)
    for n in range(6):
        cache.put(f"k{n}", f'{{"n": {n}}}')
    assert cache.count() <= 4 and cache.get("k5") is not None and cache.get("k0") is None
    with sessions.begin() as s:  # a week goes by
        s.execute(update(LLMCacheRow).values(created_at=LLMCacheRow.created_at - timedelta(days=8)))
    assert cache.get("k5") is None
    cache.put("fresh", "{}")
    assert [r.key for r in _rows(sessions)] == ["fresh"]
