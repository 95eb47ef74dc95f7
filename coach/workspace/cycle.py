"""The 1係1DX cycle of each case: dated stages, themes (an editable list) and outcome figures.

This is the DX team's view. Themes name kinds of solution (AI活用, GIS活用 …); they never reach
the coach that section staff see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coach.db import Base, SheetRow, now
from coach.errors import BadInput, FieldError
from coach.workspace.accounts import Account
from coach.workspace.audit import AuditRow, write_audit
from coach.workspace.audit_events import OutcomeRecorded, SheetThemesSet, StageMoved, ThemeAdded, ThemeRemoved

STAGES = ["現状フロー", "壁打ち", "シート整理", "目指すフロー", "仕組み構築", "テスト", "共有・承認", "本番運用", "保留"]
DEFAULT_THEMES = ["オンライン手続", "GIS活用", "オープンデータ", "文書保存のデジタル化", "AI活用", "地域ポイント活用",
                  "医療情報連携", "楽らく窓口"]
MAX_OUTCOME = 1e15  # a town's yearly hours or yen stay far below; beyond this a figure is a typo
OUTCOME_KINDS = {
    "hours": ("年間の削減時間", "時間/年"),
    "cost": ("年間の削減コスト", "円/年"),
    "error_rate": ("誤り率", "%"),
    "satisfaction": ("住民満足度", "%"),
    "kpi": ("KPI", ""),
}


class StageRow(Base):
    __tablename__ = "stage_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    on: Mapped[date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=now)


class ThemeRow(Base):
    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))


class SheetThemeRow(Base):
    __tablename__ = "sheet_themes"
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), primary_key=True)


class OutcomeRow(Base):
    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    measured_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class StageChange:
    stage: str
    on: date
    by: str


@dataclass(frozen=True)
class Theme:
    id: int
    name: str


@dataclass(frozen=True)
class Outcome:
    id: int
    kind: str
    label: str
    value: float
    unit: str
    measured_on: date
    note: str


class Cycle:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- stages ---------------------------------------------------------------------------------

    def move(self, who: Account, sheet_id: int, stage: str, on: date) -> None:
        if stage not in STAGES:
            raise BadInput([FieldError("stage", None, "段階を一覧から選んでください。")])
        if on > date.today():
            raise BadInput([FieldError("on", None, "未来の日付は記録できません。")])
        with self._sessions.begin() as s:
            s.add(StageRow(sheet_id=sheet_id, stage=stage, on=on, by=who.name))
            write_audit(s, who, sheet_id, StageMoved(stage, on.isoformat()))

    def stages(self, sheet_id: int) -> list[StageChange]:
        """Oldest first; a case with no recorded change is at the first stage since it was created."""
        with self._sessions() as s:
            rows = s.scalars(select(StageRow).where(StageRow.sheet_id == sheet_id).order_by(StageRow.on, StageRow.id))
            return [StageChange(r.stage, r.on, r.by) for r in rows]

    def current_stages(self, organisation_id: int) -> dict[int, list[StageChange]]:
        with self._sessions() as s:
            rows = s.scalars(select(StageRow).join(SheetRow, SheetRow.id == StageRow.sheet_id)
                             .where(SheetRow.organisation_id == organisation_id)
                             .order_by(StageRow.on, StageRow.id))
            out: dict[int, list[StageChange]] = {}
            for r in rows:
                out.setdefault(r.sheet_id, []).append(StageChange(r.stage, r.on, r.by))
            return out

    # -- themes ---------------------------------------------------------------------------------

    def themes(self, organisation_id: int) -> list[Theme]:
        with self._sessions.begin() as s:
            rows = list(s.scalars(select(ThemeRow).where(ThemeRow.organisation_id == organisation_id)
                                  .order_by(ThemeRow.id)))
            if not rows and not s.scalar(select(AuditRow.id).where(AuditRow.organisation_id == organisation_id,
                                                                    AuditRow.action == ThemeAdded.action).limit(1)):
                for name in DEFAULT_THEMES:  # the town's eight, until the DX team edits the list
                    s.add(ThemeRow(organisation_id=organisation_id, name=name))
                s.flush()
                rows = list(s.scalars(select(ThemeRow).where(ThemeRow.organisation_id == organisation_id)
                                      .order_by(ThemeRow.id)))
            return [Theme(r.id, r.name) for r in rows]

    def add_theme(self, who: Account, name: str) -> None:
        name = name.strip()
        if not name or len(name) > 50:
            raise BadInput([FieldError("name", None, "テーマ名を50文字以内で入力してください。")])
        existing = {t.name for t in self.themes(who.organisation_id)}
        if name in existing:
            raise BadInput([FieldError("name", None, "同じ名前のテーマがすでにあります。")])
        with self._sessions.begin() as s:
            s.add(ThemeRow(organisation_id=who.organisation_id, name=name))
            write_audit(s, who, None, ThemeAdded(name))

    def remove_theme(self, who: Account, theme_id: int) -> None:
        with self._sessions.begin() as s:
            row = s.get(ThemeRow, theme_id)
            if row is None or row.organisation_id != who.organisation_id:
                raise BadInput([FieldError("theme", None, "そのテーマは見つかりません。")])
            s.execute(delete(SheetThemeRow).where(SheetThemeRow.theme_id == theme_id))
            write_audit(s, who, None, ThemeRemoved(row.name))
            s.delete(row)

    def set_sheet_themes(self, who: Account, sheet_id: int, theme_ids: list[int]) -> None:
        names = {t.id: t.name for t in self.themes(who.organisation_id)}
        chosen = sorted(set(theme_ids) & set(names))
        with self._sessions.begin() as s:
            s.execute(delete(SheetThemeRow).where(SheetThemeRow.sheet_id == sheet_id))
            for tid in chosen:
                s.add(SheetThemeRow(sheet_id=sheet_id, theme_id=tid))
            write_audit(s, who, sheet_id, SheetThemesSet(tuple(names[t] for t in chosen)))

    def sheet_themes(self, organisation_id: int) -> dict[int, list[str]]:
        with self._sessions() as s:
            rows = s.execute(select(SheetThemeRow.sheet_id, ThemeRow.name)
                             .join(ThemeRow, ThemeRow.id == SheetThemeRow.theme_id)
                             .where(ThemeRow.organisation_id == organisation_id).order_by(ThemeRow.id))
            out: dict[int, list[str]] = {}
            for sheet_id, name in rows:
                out.setdefault(sheet_id, []).append(name)
            return out

    # -- outcomes -------------------------------------------------------------------------------

    def add_outcome(self, who: Account, sheet_id: int, kind: str, value: str, unit: str, measured_on: date,
                    label: str = "", note: str = "") -> None:
        if kind not in OUTCOME_KINDS:
            raise BadInput([FieldError("kind", None, "成果の種類を一覧から選んでください。")])
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or abs(number) >= MAX_OUTCOME:  # nan, inf, 1e999 are no figures
            raise BadInput([FieldError("value", None, "数値を半角で入力してください（例 120 や 3.5。"
                                                      "1,000兆未満の数です）。")])
        default_label, default_unit = OUTCOME_KINDS[kind]
        label = (label.strip() or default_label)[:100]
        unit = (unit.strip() or default_unit)[:20]
        if kind == "kpi" and not label.strip("KPI "):
            raise BadInput([FieldError("label", None, "KPI の名前を入力してください（例 電子申請の割合）。")])
        with self._sessions.begin() as s:
            s.add(OutcomeRow(sheet_id=sheet_id, kind=kind, label=label, value=number, unit=unit,
                             measured_on=measured_on, note=note.strip()[:500]))
            write_audit(s, who, sheet_id, OutcomeRecorded(kind, number))

    def outcomes(self, sheet_id: int) -> list[Outcome]:
        with self._sessions() as s:
            rows = s.scalars(select(OutcomeRow).where(OutcomeRow.sheet_id == sheet_id)
                             .order_by(OutcomeRow.measured_on, OutcomeRow.id))
            return [Outcome(r.id, r.kind, r.label, r.value, r.unit, r.measured_on, r.note) for r in rows]

    def outcomes_of_organisation(self, organisation_id: int) -> dict[int, list[Outcome]]:
        """Every sheet's outcomes in one query (the export's summary)."""
        with self._sessions() as s:
            rows = s.scalars(select(OutcomeRow).join(SheetRow, SheetRow.id == OutcomeRow.sheet_id)
                             .where(SheetRow.organisation_id == organisation_id)
                             .order_by(OutcomeRow.measured_on, OutcomeRow.id))
            out: dict[int, list[Outcome]] = {}
            for r in rows:
                out.setdefault(r.sheet_id, []).append(Outcome(r.id, r.kind, r.label, r.value, r.unit,
                                                              r.measured_on, r.note))
            return out


def stage_of(changes: list[StageChange]) -> str:
    return changes[-1].stage if changes else STAGES[0]
