"""The audit log's events: one frozen dataclass per kind, each with its own Japanese summary.

An event is stored as `audit_log.action` (the class's `action`) and `audit_log.detail` (JSON of its
fields, whose names are the keys stored since the first release, so old rows read as before). Some
actions hold several kinds (an account is created, reset, stopped …); the detail's `marker` key tells
them apart. `decode(action, data)` gives back the typed event; a row it cannot read (an action this
release does not know, a detail of another shape) becomes a `GenericEvent`, whose summary still reads
well: the log page never fails on an old or foreign row.
"""

from __future__ import annotations

import types
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from coach.findings import CODE_LABELS
from coach.formats import iso_day, number
from coach.sheet import LABELS
from coach.status import SHEET_STATUS_LABELS

# the label of each stored action: the 「操作」 column of the log
ACTIONS = {
    "submit": "提出",
    "unsubmit": "提出を取り下げ",
    "comment": "コメント",
    "confirm": "指摘を確認",
    "dismiss": "指摘を却下",
    "missed": "見落としを追加",
    "return": "差し戻し",
    "accept": "受理",
    "revise": "改訂を開始",
    "stage": "段階の変更",
    "themes": "テーマの変更",
    "outcome": "成果の記録",
    "import": "取り込み",
    "account": "アカウント",
    "token": "APIトークン",  # created, revoked, and used (coach/workspace/tokens.py)
    "link": "同じ問題としてつなぐ",
    "reject_link": "違う問題とする",
    "unlink": "つながりを外す",
}


@dataclass(frozen=True)
class AuditEvent:
    action: ClassVar[str]
    marker: ClassVar[str | None] = None  # the detail key that tells kinds stored under one action apart

    def summary(self) -> str:
        raise NotImplementedError

    def encode(self) -> dict[str, Any]:
        """The stored detail: the fields under the keys rows have always used."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


@dataclass(frozen=True)
class GenericEvent(AuditEvent):
    """A row this release cannot read as one of its kinds: shown with what it holds, never an error."""

    action = ""  # stored under `kind`, whatever that is
    kind: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.kind, self.kind)

    def summary(self) -> str:
        text = self.data.get("note") or self.data.get("body")
        if isinstance(text, str) and text:
            return text
        return "・".join(str(v) for v in self.data.values() if isinstance(v, str | int | float) and str(v) != "")

    def encode(self) -> dict[str, Any]:
        return dict(self.data)


def _version(version: int | None) -> str:
    return f"第{version}版" if version is not None else "版の記録なし"


def _place(field_name: str, item: int | None) -> str:
    name = "全体" if field_name == "general" else LABELS.get(field_name, field_name)
    return name + (f"{item + 1}行目" if item is not None else "")


# -- the review cycle (coach/workspace/submission.py) ----------------------------------------------

@dataclass(frozen=True)
class Submitted(AuditEvent):
    action = "submit"
    version: int
    flags: tuple[str, ...] = ()

    def summary(self) -> str:
        from coach.workspace.review import FLAGS  # review.py writes events: imported when shown

        flags = [FLAGS.get(f, f) for f in self.flags]
        return _version(self.version) + (f"（{'・'.join(flags)}）" if flags else "")


@dataclass(frozen=True)
class Withdrawn(AuditEvent):
    action = "unsubmit"

    def summary(self) -> str:
        return "提出を取り下げ、シートを係に戻しました"


@dataclass(frozen=True)
class Decision(AuditEvent):
    """The DX team's decision on a submitted version, with the note the author reads."""

    version: int | None = None
    note: str = ""

    def summary(self) -> str:
        return _version(self.version) + (f"：{self.note}" if self.note else "")


@dataclass(frozen=True)
class Returned(Decision):
    action = "return"


@dataclass(frozen=True)
class Accepted(Decision):
    action = "accept"


@dataclass(frozen=True)
class Revised(AuditEvent):
    action = "revise"
    accepted_version: int | None = None

    def summary(self) -> str:
        return f"受理された{_version(self.accepted_version)}から改訂を始めました"


@dataclass(frozen=True)
class SheetImported(AuditEvent):
    """A sheet the DX team's import created as submitted (its own entry, beside the file's)."""

    action = "import"
    marker = "version"
    version: int

    def summary(self) -> str:
        return f"取り込んだ{_version(self.version)}をレビュー待ちにしました"


@dataclass(frozen=True)
class FileImported(AuditEvent):
    action = "import"
    marker = "file"
    file: str
    created: int = 0
    updated: int = 0
    status: str = ""  # the state new sheets were given (rows before that choice have none)

    def summary(self) -> str:
        state = SHEET_STATUS_LABELS.get(self.status, "")
        return f"{self.file}：新規 {self.created}{f'（{state}）' if state else ''}・更新 {self.updated}"


# -- the review page (coach/workspace/review.py) ----------------------------------------------------

@dataclass(frozen=True)
class Commented(AuditEvent):
    action = "comment"
    field: str
    item: int | None = None
    body: str = ""

    def summary(self) -> str:
        return f"{_place(self.field, self.item)}：{self.body}"


@dataclass(frozen=True)
class Verdict(AuditEvent):
    """A reviewer's word on one finding of one version."""

    version: int
    code: str
    field: str
    item: int | None = None

    def summary(self) -> str:
        return f"{CODE_LABELS.get(self.code, self.code)}（{_place(self.field, self.item)}）"


@dataclass(frozen=True)
class Confirmed(Verdict):
    action = "confirm"


@dataclass(frozen=True)
class Dismissed(Verdict):
    action = "dismiss"


@dataclass(frozen=True)
class Missed(Verdict):
    action = "missed"


# -- the DX team's cycle of cases (coach/workspace/cycle.py) ------------------------------------------

@dataclass(frozen=True)
class StageMoved(AuditEvent):
    action = "stage"
    stage: str
    on: str = ""

    def summary(self) -> str:
        return f"{self.stage}（{iso_day(self.on)}）" if self.on else self.stage


@dataclass(frozen=True)
class ThemeAdded(AuditEvent):
    action = "themes"
    marker = "added"
    added: str

    def summary(self) -> str:
        return f"テーマ「{self.added}」を追加"


@dataclass(frozen=True)
class ThemeRemoved(AuditEvent):
    action = "themes"
    marker = "removed"
    removed: str

    def summary(self) -> str:
        return f"テーマ「{self.removed}」を削除"


@dataclass(frozen=True)
class SheetThemesSet(AuditEvent):
    action = "themes"
    marker = "themes"
    themes: tuple[str, ...]

    def summary(self) -> str:
        return "テーマ：" + ("・".join(self.themes) or "なし")


@dataclass(frozen=True)
class OutcomeRecorded(AuditEvent):
    action = "outcome"
    kind: str
    value: float

    def summary(self) -> str:
        from coach.workspace.cycle import OUTCOME_KINDS  # cycle.py writes events: imported when shown

        return f"{OUTCOME_KINDS.get(self.kind, (self.kind,))[0]} {number(self.value)}"


# -- accounts and sections (web/routes/admin.py, web/routes/auth.py) ----------------------------------

@dataclass(frozen=True)
class AccountCreated(AuditEvent):
    action = "account"
    marker = "created"
    created: str
    role: str = ""

    def summary(self) -> str:
        return f"アカウント {self.created} を作成"


@dataclass(frozen=True)
class PasswordReset(AuditEvent):
    action = "account"
    marker = "password_reset"
    password_reset: str

    def summary(self) -> str:
        return f"{self.password_reset} のパスワードを再発行"


@dataclass(frozen=True)
class PasswordChanged(AuditEvent):
    action = "account"
    marker = "password_changed"
    password_changed: str

    def summary(self) -> str:
        return "自分のパスワードを変更"


@dataclass(frozen=True)
class AccountActivated(AuditEvent):
    action = "account"
    marker = "active"
    active: bool
    login: str = ""

    def summary(self) -> str:
        return f"{self.login} を{'再開' if self.active else '停止'}"


@dataclass(frozen=True)
class SectionsAdded(AuditEvent):
    action = "account"
    marker = "sections_added"
    sections_added: int

    def summary(self) -> str:
        return f"係を {self.sections_added} 件追加"


# -- API tokens (coach/workspace/tokens.py) ---------------------------------------------------------

@dataclass(frozen=True)
class TokenCreated(AuditEvent):
    action = "token"
    marker = "token_created"
    token_created: str
    scope: str = ""
    reach: str = "town"  # "town", or the section the token writes for
    expires_on: str | None = None

    def summary(self) -> str:
        from coach.workspace.tokens import SCOPES  # tokens.py writes events: imported when shown

        reach = "町全体" if self.reach == "town" else self.reach
        return f"API トークン「{self.token_created}」を作成（{SCOPES.get(self.scope, '')}・{reach}）"


@dataclass(frozen=True)
class TokenRevoked(AuditEvent):
    action = "token"
    marker = "token_revoked"
    token_revoked: str

    def summary(self) -> str:
        return f"API トークン「{self.token_revoked}」を取り消し"


@dataclass(frozen=True)
class TokenUsed(AuditEvent):
    action = "token"
    marker = "method"
    method: str
    path: str = ""
    token: str = ""
    calls: int | None = None

    def summary(self) -> str:
        calls = "?" if self.calls is None else self.calls
        return f"{self.method} {self.path}（このトークンの{calls}回目の呼び出し）"

    def encode(self) -> dict[str, Any]:
        return {"token": self.token, "method": self.method, "path": self.path, "calls": self.calls}


# -- links between sheets (coach/workspace/links.py) ----------------------------------------------

@dataclass(frozen=True)
class Linked(AuditEvent):
    action = "link"
    linked_to: int
    other: str = ""
    label: str = ""  # the problem's name

    def summary(self) -> str:
        return f"相手：{self.other}・問題：{self.label}"


@dataclass(frozen=True)
class LinkRejected(AuditEvent):
    action = "reject_link"
    rejected: int
    other: str = ""

    def summary(self) -> str:
        return f"相手：{self.other}（似ているシートに出さない）"


@dataclass(frozen=True)
class Unlinked(AuditEvent):
    action = "unlink"
    unlinked: int
    other: str = ""
    label: str = ""
    was: str = ""  # "linked" or "rejected"

    def summary(self) -> str:
        what = f"問題：{self.label}" if self.was == "linked" else "「違う問題」を取り消し"
        return f"相手：{self.other}・{what}"


KINDS: tuple[type[AuditEvent], ...] = (
    Submitted, Withdrawn, Returned, Accepted, Revised, SheetImported, FileImported,
    Commented, Confirmed, Dismissed, Missed,
    StageMoved, ThemeAdded, ThemeRemoved, SheetThemesSet, OutcomeRecorded,
    AccountCreated, PasswordReset, PasswordChanged, AccountActivated, SectionsAdded,
    TokenCreated, TokenRevoked, TokenUsed, Linked, LinkRejected, Unlinked,
)
# the registry: stored action -> the kinds stored under it (those with a marker key first)
REGISTRY: dict[str, tuple[type[AuditEvent], ...]] = {
    action: tuple(sorted((k for k in KINDS if k.action == action), key=lambda k: k.marker is None))
    for action in dict.fromkeys(k.action for k in KINDS)
}

HINTS = {kind: typing.get_type_hints(kind) for kind in KINDS}  # each field's type, for decode's check


def encode(event: AuditEvent) -> tuple[str, dict[str, Any]]:
    """What is stored: (audit_log.action, the detail dict written as JSON)."""
    return (event.kind if isinstance(event, GenericEvent) else event.action), event.encode()


def decode(action: str, data: object) -> AuditEvent:
    """The typed event of a stored row; a GenericEvent when the row is of no known kind or shape."""
    if not isinstance(data, dict):
        return GenericEvent(kind=action)
    for kind in REGISTRY.get(action, ()):
        if kind.marker is None or kind.marker in data:
            event = _build(kind, data)
            if event is not None:
                return event
    return GenericEvent(kind=action, data=data)


def _build(kind: type[AuditEvent], data: dict[str, Any]) -> AuditEvent | None:
    hints = HINTS[kind]
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name in data:
            value = data[f.name]
            if not _fits(value, hints[f.name]):
                return None
            values[f.name] = tuple(value) if isinstance(value, list) else value
    try:
        return kind(**values)
    except TypeError:  # a required field is missing
        return None


def _fits(value: object, hint: Any) -> bool:
    """Whether a JSON value may fill a field of this type (bool is not a number, a list is a tuple)."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, list | tuple) and all(_fits(v, item) for v in value)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)
