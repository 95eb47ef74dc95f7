"""Someone else saved first: the API answers 409, the editor keeps the typed text and says what changed."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import logged_in, section_staff, sheet_data

A = "住民窓口係"


def form_of(page: str) -> dict[str, str]:
    """The editor form's single-valued fields, as the browser would send them."""
    soup = BeautifulSoup(page, "html.parser")
    form = soup.select_one("#sheet-form")
    assert form is not None
    data = {str(i["name"]): str(i.get("value", "")) for i in form.select("input[name]") if i.get("type") != "checkbox"}
    data.update({str(t["name"]): t.text for t in form.select("textarea[name]") if t["name"] not in ("problems", "tasks")})
    return data


def test_api_put_without_a_base_still_saves(client: TestClient) -> None:
    sid = client.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    r = client.put(f"/api/v1/sheets/{sid}", json=sheet_data(asis="新しい現状"))
    assert r.status_code == 200 and r.json()["version"] == 2 and r.headers["ETag"] == '"2"'


def test_api_put_from_an_older_version_answers_409_in_japanese(client: TestClient) -> None:
    sid = client.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    etag = client.get(f"/api/v1/sheets/{sid}").headers["ETag"]
    assert client.put(f"/api/v1/sheets/{sid}", json={**sheet_data(asis="先の人"), "base_version": 1}).status_code == 200
    for late in ({"json": {**sheet_data(asis="後の人"), "base_version": 1}},
                 {"json": sheet_data(asis="後の人"), "headers": {"If-Match": etag}}):
        r = client.put(f"/api/v1/sheets/{sid}", **late)  # type: ignore[arg-type]
        assert r.status_code == 409
        body = r.json()
        assert body["latest_version"] == 2 and body["errors"][0]["field"] == "base_version"
        assert body["detail"].startswith("別の人がこのシートを先に保存しました")
    assert client.get(f"/api/v1/sheets/{sid}").json()["asis"] == "先の人"
    r = client.put(f"/api/v1/sheets/{sid}", json=sheet_data(asis="後の人"), headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["version"] == 3


def test_api_refuses_a_malformed_base(client: TestClient) -> None:
    sid = client.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    for bad in ({"json": {**sheet_data(), "base_version": 0}},
                {"json": {**sheet_data(), "base_version": 2**40}},
                {"json": {**sheet_data(), "base_version": "2"}},
                {"json": sheet_data(), "headers": {"If-Match": '"abc"'}},
                {"json": sheet_data(), "headers": {"If-Match": "9" * 50}}):
        r = client.put(f"/api/v1/sheets/{sid}", **bad)  # type: ignore[arg-type]
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["reason"]


def test_editor_keeps_the_typed_text_and_says_what_changed(client: TestClient) -> None:
    first, second = logged_in(client.app, "tanaka", "staff", A), logged_in(client.app, "suzuki", "staff", A)
    sid = first.post("/sheets", data={"title": "転入手続き"}, follow_redirects=False).headers["location"].split("/")[-1]
    mine, theirs = form_of(first.get(f"/sheets/{sid}").text), form_of(second.get(f"/sheets/{sid}").text)
    assert mine["base_version"] == theirs["base_version"] == "1"
    saved = second.post(f"/sheets/{sid}", data={**theirs, "tobe": "先に保存された姿", "op": "save"},
                        follow_redirects=False)
    assert saved.status_code == 303
    r = first.post(f"/sheets/{sid}", data={**mine, "asis": "私が打った現状の文", "op": "save"})
    assert r.status_code == 409
    page = BeautifulSoup(r.text, "html.parser")
    notice = page.select_one("#conflict")
    assert notice is not None and "別の人がこのシートを先に保存しました（第2版）" in notice.text
    assert "あるべき姿" in notice.text  # the field the other save changed
    assert notice.select_one(f'a[href="/sheets/{sid}/versions/2"]') is not None
    assert page.select_one("#f-asis").text == "私が打った現状の文"  # type: ignore[union-attr]
    assert form_of(r.text)["base_version"] == "1"  # still from where the text started: nothing saved over
    # autosave while the notice is up: refused as well (409), the text stays on the page
    r = first.post(f"/sheets/{sid}/check", data={**mine, "asis": "私が打った現状の文。続き"},
                   headers={"HX-Request": "true"})
    assert r.status_code == 409 and "自動保存を止めています" in r.text
    # having looked, the writer saves the page as a new version; both stay in the history
    button = notice.select_one("button[name=op]")
    assert button is not None and button["value"] == "overwrite:2"
    r = first.post(f"/sheets/{sid}", data={**mine, "asis": "私が打った現状の文", "op": "overwrite:2"},
                   follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("saved=3")
    api = client.get(f"/api/v1/sheets/{sid}").json()
    assert api["asis"] == "私が打った現状の文" and [v["number"] for v in client.get(
        f"/api/v1/sheets/{sid}/versions").json()] == [3, 2, 1]


def test_own_autosaves_fold_and_the_form_follows_the_version(client: TestClient) -> None:
    staff = section_staff(client.app, A)
    sid = staff.post("/sheets", data={"title": "転入手続き"}, follow_redirects=False).headers["location"].split("/")[-1]
    form = form_of(staff.get(f"/sheets/{sid}").text)
    for text in ("一", "一二", "一二三"):
        r = staff.post(f"/sheets/{sid}/check", data={**form, "asis": text}, headers={"HX-Request": "true"})
        assert r.status_code == 200
        base = BeautifulSoup(r.text, "html.parser").select_one("#base-version")
        assert base is not None and base["hx-swap-oob"] == "true"
        form["base_version"] = str(base["value"])  # what htmx does with the out-of-band input
    assert form["base_version"] == "2"
    assert [v["number"] for v in client.get(f"/api/v1/sheets/{sid}/versions").json()] == [2, 1]
    r = staff.post(f"/sheets/{sid}", data={**form, "asis": "一二三四", "op": "save"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("saved=3")
    # an autosave sent just before that save arrives late: it must not undo the save, nor cry conflict
    r = staff.post(f"/sheets/{sid}/check", data={**form, "asis": "一二三"}, headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert client.get(f"/api/v1/sheets/{sid}").json()["asis"] == "一二三四"
