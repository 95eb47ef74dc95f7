"""The DX team's links between sheets that share a problem (横連携), and the matches it rejected.

One row per pair of sheets of one organisation (the smaller id first): either `linked`, with a
short problem label the DX team typed or picked, or `rejected` — 「違う問題」: that suggested match
is not suggested again. A group is a connected component of the linked pairs carrying the same
label (a sheet with two problems can sit in two groups). Every change writes the audit log in the
same transaction.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, SheetRow, now, reading
from coach.errors import BadInput, FieldError
from coach.repository import SheetNotFound
from coach.retrieval.links import LinkGraph
from coach.workspace.accounts import Account
from coach.workspace.audit import write_audit
from coach.workspace.audit_events import Linked, LinkRejected, Unlinked

LINKED, REJECTED = "linked", "rejected"
LABEL_MAX = 50


class LinkRow(Base):
    __tablename__ = "sheet_links"
    __table_args__ = (UniqueConstraint("sheet_a", "sheet_b"), CheckConstraint("sheet_a < sheet_b"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sheet_a: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    sheet_b: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))  # LINKED | REJECTED
    label: Mapped[str] = mapped_column(String(100), default="")
    by_login: Mapped[str] = mapped_column(String(50))
    by_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=now)


# Built once: every similar-sheets query reads the town's links.
_GRAPH = (select(LinkRow.sheet_a, LinkRow.sheet_b, LinkRow.state)
          .where(LinkRow.organisation_id == bindparam("org")).order_by(LinkRow.id))


@dataclass(frozen=True)
class Link:
    id: int
    a: int
    b: int
    state: str
    label: str
    by_name: str
    at: datetime

    def other(self, sheet_id: int) -> int:
        return self.b if sheet_id == self.a else self.a

    def has(self, sheet_id: int) -> bool:
        return sheet_id in (self.a, self.b)


@dataclass(frozen=True)
class Group:
    """Sheets the DX team linked, directly or through each other, as one problem (`label`)."""

    label: str
    sheet_ids: list[int]
    links: list[Link]


def clean_label(text: str) -> str:
    """The label as stored: NFKC (全角英数 → 半角), spaces folded; 1–50 characters."""
    label = " ".join(unicodedata.normalize("NFKC", text).split())
    if not label:
        raise BadInput([FieldError("label", None, "どんな問題が同じなのかを、短い言葉で入力してください（例：電話問い合わせの集中）。")])
    if len(label) > LABEL_MAX:
        raise BadInput([FieldError("label", None, f"問題の名前は{LABEL_MAX}文字以内で入力してください（今は {len(label)} 文字）。")])
    return label


def groups(links: list[Link]) -> list[Group]:
    """Connected components of the linked pairs, label by label; the largest first."""
    by_label: dict[str, list[Link]] = {}
    for link in links:
        if link.state == LINKED:
            by_label.setdefault(link.label, []).append(link)
    out = []
    for label, edges in by_label.items():
        for ids in _components(edges):
            out.append(Group(label, ids, [e for e in edges if e.a in ids]))
    return sorted(out, key=lambda g: (-len(g.sheet_ids), g.label, g.sheet_ids))


def _components(edges: list[Link]) -> list[list[int]]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in edges:
        parent[root(e.a)] = root(e.b)
    members: dict[int, list[int]] = {}
    for x in list(parent):
        members.setdefault(root(x), []).append(x)
    return [sorted(ids) for ids in members.values()]


class Links:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def link(self, who: Account, sheet_id: int, other_id: int, label: str) -> Link:
        label = clean_label(label)
        with self._sessions.begin() as s:
            row, other = self._pair(s, who, sheet_id, other_id)
            row.state, row.label = LINKED, label
            write_audit(s, who, sheet_id, Linked(other_id, other, label))
            s.flush()
            return _link(row)

    def reject(self, who: Account, sheet_id: int, other_id: int) -> Link:
        with self._sessions.begin() as s:
            row, other = self._pair(s, who, sheet_id, other_id)
            row.state, row.label = REJECTED, ""
            write_audit(s, who, sheet_id, LinkRejected(other_id, other))
            s.flush()
            return _link(row)

    def remove(self, who: Account, link_id: int) -> Link:
        """Undo a link or a rejection (the pair may be suggested again)."""
        with self._sessions.begin() as s:
            row = s.get(LinkRow, link_id)
            if row is None or row.organisation_id != who.organisation_id:
                raise BadInput([FieldError("link", None, "そのつながりは見つかりません。ページを読み込み直してください。")])
            gone = _link(row)
            b = s.get(SheetRow, row.sheet_b)
            write_audit(s, who, row.sheet_a, Unlinked(row.sheet_b, _name(b), row.label, row.state))
            s.delete(row)
            return gone

    def of_organisation(self, organisation_id: int) -> list[Link]:
        with self._sessions() as s:
            rows = s.scalars(select(LinkRow).where(LinkRow.organisation_id == organisation_id).order_by(LinkRow.id))
            return [_link(r) for r in rows]

    def of_sheet(self, organisation_id: int, sheet_id: int) -> list[Link]:
        return [lk for lk in self.of_organisation(organisation_id) if lk.has(sheet_id)]

    def graph(self, organisation_id: int) -> LinkGraph:
        """The town's links as the retrieval channel needs them (every similar-sheets query reads it)."""
        with reading(self._sessions) as conn:
            rows = conn.execute(_GRAPH, {"org": organisation_id}).all()
        return LinkGraph.of([(a, b) for a, b, state in rows if state == LINKED],
                            [(a, b) for a, b, state in rows if state == REJECTED])

    @staticmethod
    def _pair(s: Session, who: Account, sheet_id: int, other_id: int) -> tuple[LinkRow, str]:
        """The pair's row (new or existing), both sheets checked to be this organisation's."""
        if sheet_id == other_id:
            raise BadInput([FieldError("other", None, "同じシートどうしはつなげません。")])
        for sid in (sheet_id, other_id):
            found = s.get(SheetRow, sid)
            if found is None or found.organisation_id != who.organisation_id:
                raise SheetNotFound(str(sid))
        a, b = sorted((sheet_id, other_id))
        row = s.scalar(select(LinkRow).where(LinkRow.sheet_a == a, LinkRow.sheet_b == b))
        if row is None:
            row = LinkRow(organisation_id=who.organisation_id, sheet_a=a, sheet_b=b, state=LINKED, label="")
            s.add(row)
        row.by_login, row.by_name, row.at = who.login, who.name, now()
        return row, _name(s.get(SheetRow, other_id))


def _name(row: SheetRow | None) -> str:
    return f"{row.section.name}「{row.title}」" if row is not None else ""


def _link(r: LinkRow) -> Link:
    return Link(r.id, r.sheet_a, r.sheet_b, r.state, r.label, r.by_name, r.at)
