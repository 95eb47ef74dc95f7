"""The lock file CI installs from (`make lock`) covers every dependency pyproject.toml names, within its
ranges; and the version has one home, pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
CI_EXTRAS = ("dev", "postgres", "local-llm")  # what `make test` installs


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements/lock.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_dependency_is_locked_within_its_range() -> None:
    pins = locked()
    wanted = list(PROJECT["dependencies"])
    for extra in CI_EXTRAS:
        wanted += PROJECT["optional-dependencies"][extra]
    assert len(wanted) >= 20
    for spec in wanted:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not in requirements/lock.txt: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{req.name}=={pins[name]} is outside pyproject.toml's {req.specifier}: run `make lock`")


def test_the_makefile_installs_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e '." in line]
    assert installs and all("-c $(LOCK)" in line for line in installs)


def test_one_version_number_read_from_the_installed_metadata() -> None:
    from coach import __version__
    from web.app import create_app

    assert __version__ == PROJECT["version"]  # a stale install (pyproject changed, not reinstalled) fails here
    from coach.settings import Settings

    assert create_app(Settings(load_samples=False)).version == PROJECT["version"]
    out = subprocess.run([sys.executable, "-m", "coach", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"curry-coach {PROJECT['version']}"
    for source in (ROOT / "coach").rglob("*.py"):
        assert f'"{PROJECT["version"]}"' not in source.read_text("utf-8"), f"a second version number in {source}"
