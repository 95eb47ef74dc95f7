"""`coach <db command> --help` answers without loading the heavy parts (Chroma, LangChain, OpenAI, Sudachi, the web)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("chromadb", "langchain", "langchain_core", "openai", "sudachipy", "fastapi", "web")

# Parse `--help` of one command in a fresh interpreter and report which top-level packages got imported.
PROBE = """
import json, sys
from coach.cli import build_parser
try:
    build_parser().parse_args([{command!r}, "--help"])
except SystemExit:
    pass
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


@pytest.mark.parametrize("command", ["create-admin", "demo", "db", "backup"])
def test_help_of_a_database_command_imports_nothing_heavy(command: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(command=command)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: coach" in done.stdout
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "coach" in loaded  # the probe really ran the CLI's parser
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_cli_modules_never_import_web() -> None:
    probe = "import sys, coach.cli, coach.cli_ops, coach.cli_workspace, coach.app; print('web' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
