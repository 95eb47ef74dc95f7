"""The figures on the DX team's overview page, computed from the stored sheets. Pure: no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from coach.findings import CODE_LABELS, Finding
from coach.repository import StoredSheet
from coach.retrieval.concepts import concepts_in
from coach.stored_keywords import Words
from coach.stored_keywords import words as words_of
from coach.workspace.cycle import STAGES, StageChange, stage_of
from coach.workspace.keywords import Edge, Node, keyword_map_of


def fiscal_year(d: date) -> int:
    """A town's year (年度) starts on 1 April."""
    return d.year if d.month >= 4 else d.year - 1


@dataclass
class Overview:
    sections_total: int
    sections_with_sheet: int
    sections_without: list[str]
    cases: int
    stage_counts: list[tuple[str, int]]
    fiscal_year: int
    moved_forward: int
    code_counts: list[tuple[str, str, int]]
    shared: list[tuple[str, list[str]]]
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    linked: set[str] = field(default_factory=set)  # shared problems the DX team linked sheets under

    @property
    def moved_share(self) -> float:
        return self.moved_forward / self.cases if self.cases else 0.0


def moved_forward(changes: list[StageChange], fy: int) -> bool:
    """Did the case reach a later stage (not 保留) during fiscal year `fy`?"""
    order = {s: i for i, s in enumerate(STAGES[:-1])}
    best = 0  # every case starts at the first stage
    for c in changes:
        if c.stage in order:
            if fiscal_year(c.on) == fy and order[c.stage] > best:
                return True
            best = max(best, order[c.stage]) if fiscal_year(c.on) < fy else best
    return False


def build(sheets: list[StoredSheet], sections: list[str], stages: dict[int, list[StageChange]],
          findings: dict[int, list[Finding]], today: date,
          linked: Sequence[tuple[str, Iterable[str]]] = (), words: dict[int, Words] | None = None) -> Overview:
    """`linked`: the DX team's groups of linked sheets, as (problem label, their sections). A label
    counts as a problem of its own, or adds its sections to the recurring problem of the same name.
    `words`: each sheet's keyword-map words as stored (coach/stored_keywords.py); a sheet without an
    entry is analysed here."""
    words = words or {}
    with_sheet = {s.section for s in sheets}
    all_sections = sorted(set(sections) | with_sheet)
    per_stage = Counter(stage_of(stages.get(s.id, [])) for s in sheets)
    fy = fiscal_year(today)
    codes = Counter(f.code for fs in findings.values() for f in fs if f.code)
    shared: dict[str, set[str]] = {}
    for s in sheets:
        text = " ".join([s.sheet.asis, *s.sheet.problems])
        for concept in concepts_in(text):
            shared.setdefault(concept, set()).add(s.section)
    for label, label_sections in linked:
        shared.setdefault(label, set()).update(label_sections)
    nodes, edges = keyword_map_of([words[s.id] if s.id in words else words_of(s.sheet) for s in sheets])
    return Overview(
        sections_total=len(all_sections),
        sections_with_sheet=len(with_sheet),
        sections_without=[s for s in all_sections if s not in with_sheet],
        cases=len(sheets),
        stage_counts=[(st, per_stage.get(st, 0)) for st in STAGES],
        fiscal_year=fy,
        moved_forward=sum(moved_forward(stages.get(s.id, []), fy) for s in sheets),
        code_counts=[(c, CODE_LABELS.get(c, c), n) for c, n in codes.most_common()],
        shared=sorted(((c, sorted(secs)) for c, secs in shared.items() if len(secs) >= 2),
                      key=lambda kv: (-len(kv[1]), kv[0])),
        nodes=nodes,
        edges=edges,
        linked={label for label, _ in linked},
    )
