"""The author sees what the reviewer said (#11.2); review-page mistakes stay on the page (#11.4)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import sheet_data
from tests.web.test_review import CLEAN, soup, submit


def test_a_finding_the_reviewer_added_appears_beside_its_field_for_the_author(staff: TestClient,
                                                                            dx: TestClient) -> None:
    sid = submit(staff, CLEAN)
    dx.post(f"/review/{sid}/missed", data={"target": "TASK_NOT_ACTIONABLE|tasks|1"})
    dx.post(f"/review/{sid}/decision", data={"decision": "return", "note": "課題の2行目を見直してください。"})
    editor = soup(staff.get(f"/sheets/{sid}"))
    added = editor.select_one(".field-tasks .dx-finding[data-code=TASK_NOT_ACTIONABLE]")
    assert added is not None and "DX推進チームより" in added.text and "2行目" in added.text
    assert editor.select_one(".field-tobe .dx-finding") is None


def test_a_returned_sheet_says_who_and_why_at_the_top_of_the_list_until_resubmitted(staff: TestClient,
                                                                                   dx: TestClient) -> None:
    sid = submit(staff, CLEAN)
    dx.post(f"/review/{sid}/decision", data={"decision": "return", "note": "あるべき姿から考え直しましょう。"})
    banner = soup(staff.get("/")).select_one(f".returned-banner[data-sheet='{sid}']")
    assert banner is not None and "dx-teamさん" in banner.text and "あるべき姿から考え直しましょう" in banner.text
    note = soup(staff.get(f"/sheets/{sid}")).select_one(".review-note.returned")
    assert note is not None and "dx-teamさん" in note.text
    staff.post(f"/sheets/{sid}", data={**CLEAN, "op": "submit"})
    assert soup(staff.get("/")).select_one(".returned-banner") is None


def test_review_page_mistakes_stay_on_the_page_with_the_text_kept(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, sheet_data(problems=[], tasks=["確認の手順を書き出す"]))
    r = dx.post(f"/review/{sid}/missed", data={"code": "PROBLEM_NOT_GAP", "field": "problems", "item": "1"})
    page = soup(r)
    assert r.status_code == 422 and page.select_one("#m-target") is not None  # still the review page
    assert "行の番号" in page.select_one("#m-error").text
    r = dx.post(f"/review/{sid}/decision", data={"decision": "return", "note": ""})
    page = soup(r)
    assert r.status_code == 422 and "直してほしい点" in page.select_one("#d-error").text
    assert page.select_one("#d-note") is not None
    r = dx.post(f"/review/{sid}/outcomes", data={"kind": "hours", "value": "たくさん", "unit": "時間", "on": ""})
    page = soup(r)
    assert r.status_code == 422 and page.select_one("#o-value")["value"] == "たくさん"
    assert "数値を半角" in page.select_one("#outcome-form .field-error").text
    assert page.select_one("#o-unit")["value"] == "時間"


def test_the_missed_finding_form_offers_only_possible_combinations(staff: TestClient, dx: TestClient) -> None:
    from coach.guard import FIELDS_OF

    sid = submit(staff, sheet_data(problems=[], tasks=["確認の手順を書き出す", "係で話し合う"]))
    options = [o["value"] for o in soup(dx.get(f"/review/{sid}")).select("#m-target option")]
    assert options and len(options) == len(set(options))
    for value in options:
        code, field, row = value.split("|")
        assert field in FIELDS_OF[code], value
        assert field != "problems" or code == "FIELD_EMPTY", value  # the list is empty: no row to point at
        assert row == "" or int(row) < 2, value
    assert "TASK_NOT_ACTIONABLE|tasks|1" in options


def test_after_a_decision_the_page_shows_it_instead_of_the_buttons(staff: TestClient, dx: TestClient) -> None:
    sid = submit(staff, CLEAN)
    dx.post(f"/review/{sid}/decision", data={"decision": "accept", "note": "よく整理されています。"})
    card = soup(dx.get(f"/review/{sid}")).select_one("#decision")
    assert card.select_one("button[value=return]") is None and card.select_one("button[value=accept]") is None
    assert "受理" in card.text and "dx-teamさん" in card.text and "よく整理されています" in card.text
