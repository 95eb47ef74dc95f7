"""The JSON API of contract §6, including every kind of bad input (4xx, Japanese, never a 500)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import LOOPBACK, logged_in, sheet_data


def test_critique(client: TestClient) -> None:
    r = client.post("/api/v1/critique", json=sheet_data(tobe="文書がデジタル化されている。", id="x", group="g"))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"findings", "engine", "prompt_version"}
    assert body["findings"][0]["code"] == "SOLUTION_IN_SHEET"
    assert body["findings"][0]["evidence"] == "文書がデジタル化されている"


def test_sheet_crud_and_versions(client: TestClient) -> None:
    created = client.post("/api/v1/sheets", json=sheet_data())
    assert created.status_code == 201
    sid = created.json()["id"]
    assert created.headers["location"] == f"/api/v1/sheets/{sid}"
    got = client.get(f"/api/v1/sheets/{sid}").json()
    assert got["tobe"] == sheet_data()["tobe"] and got["version"] == 1
    updated = client.put(f"/api/v1/sheets/{sid}", json=sheet_data(asis="変えた", id=sid))
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert client.get(f"/api/v1/sheets/{sid}").json()["asis"] == "変えた"
    assert [v["number"] for v in client.get(f"/api/v1/sheets/{sid}/versions").json()] == [2, 1]


def test_script_in_fields_is_stored_as_text(client: TestClient) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    sid = client.post("/api/v1/sheets", json=sheet_data(asis=evil)).json()["id"]
    assert client.get(f"/api/v1/sheets/{sid}").json()["asis"] == evil
    page = logged_in(client.app, "madoguchi").get(f"/sheets/{sid}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def errors_of(r) -> list[dict]:  # type: ignore[no-untyped-def]
    body = r.json()
    assert r.status_code in (400, 404, 422), r.status_code
    assert body["detail"] and isinstance(body["errors"], list) and body["errors"]
    for e in body["errors"]:
        assert e["field"] and e["reason"]
        assert any("\u3040" <= ch <= "\u30ff" for ch in e["reason"]), e  # reason is Japanese
    return body["errors"]


@pytest.mark.parametrize("path", ["/api/v1/critique", "/api/v1/sheets"])
@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({k: v for k, v in sheet_data().items() if k != "tobe"}, "tobe", "必須"),
        (sheet_data(problems="一つの文字列"), "problems", "配列"),
        (sheet_data(asis=123), "asis", "文字列"),
        (sheet_data(tobe="あ" * 4001), "tobe", "4,000文字以内"),
        (sheet_data(tasks=["課題"] * 21), "tasks", "20件以内"),
        (sheet_data(tasks=["a" * 1001]), "tasks", "1,000文字以内"),
        (sheet_data(section="係" * 101), "section", "100文字以内"),
    ],
)
def test_bad_sheets_name_the_field(client: TestClient, path: str, payload: dict, field: str, words: str) -> None:
    errors = errors_of(client.post(path, json=payload))
    assert any(e["field"] == field and words in e["reason"] for e in errors), errors


def test_item_errors_say_which_row(client: TestClient) -> None:
    errors = errors_of(client.post("/api/v1/critique", json=sheet_data(tasks=["ok", "b" * 1001])))
    assert errors[0]["field"] == "tasks" and errors[0]["item"] == 1


@pytest.mark.parametrize("raw", ["", "{not json", "[]", "null", '"文字列"'])
def test_not_a_json_object(client: TestClient, raw: str) -> None:
    r = client.post("/api/v1/critique", content=raw.encode(), headers={"content-type": "application/json"})
    errors = errors_of(r)
    assert errors[0]["field"] == "body"


def test_extra_fields_are_ignored_by_critique_but_refused_when_storing(client: TestClient) -> None:
    assert client.post("/api/v1/critique", json=sheet_data(memo="x")).status_code == 200
    errors = errors_of(client.post("/api/v1/sheets", json=sheet_data(memo="x")))
    assert errors[0]["field"] == "memo"


def test_storing_needs_a_section(client: TestClient) -> None:
    errors = errors_of(client.post("/api/v1/sheets", json=sheet_data(section="  ")))
    assert errors[0]["field"] == "section"


def test_put_with_a_different_id_is_refused(client: TestClient) -> None:
    sid = client.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    errors = errors_of(client.put(f"/api/v1/sheets/{sid}", json=sheet_data(id=sid + 1)))
    assert errors[0]["field"] == "id"


def test_missing_and_malformed_ids(client: TestClient) -> None:
    assert errors_of(client.get("/api/v1/sheets/999"))[0]["field"] == "id"
    assert client.get("/api/v1/sheets/999").status_code == 404
    assert client.put("/api/v1/sheets/999", json=sheet_data()).status_code == 404
    assert errors_of(client.get("/api/v1/sheets/abc"))[0]["field"] == "sheet_id"


def test_non_utf8_body(client: TestClient) -> None:
    r = client.post("/api/v1/critique", content="{\"section\": \"係\"}".encode("shift_jis"),
                    headers={"content-type": "application/json"})
    assert errors_of(r)[0]["field"] == "body"


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/v1/critique", "/api/v1/sheets", "/api/v1/sheets/{sheet_id}"} <= set(spec["paths"])


def test_wrong_content_type_is_a_4xx(client: TestClient) -> None:
    r = client.post("/api/v1/critique", content=json.dumps(sheet_data()), headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500


def test_the_api_on_postgresql(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from coach.app import all_tables
    from coach.db import make_engine
    from coach.settings import Settings
    from web.app import create_app

    url = os.environ.get("COACH_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("COACH_TEST_POSTGRES_URL is not set; .ci/run starts PostgreSQL")
        pytest.skip("no PostgreSQL (set COACH_TEST_POSTGRES_URL)")
    engine = make_engine(url)
    all_tables().drop_all(engine)
    engine.dispose()
    settings = Settings(data_dir=tmp_path, database_url=url, load_samples=False)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        sid = client.post("/api/v1/sheets", json=sheet_data()).json()["id"]
        client.put(f"/api/v1/sheets/{sid}", json=sheet_data(asis="PostgreSQL で更新"))
        assert client.get(f"/api/v1/sheets/{sid}").json()["asis"] == "PostgreSQL で更新"
        assert [v["number"] for v in client.get(f"/api/v1/sheets/{sid}/versions").json()] == [2, 1]
