"""Outcome figures are finite numbers (issue #9): nan gave a 500 and 1e999 was stored as inf."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import logged_in, sheet_data


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999", "-1e999", "Infinity", "1e16"])
def test_non_finite_or_absurd_values_are_refused(db_app: Any, value: str) -> None:
    staff = logged_in(db_app, "madoguchi", "staff", "住民窓口係")
    dx = logged_in(db_app, "dxteam", "dx", None)
    sid = staff.post("/api/v1/sheets", json=sheet_data()).json()["id"]
    r = dx.post(f"/review/{sid}/outcomes", data={"kind": "hours", "value": value}, follow_redirects=False)
    assert r.status_code == 422 and "数値" in r.text
    assert db_app.state.services.cycle.outcomes(sid) == []
    r = dx.post(f"/review/{sid}/outcomes", data={"kind": "hours", "value": "1,200.5"}, follow_redirects=False)
    assert r.status_code == 303 and [o.value for o in db_app.state.services.cycle.outcomes(sid)] == [1200.5]
