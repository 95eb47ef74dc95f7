"""LLM problem tags at submit, end to end (issue #14): the web app on real SQLite and embedded Chroma,
the model a scripted OpenAI-compatible server on 127.0.0.1 (or a port nobody listens on). The save
and the submit never wait for the model; the index worker asks it afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coach.retrieval.embeddings import ProblemNgramEmbedding
from coach.retrieval.store import collection_name
from coach.retrieval.texts import tags_of
from coach.settings import Settings
from tests.conftest import LOOPBACK, empty_sqlite, ensure_account, indexed, logged_in, make_sheet, sheet_data
from tests.llm.conftest import tool_reply
from tests.servers import free_port

PHONE, COUNTER = "問い合わせ対応の負担", "窓口の待ち・たらい回し"


def tags_reply(*tags: str) -> dict[str, Any]:
    return tool_reply(json.dumps({"tags": list(tags)}, ensure_ascii=False), name="problem_tags")


@contextmanager
def app(data_dir: Path, template: Path, **llm: Any) -> Iterator[TestClient]:
    from web.app import create_app

    empty_sqlite(data_dir, template)
    settings = Settings(data_dir=data_dir, load_samples=False, llm_model="stub-model", llm_timeout=5.0, **llm)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        client.app.state.services.critic.llm = None  # type: ignore[attr-defined]  # only the tagger talks to the model
        # Open the index before any save: the worker and a test's drain must not both open Chroma at once.
        assert client.app.state.services.similar.store.client is not None  # type: ignore[attr-defined]
        yield client


def document(client: TestClient, sid: int) -> str:
    services = client.app.state.services  # type: ignore[attr-defined]
    got = services.similar.store.collection(services.organisation_id).get(ids=[f"db:{sid}"], include=["documents"])
    return str(got["documents"][0])


def submit(client: TestClient) -> int:
    sid = int(client.post("/api/v1/sheets", json=sheet_data()).json()["id"])
    staff = logged_in(client.app, "madoguchi")  # 住民窓口係, the sheet's section
    r = staff.post(f"/sheets/{sid}", data={**sheet_data(), "op": "submit"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert client.get(f"/api/v1/sheets/{sid}").json()["status"] == "submitted"
    return sid


def test_submitted_sheets_are_tagged_after_the_submit_and_the_tags_reach_the_vector(
        stub_llm, data_dir: Path, schema_template: Path) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("json", tags_reply(PHONE, "一覧にない問題", COUNTER))]
    with app(data_dir, schema_template, llm_base_url=url, llm_tags=True) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        draft = int(client.post("/api/v1/sheets", json=sheet_data(title="下書きのまま")).json()["id"])
        indexed(client.app)
        assert script.requests == []  # a draft is never sent to the model
        assert tags_of(document(client, draft)) == ()
        sid = submit(client)
        indexed(client.app)
        assert len(script.requests) == 1
        assert services.similar.tags.stored([(sid, make_sheet())]) == {sid: (PHONE, COUNTER)}
        assert tags_of(document(client, sid)) == (PHONE, COUNTER)
        # The vectors are the tag-aware embedding's own collection, never mixed with the default's.
        assert services.similar.store.ef.get_config()["tags_version"] == services.similar.tags.version
        assert services.similar.store.name != collection_name(ProblemNgramEmbedding())
        # The panel's query for the submitted sheet carries its stored tags (no model call).
        seen: list[tuple[str, ...]] = []
        real = services.similar.store.query

        def query(*args: Any, **kwargs: Any) -> Any:
            seen.append(kwargs.get("tags", ()))
            return real(*args, **kwargs)

        services.similar.store.query = query
        dx = ensure_account(client.app, "dxteam", "dx", None)
        shown = services.similar.similar(dx, make_sheet(title="同じ問題の別の係"), sheet_id=None).matches
        assert sid in [m.hit.db_id for m in shown]
        assert all(PHONE not in m.hit.text and "｜" not in m.hit.text for m in shown)  # people never see the tags
        services.similar.similar(dx, make_sheet(), sheet_id=sid)
        services.similar.similar(dx, make_sheet(asis="書き換えた現状"), sheet_id=sid)  # other text: its tags do not apply
        assert seen[-2] == (PHONE, COUNTER) and seen[-1] == () and len(script.requests) == 1


def test_a_dead_endpoint_never_stops_the_submit_and_the_sheet_is_indexed_without_tags(
        data_dir: Path, schema_template: Path) -> None:
    with app(data_dir, schema_template, llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_tags=True) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        sid = submit(client)
        services.index_worker.indexer.drain(due_only=False)
        doc = document(client, sid)
        assert make_sheet().asis in doc and tags_of(doc) == ()
        assert services.similar.tags.stored([(sid, make_sheet())]) == {}
        # The row stays queued with the reason, to be asked again after its backoff.
        [row] = services.outbox.rows()
        assert row.sheet_id == sid and "LLM problem tags" in (row.last_error or "")


def test_without_the_setting_nothing_is_asked_and_the_index_is_the_default(
        stub_llm, data_dir: Path, schema_template: Path) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    with app(data_dir, schema_template, llm_base_url=url) as client:  # a model for the critic, tags off
        services = client.app.state.services  # type: ignore[attr-defined]
        assert services.similar.tags is None and services.index_worker.indexer.tags is None
        sid = submit(client)
        indexed(client.app)
        assert script.requests == [] and tags_of(document(client, sid)) == ()
        assert services.similar.store.name == collection_name(ProblemNgramEmbedding())
        assert "tags_version" not in services.similar.store.ef.get_config()


def test_after_a_failure_the_sheet_is_asked_again_and_indexed_with_its_tags(
        stub_llm, data_dir: Path, schema_template: Path) -> None:  # type: ignore[no-untyped-def]
    url, script = stub_llm
    script.steps = [("status", 503)]
    with app(data_dir, schema_template, llm_base_url=url, llm_tags=True) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        sid = submit(client)
        services.index_worker.indexer.drain(due_only=False)
        assert tags_of(document(client, sid)) == () and services.outbox.count() == 1
        script.steps = [("json", tags_reply(COUNTER))]
        indexed(client.app)  # the retry (drained here without waiting for its backoff)
        assert tags_of(document(client, sid)) == (COUNTER,) and services.outbox.count() == 0
        assert len(script.requests) == 2


def test_the_command_line_indexes_with_a_dead_model_and_reindex_queues_the_untagged(tmp_path: Path) -> None:
    from tests.test_cli import _env, run_env

    env = {**_env(tmp_path), "COACH_LLM_MODEL": "stub-model", "COACH_LLM_TAGS": "true", "COACH_LLM_TIMEOUT": "2",
           "COACH_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    path = tmp_path / "sheets.jsonl"
    path.write_text(json.dumps({"id": "a", **sheet_data()}, ensure_ascii=False) + "\n", "utf-8")
    done = run_env(env, "index", str(path))  # imported sheets are submitted: the model is asked, and is down
    assert done.returncode == 0, done.stderr
    found = run_env(env, "similar", "-", stdin=json.dumps(sheet_data(title="別の係"), ensure_ascii=False))
    assert [x["id"] for x in json.loads(found.stdout)] == ["a"]  # indexed all the same
    pending = run_env(env, "reindex", "--pending")
    assert pending.returncode == 0 and "問題タグを得られませんでした" in pending.stderr
    rebuilt = run_env(env, "reindex")
    assert rebuilt.returncode == 0 and "問題タグのない提出済みシート 1件" in rebuilt.stderr, rebuilt.stderr
