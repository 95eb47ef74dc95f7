"""Integers a URL may carry, bounded where they are declared: a huge, zero or negative id answers
422 with a Japanese reason before any query runs (PostgreSQL's integer is 32-bit, SQLite's 64)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2_147_483_647  # the largest PostgreSQL `integer`

SheetId = Annotated[int, Path(ge=1, le=MAX_ID, description="シートの番号")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID, description="版の番号")]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="アカウントの番号")]
ThemeId = Annotated[int, Path(ge=1, le=MAX_ID, description="テーマの番号")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="トークンの番号")]
NoticeId = Annotated[int, Path(ge=1, le=MAX_ID, description="お知らせの番号")]
LinkId = Annotated[int, Path(ge=1, le=MAX_ID, description="つながりの番号")]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="版の番号")]


def bounded_id(value: str) -> int | None:
    """An id typed into a form field: a number in range, else None."""
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 10 and 1 <= int(value) <= MAX_ID else None
