"""The review queue's filters and sort, read from bookmarkable GET parameters.

The queue holds the submitted sheets only (a town's few hundred at most; coach/workspace/queue.py builds
it in one pass), so filtering its items here costs nothing next to building it. Wrong parameters are
a BadInput naming each one in Japanese; the page shows the reasons with the unfiltered queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlencode

from coach.errors import BadInput, FieldError
from coach.status import ReviewState
from coach.workspace.cycle import STAGES
from coach.workspace.queue import STATE_ORDER, QueueItem
from coach.workspace.review import FLAGS

TABS = (ReviewState.WAITING, ReviewState.RETURNED, ReviewState.ACCEPTED, "all")
SORTS = {
    "priority": "要確認を先に・提出の古い順",
    "oldest": "提出の古い順",
    "newest": "提出の新しい順",
    "errors": "要見直しの多い順",
    "section": "係の順",
}
HEARING = {"yes": "ヒアリング希望あり", "no": "ヒアリング希望なし"}
MAX_VALUE = 100


@dataclass(frozen=True)
class QueueQuery:
    state: str = ReviewState.WAITING
    section: str = ""
    stage: str = ""
    theme: str = ""
    flag: str = ""
    hearing: str = ""
    sort: str = "priority"

    def url(self, **changes: str) -> str:
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        defaults = QueueQuery()
        return "/review?" + urlencode({k: v for k, v in values.items() if v and v != getattr(defaults, k)})

    @property
    def narrowed(self) -> bool:
        return any((self.section, self.stage, self.theme, self.flag, self.hearing))


def queue_query(params: Mapping[str, str], sections: list[str], themes: list[str]) -> QueueQuery:
    """The queue's filters from a URL, each checked against what exists; BadInput lists every wrong one."""
    errors: list[FieldError] = []

    def pick(name: str, allowed: object, reason: str, default: str = "") -> str:
        value = params.get(name, default)[:MAX_VALUE]
        if value and value not in allowed:  # type: ignore[operator]
            errors.append(FieldError(name, None, reason))
            return default
        return value

    query = QueueQuery(
        state=pick("state", TABS, "状態は「レビュー待ち・差し戻し中・受理済み・すべて」から選んでください。", ReviewState.WAITING),
        section=pick("section", sections, "その係はありません。一覧から選んでください。"),
        stage=pick("stage", STAGES, "段階を一覧から選んでください。"),
        theme=pick("theme", themes, "そのテーマはありません。一覧から選んでください。"),
        flag=pick("flag", FLAGS, "要確認の理由を一覧から選んでください。"),
        hearing=pick("hearing", HEARING, "ヒアリング希望は「あり・なし」から選んでください。"),
        sort=pick("sort", SORTS, "並べ方を一覧から選んでください。", "priority"),
    )
    if errors:
        raise BadInput(errors, "絞り込みの条件に誤りがあります。")
    return query


def _keep(query: QueueQuery, themes_of: dict[int, list[str]]) -> Callable[[QueueItem], bool]:
    def keep(i: QueueItem) -> bool:
        hearing = bool(i.review and i.review.hearing)
        return ((query.state == "all" or i.state == query.state)
                and (not query.section or i.stored.section == query.section)
                and (not query.stage or i.stage == query.stage)
                and (not query.theme or query.theme in themes_of.get(i.stored.id, []))
                and (not query.flag or query.flag in i.flags)
                and (not query.hearing or hearing == (query.hearing == "yes")))
    return keep


SORT_KEYS: dict[str, Callable[[QueueItem], tuple[object, ...]]] = {
    "priority": lambda i: (STATE_ORDER[i.state], not i.flagged, i.since),
    "oldest": lambda i: (i.since, i.stored.id),
    "newest": lambda i: (-i.since.timestamp(), -i.stored.id),
    "errors": lambda i: (-i.errors, -i.warnings, i.since),
    "section": lambda i: (i.stored.section, i.since),
}


def apply(items: list[QueueItem], query: QueueQuery, themes_of: dict[int, list[str]]) -> list[QueueItem]:
    """The queue's items the query keeps, in its order."""
    return sorted(filter(_keep(query, themes_of), items), key=SORT_KEYS[query.sort])
