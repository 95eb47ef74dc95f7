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
