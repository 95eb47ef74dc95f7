"""`coach create-admin` and `coach demo` as a newcomer runs them (real processes, a real SQLite file)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.test_cli import COACH


def run(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir)}
    return subprocess.run([COACH, *args], input=stdin, capture_output=True, text=True, timeout=60, env=env)


def accounts(data_dir: Path):  # type: ignore[no-untyped-def]
    from coach.app import build_sessions
    from coach.settings import Settings
    from coach.workspace.accounts import Accounts

    return Accounts(build_sessions(Settings(data_dir=data_dir)))


def test_create_admin_prints_a_password_once_and_it_works(tmp_path: Path) -> None:
    done = run(tmp_path, "create-admin", "--login", "kikaku", "--name", "企画 太郎")
    assert done.returncode == 0, done.stderr
    password = re.search(r"パスワード / password: (\S+)", done.stdout)
    assert password is not None and len(password.group(1)) == 12
    account = accounts(tmp_path).authenticate("kikaku", password.group(1))
    assert account is not None and account.is_dx and account.name == "企画 太郎"
    again = run(tmp_path, "create-admin", "--login", "kikaku", "--name", "別人")
    assert again.returncode == 2 and "すでに使われています" in again.stderr


def test_create_admin_reads_a_chosen_password_from_stdin(tmp_path: Path) -> None:
    done = run(tmp_path, "create-admin", "--login", "kikaku", "--name", "企画", "--password-stdin",
               stdin="my own long password\n")
    assert done.returncode == 0 and "my own long password" not in done.stdout
    assert accounts(tmp_path).authenticate("kikaku", "my own long password") is not None
    short = run(tmp_path, "create-admin", "--login", "kikaku2", "--name", "企画", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "10文字以上" in short.stderr


def test_demo_prints_working_credentials_and_renews_them(tmp_path: Path) -> None:
    first = run(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    creds = dict(re.findall(r"ログインID (\S+)\s+パスワード (\S+)", first.stdout))
    assert set(creds) == {"dxteam", "madoguchi", "doboku"}
    acc = accounts(tmp_path)
    assert acc.authenticate("dxteam", creds["dxteam"]).is_dx  # type: ignore[union-attr]
    assert acc.authenticate("doboku", creds["doboku"]).section == "土木係"  # type: ignore[union-attr]
    second = dict(re.findall(r"ログインID (\S+)\s+パスワード (\S+)", run(tmp_path, "demo").stdout))
    assert second["madoguchi"] != creds["madoguchi"]
    assert acc.authenticate("madoguchi", creds["madoguchi"]) is None
    assert acc.authenticate("madoguchi", second["madoguchi"]) is not None
