"""Who may do what, over HTTP: each rule that must say yes, and each that must say no."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import indexed, logged_in, section_staff, sheet_data

DOBOKU = sheet_data(section="土木係", title="道路の穴", asis="道路の穴の通報を紙の地図に書き写している。")


@pytest.fixture
def sheets(client: TestClient) -> dict[str, int]:
    """住民窓口係's draft, 土木係's draft and 土木係's submitted sheet, stored by a local program."""
    ids = {
        "mine": client.post("/api/v1/sheets", json=sheet_data()).json()["id"],
        "their_draft": client.post("/api/v1/sheets", json=DOBOKU).json()["id"],
        "their_submitted": client.post("/api/v1/sheets", json={**DOBOKU, "title": "除雪"}).json()["id"],
    }
    doboku = section_staff(client.app, "土木係")
    assert doboku.post(f"/sheets/{ids['their_submitted']}",
                       data={**DOBOKU, "title": "除雪", "op": "submit"}, follow_redirects=False).status_code == 303
    indexed(client.app)  # the similar API reads the index, which the app's worker fills a moment after a save
    return ids


def test_staff_edit_their_own_sections_sheet(staff: TestClient, sheets: dict[str, int]) -> None:
    assert staff.get(f"/sheets/{sheets['mine']}").status_code == 200
    r = staff.post(f"/sheets/{sheets['mine']}", data=sheet_data(asis="変えた"), follow_redirects=False)
    assert r.status_code == 303
    assert staff.get(f"/api/v1/sheets/{sheets['mine']}").json()["asis"] == "変えた"


def test_staff_cannot_see_another_sections_draft(staff: TestClient, sheets: dict[str, int]) -> None:
    sid = sheets["their_draft"]
    for path in (f"/sheets/{sid}", f"/sheets/{sid}/view", f"/sheets/{sid}/history", f"/print/{sid}",
                 f"/api/v1/sheets/{sid}", f"/api/v1/sheets/{sid}/similar"):
        assert staff.get(path).status_code == 404, path  # it does not exist for them
    assert staff.post(f"/sheets/{sid}", data=DOBOKU).status_code == 404


def test_staff_read_but_do_not_edit_another_sections_submitted_sheet(staff: TestClient, sheets: dict[str, int]) -> None:
    sid = sheets["their_submitted"]
    r = staff.get(f"/sheets/{sid}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/sheets/{sid}/view"
    assert "道路の穴の通報" in staff.get(f"/sheets/{sid}/view").text
    assert staff.get(f"/print/{sid}").status_code == 200
    assert staff.get(f"/api/v1/sheets/{sid}").status_code == 200
    for path, data in ((f"/sheets/{sid}", DOBOKU), (f"/sheets/{sid}/check", DOBOKU),
                       (f"/sheets/{sid}/versions/1/restore", {}), (f"/sheets/{sid}/deep", DOBOKU)):
        r = staff.post(path, data=data)
        assert r.status_code == 403 and "土木係の職員です" in r.text, path
    assert staff.put(f"/api/v1/sheets/{sid}", json=DOBOKU).status_code == 403
    assert staff.get(f"/sheets/{sid}/history").status_code == 403  # drafts in the history stay in the section
    assert staff.get(f"/sheets/{sid}/deep/x/events").status_code == 403
    assert staff.get(f"/sheets/{sid}/similar").status_code == 403
    assert staff.get(f"/api/v1/sheets/{sid}/versions").status_code == 403
    assert staff.get(f"/api/v1/sheets/{sid}").json()["asis"] == DOBOKU["asis"]


def test_staff_cannot_move_a_sheet_to_another_section(staff: TestClient, sheets: dict[str, int]) -> None:
    sid = sheets["mine"]
    staff.post(f"/sheets/{sid}", data=sheet_data(section="土木係"))
    staff.post(f"/sheets/{sid}/check", data=sheet_data(section="土木係", asis="自動保存"))
    assert staff.get(f"/api/v1/sheets/{sid}").json()["section"] == "住民窓口係"
    assert staff.put(f"/api/v1/sheets/{sid}", json=sheet_data(section="土木係")).status_code == 403
    assert staff.post("/api/v1/sheets", json=DOBOKU).status_code == 403


def test_staff_do_not_reach_the_dx_teams_pages(staff: TestClient, sheets: dict[str, int]) -> None:
    sid = sheets["their_submitted"]
    for path in ("/review", f"/review/{sid}", "/overview", "/admin", "/import", "/export/sheets.xlsx",
                 "/export/sheets.csv", "/export/summary.csv"):
        r = staff.get(path)
        assert r.status_code == 403 and "DX推進チーム" in r.text, path
    for path in (f"/review/{sid}/decision", f"/review/{sid}/comments", f"/review/{sid}/findings",
                 f"/review/{sid}/stage", "/admin/accounts", "/admin/themes", "/import"):
        assert staff.post(path, data={"decision": "accept"}).status_code == 403, path


def test_the_dx_team_reads_everything_and_edits_nothing(dx: TestClient, sheets: dict[str, int]) -> None:
    for sid in sheets.values():
        r = dx.get(f"/sheets/{sid}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/review/{sid}"
        assert dx.get(f"/review/{sid}").status_code == 200
        assert dx.get(f"/sheets/{sid}/history").status_code == 200
        r = dx.post(f"/sheets/{sid}", data=sheet_data(section="土木係"))
        assert r.status_code == 403 and "書き換えません" in r.text
    assert dx.post("/sheets", data={"title": "DX が作る"}).status_code == 403
    assert dx.post("/api/v1/sheets", json=sheet_data()).status_code == 403
    for path in ("/review", "/overview", "/admin", "/import"):
        assert dx.get(path).status_code == 200, path


def test_the_dx_team_manages_accounts(dx: TestClient) -> None:
    r = dx.post("/admin/accounts", data={"login": "zeimu", "name": "山本 健", "role": "staff", "section": "税務係"})
    assert r.status_code == 200 and "山本 健さんのアカウントを作りました" in r.text
    password = r.text.split('class="password">')[1].split("<")[0]
    person = TestClient(dx.app, client=("10.0.0.9", 1))
    from tests.conftest import login_form_token

    ok = person.post("/login", data={"login": "zeimu", "password": password, "csrf_token": login_form_token(person)},
                     follow_redirects=False)
    assert ok.status_code == 303
    bad = dx.post("/admin/accounts", data={"login": "zeimu", "name": "二人目", "role": "staff", "section": "税務係"})
    assert bad.status_code == 422 and "すでに使われています" in bad.text
    accounts = dx.app.state.services.accounts
    zeimu = accounts.by_login("zeimu")
    dx.post(f"/admin/accounts/{zeimu.id}/active", data={"active": "0", "confirmed": "1"})  # after the confirmation page
    assert accounts.session(person.cookies["coach_session"]) is None  # stopped: logged out at once
    log = dx.app.state.services.reviews.log(zeimu.organisation_id)
    assert [e.action for e in log[:2]] == ["account", "account"]


def test_the_dx_team_cannot_stop_itself(dx: TestClient) -> None:
    me = dx.app.state.services.accounts.by_login("dx-team")
    r = dx.post(f"/admin/accounts/{me.id}/active", data={"active": "0"})
    assert r.status_code == 422 and "自分のアカウントは停止できません" in r.text


def test_other_sections_staff_see_the_same_rules(client: TestClient, sheets: dict[str, int]) -> None:
    doboku = section_staff(client.app, "土木係")
    assert doboku.get(f"/sheets/{sheets['their_draft']}").status_code == 200
    assert doboku.get(f"/sheets/{sheets['mine']}").status_code == 404  # 住民窓口係's draft
    other = logged_in(client.app, "madoguchi2", "staff", "住民窓口係")
    assert other.get(f"/sheets/{sheets['mine']}").status_code == 200  # a colleague of the same section


def test_staff_do_not_see_another_sections_drafts_through_the_similar_api(client: TestClient,
                                                                          sheets: dict[str, int]) -> None:
    """Asking for the sheets similar to 土木係's submitted sheet must not list 土木係's draft to 住民窓口係."""
    madoguchi = logged_in(client.app, "madoguchi", "staff", "住民窓口係")
    found = [h["id"] for h in madoguchi.get(f"/api/v1/sheets/{sheets['their_submitted']}/similar?k=10").json()]
    assert sheets["their_draft"] not in found and sheets["mine"] in found  # own drafts are theirs to see
    doboku = section_staff(client.app, "土木係")
    theirs = [h["id"] for h in doboku.get(f"/api/v1/sheets/{sheets['their_submitted']}/similar?k=10").json()]
    assert sheets["their_draft"] in theirs and sheets["mine"] not in theirs  # and the other way round
