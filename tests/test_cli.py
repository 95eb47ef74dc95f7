"""The console script as a user runs it: a real process, real files, exit codes of contract §5."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import sheet_data

COACH = shutil.which("coach") or str(Path(sys.executable).with_name("coach"))


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COACH, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_critique_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sheet.json"
    path.write_text(json.dumps(sheet_data(tasks=["RPAを導入する"], id="a", group="g"), ensure_ascii=False), "utf-8")
    done = run("critique", str(path))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"findings", "engine", "prompt_version"}
    assert out["engine"] == "rules"
    assert [(f["code"], f["field"], f["item"]) for f in out["findings"]] == [("SOLUTION_IN_SHEET", "tasks", 0)]


def test_critique_stdin_and_python_m() -> None:
    done = subprocess.run([sys.executable, "-m", "coach", "critique", "-"], input=json.dumps(sheet_data()),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert json.loads(done.stdout)["findings"][0]["code"] is None


def test_critique_jsonl_keeps_order(tmp_path: Path) -> None:
    lines = [sheet_data(purpose="効率化のため"), sheet_data(), sheet_data(tobe="")]
    path = tmp_path / "sheets.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8")
    done = run("critique", "--jsonl", str(path))
    assert done.returncode == 0
    outs = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["findings"][0]["code"] for o in outs] == ["PURPOSE_MISSING", None, "FIELD_EMPTY"]


def test_bad_line_in_jsonl_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sheets.jsonl"
    path.write_text(json.dumps(sheet_data()) + "\n{not json\n", "utf-8")
    done = run("critique", "--jsonl", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "2行目" in done.stderr and "line 2" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_bad_inputs_exit_2_with_a_japanese_and_english_reason(tmp_path: Path) -> None:
    missing = run("critique", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "ファイルが見つかりません" in missing.stderr and "not found" in missing.stderr
    wrong = run("critique", "-", stdin=json.dumps({**sheet_data(), "problems": "一つの文字列"}))
    assert wrong.returncode == 2 and "problems" in wrong.stderr and "配列" in wrong.stderr
    empty = run("critique", "-", stdin="")
    assert empty.returncode == 2 and "JSON" in empty.stderr
