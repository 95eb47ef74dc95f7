"""Docs that cannot drift: every setting and every CLI command is in the README."""

from __future__ import annotations

from pathlib import Path

from coach.cli import build_parser
from coach.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"COACH_{name.upper()}" in README, f"COACH_{name.upper()} is not in the README"


def test_every_command_is_documented() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in sub.choices:  # type: ignore[union-attr]
        assert f"coach {command}" in README, f"`coach {command}` is not in the README"


def test_the_index_commands_options_are_in_their_rows() -> None:
    """The similar-sheet index's commands: each option is in a row of the command table for that command."""
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in ("index", "similar", "reindex"):
        rows = [line for line in README.splitlines() if line.startswith(f"| `coach {command}")]
        options = [o for a in sub.choices[command]._actions for o in a.option_strings  # type: ignore[index]
                   if o.startswith("--") and o != "--help"]
        for option in options:
            assert any(option in row for row in rows), f"`coach {command} {option}` is not in the README's table"
