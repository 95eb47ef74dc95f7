"""The curry-rice sheet (カレーライスシート), as fixed by the contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from coach.cleaning import clean_value

MAX_TEXT = 4000
MAX_ITEM = 1000
MAX_ITEMS = 20
MAX_NAME = 100
MAX_VERSION = 2**31 - 1  # version numbers fit PostgreSQL's integer

TextField = Literal["asis", "tobe", "purpose"]
ListField = Literal["problems", "tasks"]
SheetField = Literal["asis", "tobe", "purpose", "problems", "tasks"]

TEXT_FIELDS: tuple[TextField, ...] = ("asis", "tobe", "purpose")
LIST_FIELDS: tuple[ListField, ...] = ("problems", "tasks")
# The sheet's field list, the one place it is written down: the five fields the critics read, the
# two that name the sheet, and the whole sheet as stored, compared and exchanged.
FIELDS: tuple[SheetField, ...] = (*TEXT_FIELDS, *LIST_FIELDS)
HEADER_FIELDS = ("section", "title")
EVERY_FIELD = (*HEADER_FIELDS, *FIELDS, "margin")

# Japanese labels, used by error messages and the UI.
LABELS: dict[str, str] = {
    "section": "係名",
    "title": "業務・案件名",
    "asis": "現状",
    "tobe": "あるべき姿",
    "purpose": "目的",
    "problems": "問題",
    "tasks": "課題",
    "margin": "欄外メモ",
    "body": "送信内容",
    "file": "ファイル",
    "dataset": "評価データ",
    "id": "ID",
    "similar": "似ているシート",
    "k": "件数",
    "sheet_id": "シートの番号",
    "number": "版の番号",
    "user_id": "アカウントの番号",
    "theme_id": "テーマの番号",
    "from": "比べる版",
    "to": "比べる版",
    "item": "行",
    "host": "ホスト名",
    "base_version": "編集を始めた版",
}

# Every text passes the one cleaning rule (coach/cleaning.py) before its length is checked (a before
# validator placed last wraps the constrained str, so the length errors stay string_too_long).
Clean = BeforeValidator(clean_value)
Name = Annotated[str, StringConstraints(max_length=MAX_NAME), Clean]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), Clean]
Item = Annotated[str, StringConstraints(max_length=MAX_ITEM), Clean]


class Sheet(BaseModel):
    """A sheet as the critics see it. Extra keys (id, group, …) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    section: Name
    title: Name
    asis: Text
    tobe: Text
    purpose: Text
    problems: Annotated[list[Item], Field(max_length=MAX_ITEMS)]
    tasks: Annotated[list[Item], Field(max_length=MAX_ITEMS)]
    margin: Text = ""

    def text_of(self, field: str, item: int | None = None) -> str:
        value = getattr(self, field)
        if isinstance(value, list):
            return value[item] if item is not None and 0 <= item < len(value) else ""
        return str(value)

    def all_text(self) -> str:
        return "\n".join(
            [self.section, self.title, self.asis, self.tobe, self.purpose, *self.problems, *self.tasks, self.margin]
        )



class SheetWrite(Sheet):
    """A sheet sent to be stored: unknown keys are refused so nothing is silently dropped."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Any = None
    section: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, strip_whitespace=True), Clean]
    # The version the writer started from (optional): a save over a newer version is refused (409).
    base_version: Annotated[int | None, Field(ge=1, le=MAX_VERSION)] = None

    def sheet(self) -> Sheet:
        return Sheet.model_validate(self.model_dump(exclude={"id", "base_version"}))


def empty_sheet(section: str = "", title: str = "") -> Sheet:
    return Sheet(section=section, title=title, asis="", tobe="", purpose="", problems=[], tasks=[], margin="")
