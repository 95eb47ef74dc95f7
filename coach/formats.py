"""How days and measured values are written for people (pages, audit summaries, exports)."""

from __future__ import annotations

from datetime import date


def day(value: date) -> str:
    """A calendar day as people write it: 2026年11月26日."""
    return f"{value.year}年{value.month}月{value.day}日"


def number(value: float) -> str:
    """A measured value without a needless 「.0」: 120 → 「120」, 1234.5 → 「1,234.5」."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def iso_day(text: str) -> str:
    """「2026-04-03」 as 「2026年4月3日」; anything else as it is."""
    try:
        return day(date.fromisoformat(text))
    except ValueError:
        return text
