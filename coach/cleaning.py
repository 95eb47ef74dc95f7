"""The one text-cleaning rule for everything the service accepts (JSON, forms, imports, login IDs).

Pasted text often carries invisible characters that PostgreSQL cannot store (NUL) or that break
an .xlsx export (other C0 controls). Rather than refuse the whole input, they are removed:

- NUL and the other C0 control characters (U+0000–U+001F) except tab and line feed, and DEL (U+007F),
  are removed;
- line breaks are normalised: CR LF and a lone CR become LF;
- lone surrogates (U+D800–U+DFFF, only reachable through JSON escapes) are removed.

So SQLite and PostgreSQL store the same text, and stored text never holds these characters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_DROPPED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """The rule above. Idempotent; text without such characters comes back unchanged."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _DROPPED.sub("", text)


def clean_value(value: Any) -> Any:
    """For validators that run before type checks: clean strings, leave anything else to the type."""
    return clean_text(value) if isinstance(value, str) else value


def normalise_login(login: str) -> str:
    """The one form of a login ID, for account creation, lookup, authentication and the throttle:
    cleaned, NFKC (full-width ｍａｄｏｇｕｃｈｉ is madoguchi), trimmed, inner whitespace runs as
    one space, case-folded. Padding never makes a different ID."""
    text = unicodedata.normalize("NFKC", clean_text(login))
    return _SPACES.sub(" ", text).strip().casefold()
