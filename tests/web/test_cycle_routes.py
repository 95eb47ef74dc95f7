"""The review cycle's table over HTTP: every (state, action, role) on the pages and the API answers
as the state machine says — 303 when allowed, 409 for the state, 403 for the role, 404 when unreadable."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient

from coach.repository import StoredSheet
from coach.sheet import Sheet
from coach.workspace.review import Submission
from tests.conftest import ensure_account, section_staff, sheet_data
from tests.workspace.test_submission import ACTIONS, ALLOWED, STATES

DATA = sheet_data()


def sheet_in(client: TestClient, state: str) -> StoredSheet:
    services = client.app.state.services  # type: ignore[attr-defined]
    author = ensure_account(client.app, "madoguchi", "staff", "住民窓口係")
    dx = ensure_account(client.app, "dx-team", "dx", None)
    stored = services.repo.create(services.organisation_id, Sheet.model_validate(DATA))
    machine = services.submissions
    if state != "draft":
        machine.submit(author, stored, stored.version, Submission([]))
    if state == "returned":
        machine.decide(dx, stored, "return", "直してください。")
    if state in ("accepted", "revising"):
        machine.decide(dx, stored, "accept")
    if state == "revising":
        machine.revise(author, stored)
    return services.repo.get(stored.id, services.organisation_id)  # type: ignore[no-any-return]


def post(person: TestClient, action: str, sheet_id: int) -> int:
    if action in ("return", "accept"):
        r = person.post(f"/review/{sheet_id}/decision", data={"decision": action, "note": "直してください。"},
                        follow_redirects=False)
    else:
        r = person.post(f"/sheets/{sheet_id}", data={**DATA, "op": action}, follow_redirects=False)
    assert r.status_code != 500 and "サーバーで問題" not in r.text
    if r.status_code in (403, 409):
        assert "。" in r.text  # the reason, in Japanese
    return r.status_code


def test_every_state_action_and_role_on_the_pages(client: TestClient, staff: TestClient, dx: TestClient) -> None:
    people = {"section": staff, "dx": dx, "other": section_staff(client.app, "税務係")}
    page_actions = [a for a in ACTIONS if a != "import"]  # import has its own pages (tests/workspace)
    for state, action, role in itertools.product(STATES, page_actions, people):
        stored = sheet_in(client, state)
        case = (state, action, role)
        if case in ALLOWED:
            expected = 303
        elif action in ("return", "accept") and role != "dx":
            expected = 403  # the review pages are the DX team's: refused before the sheet is read
        elif role == "other" and stored.status == "draft":
            expected = 404  # another section's draft does not exist for them
        elif not any(a == action and r == role for (_, a, r) in ALLOWED):
            expected = 403
        else:
            expected = 409
        assert post(people[role], action, stored.id) == expected, case
        state_after = client.app.state.services.submissions.state_of(stored.id)  # type: ignore[attr-defined]
        assert state_after == ALLOWED.get(case, state), case


def test_the_api_writes_every_state_but_accepted(client: TestClient) -> None:
    """PUT by a program on this machine (contract §6): only a frozen sheet answers 409, with the reason."""
    for state in STATES:
        stored = sheet_in(client, state)
        r = client.put(f"/api/v1/sheets/{stored.id}", json={**DATA, "tobe": DATA["tobe"] + "（追記）"})
        if state == "accepted":
            assert r.status_code == 409 and "改訂する" in r.json()["detail"], state
            assert r.json()["errors"][0]["field"] == "status"
        else:
            assert r.status_code == 200 and r.json()["version"] == stored.version + 1, state
