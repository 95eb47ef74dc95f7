"""The rule findings of a saved version, stored with it (issue #10): pages read them, never re-run the critic.

Each version row keeps its rule findings as JSON and the RULES_VERSION they were computed with.
RULES_VERSION is a hash of the source of everything that decides the rule findings (the critics,
the lexicons, the guard, the text analysis, the code/severity tables) and of the Sudachi dictionary's
version, computed once when this module is imported: changing any of them changes it, and a
version whose stored findings carry another RULES_VERSION is recomputed (and stored again) the
next time it is read. Nothing has to be bumped by hand.

Importing this module stays light: the critic (Sudachi) is imported on the first computation.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from coach.findings import Finding

if TYPE_CHECKING:
    from coach.service import CritiqueService
    from coach.sheet import Sheet

_COACH = Path(__file__).resolve().parent
# What decides the rule findings: the critic and its helpers, the word lists, the guard every
# finding passes, the text analysis, and the table of codes and severities.
RULE_SOURCES = ("critics/*.py", "lexicon.py", "guard.py", "quotes.py", "text.py", "findings.py", "service.py",
                "sheet.py")
DICTIONARY_PACKAGES = ("sudachipy", "sudachidict-core")


def _rules_version() -> str:
    return source_version(RULE_SOURCES)


def source_version(patterns: tuple[str, ...], packages: tuple[str, ...] = DICTIONARY_PACKAGES) -> str:
    """A short hash of the source files matching `patterns` (under coach/) and the packages' versions."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(_COACH.glob(pattern)):
            digest.update(path.relative_to(_COACH).as_posix().encode())
            digest.update(path.read_bytes())
    for package in packages:
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=none".encode())
    return digest.hexdigest()[:16]


RULES_VERSION = _rules_version()

_critic: CritiqueService | None = None


def rule_findings(sheet: Sheet) -> list[Finding]:
    """What the rule critic says about `sheet`, through the guard: what the editor shows too."""
    global _critic
    if _critic is None:
        from coach.service import CritiqueService

        _critic = CritiqueService()
    return _critic.critique(sheet).findings


def encode(findings: list[Finding]) -> str:
    return json.dumps([f.model_dump() for f in findings], ensure_ascii=False)


def current(findings: str | None, rules_version: str | None) -> tuple[Finding, ...] | None:
    """A version's stored findings when the current rules computed them; None when they must be recomputed
    (stored with other rules, or before the columns existed)."""
    if rules_version != RULES_VERSION or findings is None:
        return None
    return decode(findings)


def decode(text: str) -> tuple[Finding, ...]:
    """Findings as `encode` wrote them. Not validated again (a listing decodes hundreds): callers decode
    only text stored with the current RULES_VERSION, which hashes findings.py, so the shape is this one."""
    return tuple(Finding.model_construct(**f) for f in json.loads(text))


def count(findings: tuple[Finding, ...] | list[Finding], severity: str) -> int:
    return sum(f.severity == severity for f in findings)
