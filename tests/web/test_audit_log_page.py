"""操作の記録 and the review page's log show every row through its event's summary: rows of the old
free-form shape, of an action this release does not know, and a detail that is not JSON never fail."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from coach.workspace.audit import AuditRow
from tests.conftest import sheet_data

ROWS = [  # (action, detail as stored), oldest first
    ("submit", '{"version": 1, "flags": ["hearing"]}'),
    ("return", '{"version": 1, "note": "目的を、誰のためかから書いてください"}'),
    ("notice", '{"title": "窓口の時間を変えました", "audience": "all"}'),
    ("stage", "{not json"),
    ("themes", '{"themes": "一つの文字列"}'),
]


def test_the_log_pages_read_old_foreign_and_broken_rows(staff: TestClient, dx: TestClient) -> None:
    sid = staff.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    assert staff.post(f"/sheets/{sid}", data={**sheet_data(), "op": "submit"}).status_code == 200
    services = dx.app.state.services  # type: ignore[attr-defined]
    with services.reviews._sessions.begin() as s:
        for action, detail in ROWS:
            s.add(AuditRow(organisation_id=services.organisation_id, sheet_id=sid, user_login="old-release",
                           user_name="旧版", action=action, detail=detail))
    for url, selector in (("/review/log", "table.audit tbody tr"), (f"/review/{sid}", "#log tr")):
        r = dx.get(url)
        assert r.status_code == 200, url
        rows = [tr.select("td") for tr in BeautifulSoup(r.text, "html.parser").select(selector)]
        old = [[td.get_text(" ", strip=True) for td in tds] for tds in rows[: len(ROWS)]]
        summaries = [cells[-1] for cells in reversed(old)]
        assert summaries == ["第1版（ヒアリング希望）", "第1版：目的を、誰のためかから書いてください",
                             "窓口の時間を変えました・all", "", "一つの文字列"], url
        assert any("差し戻し" in cell for cell in old[-2]) and any("notice" in cell for cell in old[-3])
    # the written submit of this test reads as a typed event too
    assert services.reviews.log(services.organisation_id, sid)[-1].summary().startswith("第1版")
