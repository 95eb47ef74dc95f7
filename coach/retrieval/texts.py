"""What the index embeds of a sheet, and reading it back: fields kept apart, LLM tags as a last field."""

from __future__ import annotations

from coach.sheet import FIELDS as SHEET_FIELDS
from coach.sheet import Sheet

FIELD_SEP = "\x1f"  # ASCII unit separator; one typed into a sheet is replaced by a space
FIELDS = ("title", *SHEET_FIELDS)


def sheet_text(sheet: Sheet, tags: tuple[str, ...] = ()) -> str:
    """What is embedded: the whole sheet except the margin (solution ideas are not the problem).

    Fields are kept apart by FIELD_SEP so that an embedding can weigh them (see `split_fields`).
    `tags`: the sheet's LLM problem tags (coach/llm/tagger.py), a last field only when there are some.
    """
    fields = [sheet.title, sheet.asis, sheet.tobe, sheet.purpose, "\n".join(sheet.problems), "\n".join(sheet.tasks)]
    if tags:
        fields.append(TAG_SEP.join(tags))
    return FIELD_SEP.join(f.replace(FIELD_SEP, " ") for f in fields)


TAG_SEP = "｜"


def split_fields(text: str) -> dict[str, str] | None:
    """The fields of a `sheet_text` (with "tags" when it has them), or None for plain text (one field)."""
    parts = text.split(FIELD_SEP)
    if len(parts) == len(FIELDS) + 1:
        return {**dict(zip(FIELDS, parts[:-1], strict=True)), "tags": parts[-1]}
    return dict(zip(FIELDS, parts, strict=True)) if len(parts) == len(FIELDS) else None


def tags_of(text: str) -> tuple[str, ...]:
    """The LLM problem tags a `sheet_text` carries (none for most)."""
    fields = split_fields(text)
    return tuple(t for t in fields["tags"].split(TAG_SEP) if t) if fields and "tags" in fields else ()


def without_tags(text: str) -> str:
    """A `sheet_text` as the sheet wrote it: what people are shown and matched against (never the tags)."""
    parts = text.split(FIELD_SEP)
    return FIELD_SEP.join(parts[:len(FIELDS)]) if len(parts) == len(FIELDS) + 1 else text


def plain_text(text: str) -> str:
    """A `sheet_text` as lines, for people and for embeddings that do not weigh fields (tags left out)."""
    return without_tags(text).replace(FIELD_SEP, "\n")
