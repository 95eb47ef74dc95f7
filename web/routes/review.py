"""The DX team's review: the queue (flagged first) and one sheet's review page with its actions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coach.app import Services
from coach.errors import BadInput, FieldError
from coach.findings import CODE_LABELS, FIELDS_OF, Finding
from coach.repository import StoredSheet
from coach.sheet import LABELS, LIST_FIELDS, MAX_ITEMS, Sheet
from coach.workspace.accounts import Account
from coach.workspace.audit_events import ACTIONS, Decision
from coach.workspace.audit_search import PAGE_SIZE as AUDIT_PAGE
from coach.workspace.audit_search import AuditQuery, audit_query
from coach.workspace.audit_search import count as audit_count
from coach.workspace.audit_search import entries as audit_entries
from coach.workspace.audit_search import people as audit_people
from coach.workspace.cycle import STAGES
from coach.workspace.diff import diff
from coach.workspace.permissions import visible
from coach.workspace.queue import STATE_ORDER, queue
from coach.workspace.queue_filter import HEARING, SORTS, QueueQuery, queue_query
from coach.workspace.queue_filter import apply as apply_filter
from coach.workspace.review import COMMENT_FIELDS, Review
from coach.workspace.submission import state_of
from web.auth import DxDep, check_csrf
from web.deps import ServicesDep
from web.forms import FormDep
from web.htmx import render
from web.linked import review_context
from web.params import MAX_ID, SheetId, bounded_id

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


@router.get("/review", response_class=HTMLResponse)
def review_queue(request: Request, who: DxDep, services: ServicesDep) -> Response:
    org = who.organisation_id
    sections, themes = services.repo.sections(org), [t.name for t in services.cycle.themes(org)]
    try:
        query, wrong = queue_query(request.query_params, sections, themes), None
    except BadInput as exc:  # the whole queue, with the reasons above it
        query, wrong = QueueQuery(), exc
    items = queue(services, who)
    themes_of = services.cycle.sheet_themes(org)
    narrowed = apply_filter(items, replace(query, state="all"), themes_of)
    counts = {s: sum(i.state == s for i in narrowed) for s in STATE_ORDER}
    context = {"org_name": services.organisation_name, "items": apply_filter(items, query, themes_of),
               "state": query.state, "counts": counts, "flagged": sum(i.flagged for i in items), "query": query,
               "wrong": wrong, "sections": _pairs(sections), "themes": _pairs(themes), "stages": _pairs(STAGES), "sorts": SORTS,
               "hearings": HEARING}
    return render(request, "review_queue.html", context, status_code=422 if wrong else 200)


def _pairs(names: list[str]) -> list[tuple[str, str]]:
    return [(n, n) for n in names]


@router.get("/review/log", response_class=HTMLResponse)
def audit_log(request: Request, who: DxDep, services: ServicesDep) -> Response:
    """Everything done in the workspace, newest first, a page at a time: by person, kind and date."""
    org, sessions = who.organisation_id, services.repo.sessions
    names = audit_people(sessions, org)
    try:
        query, wrong = audit_query(request.query_params, names), None
    except BadInput as exc:  # the unfiltered log, with the reasons above it
        query, wrong = AuditQuery(), exc
    log = audit_entries(sessions, org, query)
    ids = {e.sheet_id for e in log if e.sheet_id is not None}
    titles = {s.id: f"{s.section}：{s.title}" for s in visible(who, services.repo.some(org, sorted(ids)))}
    total = audit_count(sessions, org, query)
    context = {"org_name": services.organisation_name, "log": log, "titles": titles, "query": query,
               "wrong": wrong, "people": names, "kinds": ACTIONS, "total": total,
               "pages": max(1, -(-total // AUDIT_PAGE))}
    return render(request, "audit.html", context, status_code=422 if wrong else 200)


def _stored(services: Services, who: DxDep, sheet_id: int) -> StoredSheet:
    return services.repo.get(sheet_id, who.organisation_id)


def shown_findings(services: Services, stored: StoredSheet, review: Review | None) -> tuple[list[Finding], str]:
    """What the critics said when the sheet was submitted (the AI coach's findings too, if it ran),
    as long as the sheet has not changed since; otherwise what the rules say about it now."""
    if review is not None and review.submitted_version == stored.version and review.findings:
        return review.findings, review.engine
    return list(stored.findings), services.critic.engine  # the rule findings stored with this version


@router.get("/review/{sheet_id}", response_class=HTMLResponse)
def review_page(request: Request, sheet_id: SheetId, who: DxDep, services: ServicesDep,
                from_: Annotated[int | None, Query(alias="from", ge=1, le=MAX_ID, description="比べる版")] = None,
                to: Annotated[int | None, Query(ge=1, le=MAX_ID, description="比べる版")] = None) -> Response:
    return _page(request, who, services, sheet_id, from_, to)


def _page(request: Request, who: Account, services: Services, sheet_id: int, from_: int | None = None,
          to: int | None = None, refused: tuple[str, BadInput, dict[str, str]] | None = None) -> Response:
    """The review page; `refused` = (form, error, what was typed): shown again beside the form, 422."""
    stored = _stored(services, who, sheet_id)
    q = request.query_params
    versions = services.repo.versions(sheet_id, who.organisation_id)
    review = services.reviews.get(sheet_id)
    new_v = to or stored.version
    repo = services.repo
    old_v = from_ or _last_different(services, stored, [v.number for v in versions])
    changes = diff(repo.version(sheet_id, who.organisation_id, old_v), repo.version(sheet_id, who.organisation_id, new_v))
    current = [lb for _, lb in services.reviews.labels(sheet_id) if lb.version == stored.version]
    labels = {(lb.code, lb.field, lb.item): lb.verdict for lb in current}
    findings, engine = shown_findings(services, stored, review)
    rules = {f.key() for f in stored.findings}
    org = who.organisation_id
    log = services.reviews.log(org, sheet_id)
    context: dict[str, Any] = {
        "org_name": services.organisation_name, "stored": stored, "sheet": stored.sheet, "review": review,
        "findings": findings, "engine": engine, "ai_keys": {f.key() for f in findings} - rules, "labels": labels,
        "comments": services.reviews.comments(sheet_id), "versions": versions, "old_v": old_v, "new_v": new_v,
        "changes": changes, "similar": services.similar.similar(who, stored.sheet, k=5, exclude_ref=_ref(stored),
                                                               sheet_id=sheet_id),
        "log": log, "comment_fields": COMMENT_FIELDS,
        "missed": [lb for lb in current if lb.verdict == "added"],
        "missed_targets": missed_targets(stored.sheet),
        "cycle": state_of(stored.status, review).value,
        "decision": next((e for e in log if isinstance(e.event, Decision)), None),
        "stages": services.cycle.stages(sheet_id), "themes": services.cycle.themes(org),
        "sheet_themes": services.cycle.sheet_themes(org).get(sheet_id, []),
        "outcomes": services.cycle.outcomes(sheet_id), "today": date.today().isoformat(),
        "flash": q.get("done", "") if refused is None else "",
        "refused": _refused(refused),
        **review_context(services, who, stored),
    }
    return render(request, "review.html", context, status_code=422 if refused else 200)


def _refused(refused: tuple[str, BadInput, dict[str, str]] | None) -> dict[str, Any]:
    if refused is None:
        return {"form": "", "errors": {}, "typed": {}}
    form, exc, values = refused
    errors = {e.field: e.reason for e in exc.errors} or {"": exc.message}
    return {"form": form, "errors": errors, "typed": values}


def missed_targets(sheet: Sheet) -> list[tuple[str, str]]:
    """Every (value, label) the missed-finding form may offer: a code, a field it may point at
    (the guard's one table) and, for a list, a row that exists. Nothing impossible is offered."""
    out = []
    for code, fields in FIELDS_OF.items():
        for field in fields:
            rows = getattr(sheet, field)
            if isinstance(rows, list) and code != "FIELD_EMPTY":
                out += [(f"{code}|{field}|{n}", f"{CODE_LABELS[code]} — {LABELS[field]} {n + 1}行目「{text[:20]}」")
                        for n, text in enumerate(rows)]
            else:
                out.append((f"{code}|{field}|", f"{CODE_LABELS[code]} — {LABELS[field]}"))
    return out


def _last_different(services: Services, stored: StoredSheet, numbers: list[int], look_back: int = 30) -> int:
    """The newest earlier version whose text differs from the current one (saving without changes
    also makes a version), so the diff shows what the section last changed."""
    for n in numbers[1:look_back]:
        if services.repo.version(stored.id, stored.organisation_id, n) != stored.sheet:
            return n
    return numbers[-1] if numbers else stored.version


def _ref(stored: StoredSheet) -> str:
    from coach.retrieval.entries import entry_of

    return entry_of(stored).ref


def _row_index(typed: str) -> int | None:
    """Reviewers number rows from 1, as the sheet shows them; stored indexes start at 0."""
    if not typed.strip():
        return None
    row = bounded_id(typed)
    if row is None or row > MAX_ITEMS:
        raise BadInput([FieldError("item", None, f"行は1〜{MAX_ITEMS}の数字で入力してください。")])
    return row - 1


def _back(sheet_id: int, done: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/review/{sheet_id}?done={done}{anchor}", status_code=303)


@router.post("/review/{sheet_id}/findings")
def judge(sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    stored = _stored(services, who, sheet_id)
    key = (str(form.get("code", "")), str(form.get("field", "")), str(form.get("item", "")))
    finding = _finding(shown_findings(services, stored, services.reviews.get(sheet_id))[0], key)
    services.reviews.judge(who, sheet_id, stored.version, finding, str(form.get("verdict", "")))
    return _back(sheet_id, "judged", "#findings")


def _finding(findings: list[Finding], key: tuple[str, str, str]) -> Finding:
    for f in findings:
        if (f.code, f.field, "" if f.item is None else str(f.item)) == key:
            return f
    raise BadInput([FieldError("code", None, "その指摘は今の版にはありません。ページを読み込み直してください。")])


@router.post("/review/{sheet_id}/missed")
def missed(request: Request, sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    stored = _stored(services, who, sheet_id)
    code, field, row = str(form.get("code", "")), str(form.get("field", "")), str(form.get("item", ""))
    if form.get("target"):  # the page's one select: code|field|row index (0-based)
        code, field, index = (str(form.get("target", "")).split("|") + ["", ""])[:3]
        row = str(int(index) + 1) if index.isdigit() else ""
    try:
        services.reviews.add_missed(who, sheet_id, stored.version, stored.sheet, code, field, _row_index(row))
    except BadInput as exc:
        return _page(request, who, services, sheet_id, refused=("missed", exc, _typed(form)))
    return _back(sheet_id, "missed", "#findings")


def _typed(form: Any) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@router.post("/review/{sheet_id}/comments")
def comment(sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    stored = _stored(services, who, sheet_id)
    item = _row_index(str(form.get("item", "")))
    field = str(form.get("field", "general"))
    review = services.reviews.get(sheet_id)
    version = review.submitted_version if review else stored.version
    services.reviews.comment(who, sheet_id, version, field, item if field in LIST_FIELDS else None,
                             str(form.get("body", "")))
    services.notices_written()  # the comment's notices go out by mail now (coach/mail.py)
    return _back(sheet_id, "commented", "#comments")


@router.post("/review/{sheet_id}/decision")
def decide(request: Request, sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    stored = _stored(services, who, sheet_id)
    try:
        services.decide(who, stored, str(form.get("decision", "")), str(form.get("note", "")))
    except BadInput as exc:
        return _page(request, who, services, sheet_id, refused=("decision", exc, _typed(form)))
    return _back(sheet_id, str(form.get("decision", "")))


@router.post("/review/{sheet_id}/stage")
def stage(sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    _stored(services, who, sheet_id)
    services.cycle.move(who, sheet_id, str(form.get("stage", "")), _date(str(form.get("on", ""))))
    return _back(sheet_id, "stage", "#cycle")


@router.post("/review/{sheet_id}/themes")
def themes(sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    _stored(services, who, sheet_id)
    ids = [i for v in form.getlist("theme") if isinstance(v, str) and (i := bounded_id(v)) is not None]
    services.cycle.set_sheet_themes(who, sheet_id, ids)
    return _back(sheet_id, "themes", "#cycle")


@router.post("/review/{sheet_id}/outcomes")
def outcome(request: Request, sheet_id: SheetId, who: DxDep, services: ServicesDep, form: FormDep) -> Response:
    _stored(services, who, sheet_id)
    try:
        services.cycle.add_outcome(who, sheet_id, str(form.get("kind", "")), str(form.get("value", "")),
                                   str(form.get("unit", "")), _date(str(form.get("on", ""))),
                                   label=str(form.get("label", "")), note=str(form.get("note", "")))
    except BadInput as exc:
        return _page(request, who, services, sheet_id, refused=("outcome", exc, _typed(form)))
    return _back(sheet_id, "outcome", "#cycle")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else date.today()
    except ValueError:
        raise BadInput([FieldError("on", None, "日付は 2026-04-01 の形で入力してください。")]) from None
