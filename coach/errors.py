"""Input errors, explained in Japanese with the field they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from coach.sheet import LABELS

MAX_LISTED = 20


@dataclass(frozen=True)
class FieldError:
    field: str
    item: int | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        label = LABELS.get(self.field, self.field)
        return {"field": self.field, "item": self.item, "label": label, "reason": self.reason}


class BadInput(Exception):
    """Raised for any input a user or a program got wrong. Never a server fault."""

    def __init__(self, errors: list[FieldError], message: str = "入力内容に誤りがあります。") -> None:
        super().__init__(message)
        self.errors = errors
        self.message = message

    def as_dict(self) -> dict[str, Any]:
        """At most MAX_LISTED errors are listed, so a body with 100,000 wrong keys gets a small answer."""
        more = len(self.errors) - MAX_LISTED
        detail = self.message + (f"（ほか {more:,} 件の誤りは省略しました）" if more > 0 else "")
        return {"detail": detail, "errors": [e.as_dict() for e in self.errors[:MAX_LISTED]]}

    def one_line(self) -> str:
        parts = [f"{LABELS.get(e.field, e.field)}（{e.field}）: {e.reason}" for e in self.errors[:MAX_LISTED]]
        return f"{self.message}（invalid input） " + " / ".join(parts)


def _reason(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "必須の項目です。"
    if kind == "extra_forbidden":
        return "この項目は受け付けていません。項目名を確認してください。"
    if kind in ("string_type", "string_sub_type"):
        return "文字列で入力してください。"
    if kind == "list_type":
        return "文字列の配列（リスト）で入力してください。"
    if kind == "string_too_long":
        now = len(err["input"]) if isinstance(err.get("input"), str) else None
        suffix = f"（今は {now:,} 文字）" if now is not None else ""
        return f"{ctx.get('max_length'):,}文字以内で入力してください{suffix}。"
    if kind == "string_too_short":
        return "空にはできません。入力してください。"
    if kind == "too_long":
        return f"{ctx.get('max_length')}件以内にしてください（今は {ctx.get('actual_length')} 件）。"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "JSON オブジェクト（{…}）で送ってください。"
    if kind in ("int_parsing", "int_type", "int_parsing_size", "int_from_float"):
        return "整数で指定してください。"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{ctx.get('ge', ctx.get('gt'))}{'以上' if 'ge' in ctx else 'より大きい'}の数で指定してください。"
    if kind in ("less_than_equal", "less_than"):
        return f"{ctx.get('le', ctx.get('lt')):,}{'以下' if 'le' in ctx else '未満'}の数で指定してください。"
    if kind == "json_invalid":
        return "JSON として読み取れません。形式を確認してください。"
    return "値の形式が正しくありません。"


def from_validation_error(exc: ValidationError | Any, *, skip_prefix: int = 0) -> BadInput:
    """Turn pydantic errors into FieldErrors. `skip_prefix` drops leading loc parts (e.g. 'body')."""
    errors: list[FieldError] = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))[skip_prefix:]
        if err["type"] == "json_invalid":
            loc = []
        field = str(loc[0]) if loc else "body"
        item = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        errors.append(FieldError(field=field, item=item, reason=_reason(err)))
    return BadInput(errors)
