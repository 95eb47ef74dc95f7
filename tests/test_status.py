"""The status enums are the one source of each value: they match what the README documents for the
review cycle and the API, and no Python module outside coach/status.py spells a status value itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from coach.status import LABELS, ReviewState, SheetStatus, State, status_label

ROOT = Path(__file__).resolve().parents[1]
VALUES = {v.value for enum in (SheetStatus, ReviewState, State) for v in enum}


def test_the_cycle_table_in_the_readme_lists_exactly_the_states_with_their_labels() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| from | move | who | to |"):]
    table = table[: table.index("\n\n")]
    documented = dict(re.findall(r"^  \| (\S+) \((\w+)\)", table, re.M))  # 「下書き (draft)」 in the from column
    assert {value: label for label, value in documented.items()} == {s.value: s.label for s in State}


def test_sheet_status_is_what_the_api_and_the_database_hold() -> None:
    assert [s.value for s in SheetStatus] == ["draft", "submitted"]
    assert {s.value for s in ReviewState} == {"waiting", "returned", "accepted", "revising"}
    assert SheetStatus.SUBMITTED == "submitted" and f"{SheetStatus.DRAFT}" == "draft"  # StrEnum: stored as is
    assert set(LABELS) == VALUES  # one label per value, one table
    assert status_label("archived") == "archived"  # an unknown stored value is shown, never an error


def test_the_api_answers_the_stored_status_values(client) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import sheet_data

    body = client.post("/api/v1/sheets", json=sheet_data()).json()
    assert body["status"] == "draft" and type(body["status"]) is str


def _bare_literals(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(root)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VALUES]


def test_no_python_module_spells_a_status_value_outside_the_enum_module() -> None:
    allowed = {ROOT / "coach" / "status.py"}
    files = [p for folder in ("coach", "web") for p in (ROOT / folder).rglob("*.py")
             if p not in allowed and "migrations" not in p.parts]
    assert len(files) > 50  # the scan really looks at the packages
    found = [hit for p in files for hit in _bare_literals(p)]
    assert found == []


def test_the_scan_finds_a_bare_literal(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('"""A docstring that says submitted."""\nstatus = "submitted"\nOTHER = "submit"\n', encoding="utf-8")
    assert _bare_literals(probe, tmp_path) == ["probe.py:2: 'submitted'"]
