"""Storing sheets: create, read, save (a new version), autosave (coalesced), history, restore."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from coach import fold, stored_findings, stored_keywords
from coach.db import Organisation, Section, SheetRow, VersionRow, now, reading
from coach.findings import Finding
from coach.outbox import AUTOSAVE_DELAY, enqueue
from coach.sameness import same_content
from coach.sheet import Sheet
from coach.status import SheetStatus


@dataclass(frozen=True)
class StoredSheet:
    id: int
    organisation_id: int
    external_id: str | None
    section: str
    title: str
    status: str
    version: int
    sheet: Sheet
    created_at: datetime
    updated_at: datetime
    changed: bool = True  # False: the save changed nothing visible, so no version was written
    # The rule findings of this version, as stored with it (coach/stored_findings.py).
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> int:
        return stored_findings.count(self.findings, "error")

    @property
    def warnings(self) -> int:
        return stored_findings.count(self.findings, "warning")

    def as_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "version": self.version,
            "status": self.status,
            "updated_at": self.updated_at.isoformat(timespec="seconds") + "Z",
            **self.sheet.model_dump(),
        }


@dataclass(frozen=True)
class SheetHead:
    """What access checks and the editor's status line need of a sheet, without its text: one light query."""

    id: int
    organisation_id: int
    section: str
    title: str
    status: str
    version: int
    updated_at: datetime
    external_id: str | None = None  # an imported sheet's id in its source (the similar-sheet index's ref)


# A SheetHead's columns, in its fields' order (the sheet joined to its section).
HEAD_COLUMNS = (SheetRow.id, SheetRow.organisation_id, Section.name, SheetRow.title, SheetRow.status,
                SheetRow.version, SheetRow.updated_at, SheetRow.external_id)


def head_of(row: Sequence[Any]) -> SheetHead:
    """A SheetHead from a row that starts with HEAD_COLUMNS (more columns may follow)."""
    return SheetHead(*row[:len(HEAD_COLUMNS)])


# Built once: the similar-sheet panel reads the heads of its hits on every refresh.
_HEADS = (select(*HEAD_COLUMNS).join(Section, Section.id == SheetRow.section_id)
          .where(SheetRow.id.in_(bindparam("ids", expanding=True)), SheetRow.organisation_id == bindparam("org")))


@dataclass(frozen=True)
class VersionInfo:
    number: int
    kind: str
    created_at: datetime
    updated_at: datetime


def _clean(sheet: Sheet) -> Sheet:
    """What is stored: no blank list rows (the editor always offers an empty one)."""
    return sheet.model_copy(
        update={"problems": [p for p in sheet.problems if p.strip()], "tasks": [t for t in sheet.tasks if t.strip()]}
    )


_Stale = list[dict[str, object]]  # recomputed findings waiting to be stored: version id, its stamp, the JSON

# What a listing reads of a sheet and of its latest version (`SheetRepository._with_latest`).
_SHEET_COLUMNS = (SheetRow.id, SheetRow.organisation_id, SheetRow.external_id, SheetRow.title, SheetRow.status,
                  SheetRow.version, SheetRow.created_at, SheetRow.updated_at)
_VERSION_COLUMNS = (VersionRow.id, VersionRow.content, VersionRow.findings, VersionRow.rules_version,
                    VersionRow.updated_at)


@dataclass(frozen=True)
class _Latest:
    """The columns of a sheet's latest version that reading it needs (a listing's plain row)."""

    id: int
    content: str
    findings: str | None
    rules_version: str | None
    updated_at: datetime


class SheetNotFound(LookupError):
    pass


class VersionConflict(Exception):
    """A save started from version `base`, but someone else has saved the sheet since (`latest`)."""

    def __init__(self, sheet_id: int, base: int, latest: int, by_self: bool = False) -> None:
        super().__init__(f"sheet {sheet_id}: saved from version {base}, latest is {latest}")
        self.sheet_id = sheet_id
        self.base = base
        self.latest = latest
        self.by_self = by_self  # every newer version is the writer's own (an autosave that arrived late)

    @property
    def reason(self) -> str:
        return (f"別の人がこのシートを先に保存しました（あなたが開いたのは第{self.base}版、今は第{self.latest}版です）。"
                "あなたの入力は保存していません。変更点を確かめてから、もう一度保存してください。")


class SheetRepository:
    def __init__(self, sessions: sessionmaker[Session], autosave_window: timedelta = timedelta(minutes=10)) -> None:
        self._sessions = sessions
        self._window = autosave_window

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._sessions

    @property
    def engine(self) -> Engine:
        return cast(Engine, self._sessions.kw["bind"])

    # -- organisations and sections -----------------------------------------------------------

    def ensure_organisation(self, name: str) -> int:
        with self._sessions.begin() as s:
            org = s.scalar(select(Organisation).where(Organisation.name == name))
            if org is None:
                org = Organisation(name=name)
                s.add(org)
                s.flush()
            return org.id

    def _section(self, s: Session, organisation_id: int, name: str) -> Section:
        section = s.scalar(
            select(Section).where(Section.organisation_id == organisation_id, Section.name == name)
        )
        if section is None:
            try:
                with s.begin_nested():  # a savepoint: losing the race below must not end the transaction
                    section = Section(organisation_id=organisation_id, name=name)
                    s.add(section)
                    s.flush()
            except IntegrityError:  # another request created the same section at the same moment
                section = s.scalar(
                    select(Section).where(Section.organisation_id == organisation_id, Section.name == name)
                )
                assert section is not None
        return section

    def sections(self, organisation_id: int) -> list[str]:
        with self._sessions() as s:
            return sorted(s.scalars(select(Section.name).where(Section.organisation_id == organisation_id)))

    def add_sections(self, organisation_id: int, names: list[str]) -> int:
        """Known sections, with or without a sheet (the overview counts how many have one)."""
        added = 0
        with self._sessions.begin() as s:
            for name in names:
                if name.strip() and s.scalar(select(Section.id).where(
                        Section.organisation_id == organisation_id, Section.name == name.strip())) is None:
                    self._section(s, organisation_id, name.strip())
                    added += 1
        return added

    # -- sheets ----------------------------------------------------------------------------------

    def create(self, organisation_id: int, sheet: Sheet, kind: str = "create", status: str = SheetStatus.DRAFT,
               external_id: str | None = None, author_id: int | None = None) -> StoredSheet:
        sheet = _clean(sheet)
        found = stored_findings.rule_findings(sheet)  # before the transaction: no lock is held while it runs
        stored_keywords.words(sheet)  # likewise (remembered for `_set_findings`)
        with self._sessions.begin() as s:
            section = self._section(s, organisation_id, sheet.section.strip())
            row = SheetRow(organisation_id=organisation_id, section_id=section.id, title=sheet.title, version=1,
                           status=status, external_id=external_id)
            s.add(row)
            s.flush()
            version = VersionRow(sheet_id=row.id, number=1, kind=kind, content=sheet.model_dump_json(),
                                 author_id=author_id)
            findings = _set_findings(version, sheet, found)
            s.add(version)
            s.flush()
            _queue(s, row)
            return self._stored(row, sheet, findings)

    def get(self, sheet_id: int, organisation_id: int) -> StoredSheet:
        with self._sessions() as s:
            row = self._row(s, sheet_id, organisation_id)
            latest = self._latest(s, row.id)
            stale: _Stale = []
            stored = self._read(row, latest, stale)
        self._store_stale(stale)
        return stored

    def head(self, sheet_id: int, organisation_id: int) -> SheetHead:
        found = self.heads([sheet_id], organisation_id).get(sheet_id)
        if found is None:  # another organisation's sheet does not exist
            raise SheetNotFound(str(sheet_id))
        return found

    def heads(self, sheet_ids: Iterable[int], organisation_id: int) -> dict[int, SheetHead]:
        """The organisation's sheets among `sheet_ids`, without their text: one query for any number."""
        ids = sorted(set(sheet_ids))
        if not ids:
            return {}
        with reading(self._sessions) as conn:
            rows = conn.execute(_HEADS, {"ids": ids, "org": organisation_id}).all()
        return {r[0]: head_of(r) for r in rows}

    def save(self, sheet_id: int, organisation_id: int, sheet: Sheet, kind: str = "save",
             base_version: int | None = None, author_id: int | None = None) -> StoredSheet:
        """A new version (an explicit save is a point the user can come back to), unless nothing visible
        changed since the latest version: then nothing is written and the result says `changed=False`.

        With `base_version` (the version the writer started from) a save raises VersionConflict when
        someone else saved in between; without it, the save is appended as before (contract §6)."""
        sheet = _clean(sheet)
        found = stored_findings.rule_findings(sheet)  # before the lock: saves of this sheet wait on it
        stored_keywords.words(sheet)  # likewise (remembered for `_set_findings`)
        with self._sessions.begin() as s:
            row = self._locked(s, sheet_id, organisation_id)
            latest_row = self._latest(s, row.id)
            latest = Sheet.model_validate_json(latest_row.content)
            if same_content(latest, sheet):  # nothing to lose, so no conflict either
                return replace(self._stored(row, latest, _current_findings(latest_row, latest)), changed=False)
            self._check_base(s, row, base_version, author_id)
            return self._append(s, row, sheet, kind, author_id, found, previous=latest)

    def autosave(self, sheet_id: int, organisation_id: int, sheet: Sheet, base_version: int | None = None,
                 author_id: int | None = None, last_word: bool = False,
                 findings: Iterable[Finding] | None = None) -> StoredSheet:
        """Keep typing safe without flooding the history: one person's recent autosaves fold into one
        version. Another person's version is never folded over: that would lose what they wrote.

        `last_word`: the page is being left and this is the last thing it sends, so it is newer than
        any of the writer's own versions (an autosave still in flight when the page was closed).

        `findings`: the rule findings of `sheet` exactly as given, when the caller has just computed them
        (the editor critiques what was typed): used when storing drops nothing (no blank rows)."""
        cleaned = _clean(sheet)
        found = list(findings) if findings is not None and cleaned == sheet else stored_findings.rule_findings(cleaned)
        sheet = cleaned
        stored_keywords.words(sheet)  # before the lock (remembered for `_set_findings`)
        with self._sessions.begin() as s:
            _begin_write(s)
            head = fold.latest(s, sheet_id)  # the usual pause: three statements in SQL Core (coach/fold.py)
            if head is None or head.organisation_id != organisation_id:
                raise SheetNotFound(str(sheet_id))
            stored_sheet = Sheet.model_validate_json(head.content)
            if same_content(stored_sheet, sheet):
                kept = stored_findings.current(head.findings, head.rules_version)
                if kept is not None:
                    return replace(self._stored(head, stored_sheet, kept), changed=False)
            elif fold.foldable(head, stored_sheet, sheet, base_version, author_id, self._window):
                at = fold.fold(s, head, sheet, found)
                return replace(self._stored(head, sheet, found), title=sheet.title, updated_at=at)
            row = self._locked(s, sheet_id, organisation_id, begun=True)
            latest = self._latest(s, row.id)
            stored_sheet = Sheet.model_validate_json(latest.content)
            if same_content(stored_sheet, sheet):
                return replace(self._stored(row, stored_sheet, _current_findings(latest, stored_sheet)), changed=False)
            self._check_base(s, row, base_version, author_id, own_newer_ok=last_word)
            if (latest.kind == "autosave" and latest.author_id == author_id and base_version in (None, row.version)
                    and now() - latest.created_at <= self._window):
                latest.content = sheet.model_dump_json()
                latest.updated_at = now()
                kept = _set_findings(latest, sheet, found)
                self._touch(s, row, sheet, previous=stored_sheet, index_delay=AUTOSAVE_DELAY)
                return self._stored(row, sheet, kept)
            return self._append(s, row, sheet, "autosave", author_id, found, previous=stored_sheet,
                                index_delay=AUTOSAVE_DELAY)

    def upsert_external(self, organisation_id: int, external_id: str, sheet: Sheet) -> StoredSheet:
        """A sheet from outside (`coach index`): created once, then updated as a new version."""
        with self._sessions() as s:
            found = s.scalar(
                select(SheetRow.id).where(SheetRow.organisation_id == organisation_id,
                                          SheetRow.external_id == external_id)
            )
        if found is None:
            return self.create(organisation_id, sheet, kind="import", status=SheetStatus.SUBMITTED,
                               external_id=external_id)
        return self.save(found, organisation_id, sheet, kind="import")  # nothing changed: nothing written

    def find(self, organisation_id: int, ref: str) -> StoredSheet | None:
        """A sheet by the id another system gave it, else by our own id (as exported)."""
        if not ref:
            return None
        with self._sessions() as s:
            found = s.scalar(select(SheetRow.id).where(SheetRow.organisation_id == organisation_id,
                                                       SheetRow.external_id == ref))
        if found is None and ref.isdigit():
            found = int(ref)
        try:
            return self.get(found, organisation_id) if found is not None else None
        except SheetNotFound:
            return None

    def set_status(self, sheet_id: int, organisation_id: int, status: str) -> StoredSheet:
        with self._sessions.begin() as s:
            row = self._row(s, sheet_id, organisation_id)
            row.status = status
            row.updated_at = now()
            s.flush()
            _queue(s, row)
            latest = self._latest(s, row.id)
            sheet = Sheet.model_validate_json(latest.content)
            return self._stored(row, sheet, _current_findings(latest, sheet))

    def delete(self, sheet_id: int, organisation_id: int) -> None:
        """Remove a sheet and its versions; the outbox row queued with it removes its vector. Only for a
        sheet nothing else refers to (no review, stage or link: the database refuses, nothing changes)."""
        with self._sessions.begin() as s:
            row = self._locked(s, sheet_id, organisation_id)
            _queue(s, row)
            s.execute(delete(VersionRow).where(VersionRow.sheet_id == row.id))
            s.execute(delete(SheetRow).where(SheetRow.id == row.id))

    def all(self) -> Iterator[StoredSheet]:
        """Every sheet of every organisation, for rebuilding the index (town by town: the index keeps
        one collection per town and writes each in full batches)."""
        stale: _Stale = []
        with self._sessions() as s:
            for row in s.execute(self._with_latest().order_by(SheetRow.organisation_id, SheetRow.id)):
                yield self._read_joined(row, stale)
        self._store_stale(stale)

    def versions(self, sheet_id: int, organisation_id: int) -> list[VersionInfo]:
        with self._sessions() as s:
            self._row(s, sheet_id, organisation_id)
            rows = s.scalars(
                select(VersionRow).where(VersionRow.sheet_id == sheet_id).order_by(VersionRow.number.desc())
            )
            return [VersionInfo(v.number, v.kind, v.created_at, v.updated_at) for v in rows]

    def version(self, sheet_id: int, organisation_id: int, number: int) -> Sheet:
        with self._sessions() as s:
            self._row(s, sheet_id, organisation_id)
            v = s.scalar(select(VersionRow).where(VersionRow.sheet_id == sheet_id, VersionRow.number == number))
            if v is None:
                raise SheetNotFound(f"version {number} of sheet {sheet_id}")
            return Sheet.model_validate_json(v.content)

    def restore(self, sheet_id: int, organisation_id: int, number: int) -> StoredSheet:
        old = self.version(sheet_id, organisation_id, number)
        return self.save(sheet_id, organisation_id, old, kind="restore")

    def some(self, organisation_id: int, ids: Sequence[int]) -> list[StoredSheet]:
        """The sheets with these ids (a page of a search, coach/workspace/search.py), in the order given."""
        if not ids:
            return []
        stale: _Stale = []
        with self._sessions() as s:
            rows = s.execute(self._with_latest().where(SheetRow.organisation_id == organisation_id,
                                                       SheetRow.id.in_(ids))).all()
            found = {row.id: self._read_joined(row, stale) for row in rows}
        self._store_stale(stale)
        return [found[i] for i in ids if i in found]

    def list(self, organisation_id: int) -> list[StoredSheet]:
        """The organisation's sheets with their latest versions and stored findings: one query."""
        stale: _Stale = []
        with self._sessions() as s:
            rows = s.execute(self._with_latest().where(SheetRow.organisation_id == organisation_id)
                             .order_by(SheetRow.updated_at.desc())).all()
            out = [self._read_joined(row, stale) for row in rows]
        self._store_stale(stale)
        return out

    def count(self) -> int:
        with self._sessions() as s:
            return int(s.scalar(select(func.count()).select_from(SheetRow)) or 0)

    # -- helpers --------------------------------------------------------------------------------

    def _row(self, s: Session, sheet_id: int, organisation_id: int) -> SheetRow:
        row = s.get(SheetRow, sheet_id)
        if row is None or row.organisation_id != organisation_id:  # another organisation's sheet does not exist
            raise SheetNotFound(str(sheet_id))
        return row

    def _locked(self, s: Session, sheet_id: int, organisation_id: int, begun: bool = False) -> SheetRow:
        """The sheet's row, held until the transaction ends: saves of one sheet run one after another.

        PostgreSQL locks the row (SELECT … FOR UPDATE). SQLite has no row locks: BEGIN IMMEDIATE takes
        the database's write lock before anything is read, so the version read here is the latest.
        `begun`: this transaction already holds it (`_begin_write`)."""
        if not begun:
            _begin_write(s)
        row = s.scalar(select(SheetRow).where(SheetRow.id == sheet_id).with_for_update(of=SheetRow)
                       .execution_options(populate_existing=True))
        if row is None or row.organisation_id != organisation_id:
            raise SheetNotFound(str(sheet_id))
        return row

    def _check_base(self, s: Session, row: SheetRow, base: int | None, author_id: int | None,
                    own_newer_ok: bool = True) -> None:
        """Refuse a save started from an older version. An explicit save is let through when every newer
        version is the writer's own (an autosave landed while they pressed 保存): it adds a version and
        loses nothing. An autosave is not: it would undo the writer's own later save (`by_self`)."""
        if base is None or base == row.version:
            return
        own = False
        if 1 <= base < row.version and author_id is not None:
            authors = set(s.scalars(select(VersionRow.author_id).where(VersionRow.sheet_id == row.id,
                                                                       VersionRow.number > base)))
            own = authors == {author_id}
            if own and own_newer_ok:
                return
        raise VersionConflict(row.id, base, row.version, by_self=own)

    def _latest(self, s: Session, sheet_id: int) -> VersionRow:
        v = s.scalar(
            select(VersionRow).where(VersionRow.sheet_id == sheet_id).order_by(VersionRow.number.desc()).limit(1)
        )
        assert v is not None, "a sheet always has a version"
        return v

    def _append(self, s: Session, row: SheetRow, sheet: Sheet, kind: str, author_id: int | None = None,
                found: Iterable[Finding] | None = None, previous: Sheet | None = None,
                index_delay: timedelta = timedelta(0)) -> StoredSheet:
        row.version += 1
        version = VersionRow(sheet_id=row.id, number=row.version, kind=kind, content=sheet.model_dump_json(),
                             author_id=author_id)
        findings = _set_findings(version, sheet, found)
        s.add(version)
        self._touch(s, row, sheet, previous, index_delay)
        return self._stored(row, sheet, findings)

    @staticmethod
    def _with_latest():  # type: ignore[no-untyped-def]
        """Sheets joined to their latest version (a sheet's `version` is its latest version's number), as
        plain rows of the columns a StoredSheet needs: no ORM objects (a listing reads hundreds)."""
        return select(*_SHEET_COLUMNS, *(c.label(f"v_{c.key}") for c in _VERSION_COLUMNS)).join(
            VersionRow, (VersionRow.sheet_id == SheetRow.id) & (VersionRow.number == SheetRow.version))

    def _read_joined(self, row: Row[Any], stale: _Stale) -> StoredSheet:
        """A StoredSheet from one row of `_with_latest`."""
        latest = _Latest(row.v_id, row.v_content, row.v_findings, row.v_rules_version, row.v_updated_at)
        return self._read(row, latest, stale)

    def _read(self, row: SheetRow | Row[Any], latest: VersionRow | _Latest, stale: _Stale) -> StoredSheet:
        """A stored sheet from a read-only session; findings of another rules' version are recomputed
        and queued in `stale` to be stored by `_store_stale` once the read session is closed."""
        sheet = Sheet.model_validate_json(latest.content)
        kept = stored_findings.current(latest.findings, latest.rules_version)
        if kept is not None:
            return self._stored(row, sheet, kept)
        found = stored_findings.rule_findings(sheet)
        stale.append({"vid": latest.id, "stamp": latest.updated_at, "found": stored_findings.encode(found)})
        return self._stored(row, sheet, tuple(found))

    def _store_stale(self, stale: _Stale) -> None:
        """Store recomputed findings, unless the version changed since it was read (an autosave folded
        into it: that save stored its own findings)."""
        if not stale:
            return
        table = cast(Table, VersionRow.__table__)
        stmt = (update(table).where(table.c.id == bindparam("vid"), table.c.updated_at == bindparam("stamp"))
                .values(findings=bindparam("found"), rules_version=stored_findings.RULES_VERSION))
        with self._sessions.begin() as s:
            s.connection().execute(stmt, stale)

    def _touch(self, s: Session, row: SheetRow, sheet: Sheet, previous: Sheet | None = None,
               index_delay: timedelta = timedelta(0)) -> None:
        """The sheet row follows its latest version. `previous`: that version's content before this write;
        its section is the row's section, so the lookup is skipped when the section did not change.
        `index_delay`: how long its index update may wait for more saves (autosaves: coach/outbox.py)."""
        row.title = sheet.title
        if previous is None or previous.section != sheet.section:
            row.section = self._section(s, row.organisation_id, sheet.section)
        row.updated_at = now()
        s.flush()
        _queue(s, row, index_delay)

    @staticmethod
    def _stored(row: SheetRow | Row[Any], sheet: Sheet, findings: Iterable[Finding] = ()) -> StoredSheet:
        return StoredSheet(
            id=row.id,
            organisation_id=row.organisation_id,
            external_id=row.external_id,
            section=sheet.section,
            title=row.title,
            status=row.status,
            version=row.version,
            sheet=sheet,
            created_at=row.created_at,
            updated_at=row.updated_at,
            findings=tuple(findings),
        )


def _begin_write(s: Session) -> None:
    """SQLite: take the database's write lock before reading (BEGIN IMMEDIATE); PostgreSQL locks rows instead."""
    conn = s.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _queue(s: Session, row: SheetRow, delay: timedelta = timedelta(0)) -> None:
    """What the index should hold changed: queue its update in this same transaction (coach/outbox.py)."""
    enqueue(s, row.id, row.organisation_id, row.version, row.updated_at, delay)


def _set_findings(version: VersionRow, sheet: Sheet, given: Iterable[Finding] | None = None) -> tuple[Finding, ...]:
    """Inside a write transaction: the version's rule findings (computed before it, else now), stored with it,
    and the keyword map's words (coach/stored_keywords.py)."""
    found = list(given) if given is not None else stored_findings.rule_findings(sheet)
    version.findings = stored_findings.encode(found)
    version.rules_version = stored_findings.RULES_VERSION
    stored_keywords.store(version, sheet)
    return tuple(found)


def _current_findings(version: VersionRow, sheet: Sheet) -> tuple[Finding, ...]:
    """Inside a write transaction: the stored findings, recomputed (and stored) if the rules changed."""
    kept = stored_findings.current(version.findings, version.rules_version)
    return kept if kept is not None else _set_findings(version, sheet)


def load_samples(repo: SheetRepository, organisation_id: int, lines: list[str]) -> int:
    """Load the bundled sample sheets into an empty database (first start only)."""
    if repo.count():
        return 0
    n = 0
    for line in lines:
        if line.strip():
            data = json.loads(line)
            repo.create(organisation_id, Sheet.model_validate(data), kind="create", status=SheetStatus.SUBMITTED)
            n += 1
    return n
