"""The console script as a user runs it: a real process, real files, exit codes of contract §5."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from coach.sheet import Sheet
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


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "COACH_DATA_DIR": str(tmp_path / "cli-data"), "COACH_LOAD_SAMPLES": "0"}


def run_env(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COACH, *args], input=stdin, capture_output=True, text=True, timeout=120, env=env)


def test_index_similar_reindex(tmp_path: Path) -> None:
    env = _env(tmp_path)
    phone = sheet_data(section="環境衛生係", title="ごみの問い合わせ", asis="分別の問い合わせ電話が多く、電話対応で手が止まる。")
    phone2 = sheet_data(section="税務係", title="申告期の電話", asis="問い合わせの電話がひっきりなしにかかる。")
    road = sheet_data(section="土木係", title="道路", asis="道路の穴の場所を紙の地図に書いている。")
    lines = [{"id": "a", **phone}, {"id": "b", **phone2}, {"id": "c", **road}]
    path = tmp_path / "sheets.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    done = run_env(env, "index", str(path))
    assert done.returncode == 0, done.stderr
    query = json.dumps({"id": "a", **phone}, ensure_ascii=False)
    out = json.loads(run_env(env, "similar", "--k", "2", "-", stdin=query).stdout)
    assert [x["id"] for x in out] == ["b", "c"] and set(out[0]) == {"id", "score", "section", "title"}
    re = run_env(env, "reindex")
    assert re.returncode == 0 and "3/3" in re.stderr
    assert json.loads(run_env(env, "similar", "--k", "2", "-", stdin=query).stdout) == out
    again = run_env(env, "index", str(path))  # idempotent: updates, no duplicates
    assert again.returncode == 0
    assert len(json.loads(run_env(env, "similar", "--k", "10", "-", stdin=query).stdout)) == 2


def test_index_with_a_bad_line_writes_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    path = tmp_path / "sheets.jsonl"
    path.write_text(json.dumps({"id": "a", **sheet_data()}) + "\n" + json.dumps(sheet_data()) + "\n", "utf-8")
    done = run_env(env, "index", str(path))
    assert done.returncode == 2 and "id" in done.stderr and "2行目" in done.stderr
    out = run_env(env, "similar", "-", stdin=json.dumps(sheet_data()))
    assert out.returncode == 0 and json.loads(out.stdout) == []


def test_reindex_pending_applies_the_queued_updates_once(tmp_path: Path) -> None:
    from coach.db import init_db, make_engine
    from coach.repository import SheetRepository

    env = _env(tmp_path)
    (tmp_path / "cli-data").mkdir()
    sessions = init_db(make_engine(f"sqlite:///{tmp_path / 'cli-data' / 'coach.db'}"))
    repo = SheetRepository(sessions)
    org = repo.ensure_organisation("サンプル町")
    phone = repo.create(org, Sheet.model_validate(sheet_data(section="税務係", title="申告期の電話",
                                                             asis="問い合わせの電話がひっきりなしにかかる。")))
    repo.create(org, Sheet.model_validate(sheet_data(section="土木係", title="道路")))
    sessions.kw["bind"].dispose()
    down = run_env({**env, "COACH_CHROMA_URL": "http://127.0.0.1:9"}, "reindex", "--pending")
    assert down.returncode == 1 and "失敗 2件" in down.stderr and "2 left" in down.stderr
    done = run_env(env, "reindex", "--pending")
    assert done.returncode == 0 and "2件反映" in done.stderr and "0 left" in done.stderr, done.stderr
    query = json.dumps(sheet_data(asis="問い合わせの電話が多い。"), ensure_ascii=False)
    out = json.loads(run_env(env, "similar", "--k", "1", "-", stdin=query).stdout)
    assert [x["id"] for x in out] == [phone.id]
    again = run_env(env, "reindex", "--pending")
    assert again.returncode == 0 and "0件反映" in again.stderr
