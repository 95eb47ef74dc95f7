"""An accepted sheet is frozen (issue #11.1): every write is refused on the server, 改訂する starts a revision."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import sheet_data
from tests.web.test_review import CLEAN, soup, submit

RPA = {**CLEAN, "tobe": CLEAN["tobe"] + "RPAを導入する。"}


def accepted(staff: TestClient, dx: TestClient) -> int:
    sid = submit(staff, CLEAN)
    assert dx.post(f"/review/{sid}/decision", data={"decision": "accept", "note": ""},
                   follow_redirects=False).status_code == 303
    return sid


def test_an_accepted_sheet_refuses_autosave_and_withdraw(staff: TestClient, dx: TestClient) -> None:
    sid = accepted(staff, dx)
    before = staff.get(f"/api/v1/sheets/{sid}").json()
    r = staff.post(f"/sheets/{sid}/check", data=RPA)
    assert r.status_code == 409 and "受理" in r.text
    r = staff.post(f"/sheets/{sid}", data={**CLEAN, "op": "unsubmit"}, follow_redirects=False)
    assert r.status_code == 409 and "受理" in r.text
    after = staff.get(f"/api/v1/sheets/{sid}").json()
    assert after == before and after["tobe"] == CLEAN["tobe"] and after["status"] == "submitted"
    assert dx.app.state.services.reviews.get(sid).state == "accepted"


def test_every_write_to_an_accepted_sheet_is_a_409_with_a_reason(staff: TestClient, dx: TestClient) -> None:
    sid = accepted(staff, dx)
    version = staff.get(f"/api/v1/sheets/{sid}").json()["version"]
    posts = [
        (f"/sheets/{sid}", {**RPA}),  # save
        (f"/sheets/{sid}", {**RPA, "op": "add:problems"}),
        (f"/sheets/{sid}", {**RPA, "op": "remove:problems:0"}),
        (f"/sheets/{sid}", {**RPA, "op": "move:tobe"}),
        (f"/sheets/{sid}", {**RPA, "op": "submit"}),
        (f"/sheets/{sid}/versions/1/restore", {}),
    ]
    for path, data in posts:
        r = staff.post(path, data=data, follow_redirects=False)
        assert r.status_code == 409 and "改訂する" in r.text, (path, data.get("op"), r.status_code)
    r = staff.put(f"/api/v1/sheets/{sid}", json=RPA, headers={"Accept": "application/json"})
    assert r.status_code == 409 and "改訂" in r.json()["detail"]
    assert staff.get(f"/api/v1/sheets/{sid}").json()["version"] == version


def test_revising_keeps_the_accepted_version_and_goes_through_review_again(staff: TestClient,
                                                                          dx: TestClient) -> None:
    sid = accepted(staff, dx)
    page = soup(staff.get(f"/sheets/{sid}"))
    assert page.select_one("form textarea[name=tobe]").has_attr("readonly")
    assert page.select_one("button[name=op][value=revise]") is not None
    accepted_version = staff.get(f"/api/v1/sheets/{sid}").json()["version"]
    r = staff.post(f"/sheets/{sid}", data={"op": "revise"}, follow_redirects=False)
    assert r.status_code == 303
    services = dx.app.state.services
    assert services.submissions.state_of(sid) == "revising"
    assert staff.post(f"/sheets/{sid}/check", data=RPA).status_code == 200  # a revision is a draft again
    page = soup(staff.get(f"/sheets/{sid}"))
    link = page.select_one(".cycle-note a.accepted-version")
    assert link is not None and link["href"] == f"/sheets/{sid}/versions/{accepted_version}"
    assert CLEAN["tobe"] in staff.get(link["href"]).text and "RPA" not in staff.get(link["href"]).text
    staff.post(f"/sheets/{sid}", data={**RPA, "op": "submit"})
    row = soup(dx.get("/review")).select_one(f".queue tbody tr[data-sheet='{sid}']")
    assert row is not None and "改訂" in row.text
    # withdrawing a revision's submission goes back to the revision, not to a plain draft
    staff.post(f"/sheets/{sid}", data={**RPA, "op": "unsubmit"})
    assert services.submissions.state_of(sid) == "revising"


def test_a_sheet_of_another_section_cannot_be_moved_through_the_cycle(client: TestClient, staff: TestClient,
                                                                     dx: TestClient) -> None:
    from tests.conftest import section_staff

    other = section_staff(client.app, "税務係")
    sid = submit(other, sheet_data(section="税務係", title="申告"))
    r = staff.post(f"/sheets/{sid}", data={**CLEAN, "op": "unsubmit"}, follow_redirects=False)
    assert r.status_code == 403
    r = staff.post(f"/review/{sid}/decision", data={"decision": "accept"}, follow_redirects=False)
    assert r.status_code == 403
