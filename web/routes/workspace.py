"""The DX team's overview, Excel/CSV export and import (preview, then confirm), and the A4 print view."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coach import stored_keywords
from coach.app import Services
from coach.errors import BadInput, FieldError
from coach.repository import StoredSheet
from coach.status import SheetStatus, status_label
from coach.workspace import exchange
from coach.workspace.accounts import Account
from coach.workspace.audit_events import FileImported
from coach.workspace.cycle import stage_of
from coach.workspace.import_previews import AlreadyImported, NotPending
from coach.workspace.keywords import using
from coach.workspace.links import groups
from coach.workspace.overview import build
from coach.workspace.permissions import can_import_over, visible
from coach.workspace.queue import queue
from coach.workspace.submission import FROZEN
from coach.workspace.upload import in_pool
from web.access import readable
from web.auth import DxDep, UserDep, check_csrf
from web.charts import bars, network, ring
from web.deps import RepoDep, ServicesDep
from web.htmx import render
from web.params import SheetId

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WORD = 50
OVERFLOW_CHARS = 3000  # beyond this a sheet no longer fits one A4 page at a readable size


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, who: DxDep, services: ServicesDep) -> Response:
    org = who.organisation_id
    sheets = visible(who, services.repo.list(org))
    by_id = {s.id: s for s in sheets}
    linked = [(g.label, [by_id[i].section for i in g.sheet_ids if i in by_id])
              for g in groups(services.links.of_organisation(org))]
    view = build(sheets, services.repo.sections(org), services.cycle.current_stages(org),
                 {s.id: list(s.findings) for s in sheets}, date.today(), linked,
                 stored_keywords.of_sheets(services.repo.sessions, org, sheets))
    charts = {
        "coverage": ring(view.sections_with_sheet, view.sections_total, "シートがある係"),
        "stages": bars(view.stage_counts, "段階ごとの案件数"),
        "codes": bars([(label, n) for _, label, n in view.code_counts], "多い指摘"),
        "keywords": network(view.nodes, view.edges, "全シートのキーワードマップ", link=word_link),
    }
    context = {"org_name": services.organisation_name, "view": view, "charts": charts,
               "by_theme": _by_theme(services, org, sheets), "word_link": word_link}
    return render(request, "overview.html", context)


def word_link(word: str) -> str:
    return f"/overview/words?{urlencode({'word': word})}"


@router.get("/overview/words", response_class=HTMLResponse)
def sheets_using_word(request: Request, who: DxDep, services: ServicesDep, word: str = "") -> Response:
    """The keyword map's word, clicked: every sheet of this town that uses it (the DX team only)."""
    word = word.strip()
    if not word or len(word) > MAX_WORD:
        raise BadInput([FieldError("word", None, f"言葉（word）を1〜{MAX_WORD}文字で指定してください。")])
    listed = services.repo.list(who.organisation_id)
    words = stored_keywords.of_sheets(services.repo.sessions, who.organisation_id, listed)
    sheets = sorted(using(word, listed, words), key=lambda s: (s.section, s.title))
    context = {"org_name": services.organisation_name, "word": word, "sheets": sheets}
    return render(request, "overview_word.html", context)


def _by_theme(services: Services, org: int, sheets: list[StoredSheet]) -> list[tuple[str, list[StoredSheet]]]:
    """The DX team's grouping: each theme with its cases (and their solution ideas from the margin)."""
    themes = services.cycle.sheet_themes(org)
    out = []
    for theme in services.cycle.themes(org):
        cases = [s for s in sheets if theme.name in themes.get(s.id, [])]
        out.append((theme.name, sorted(cases, key=lambda s: (s.section, s.title))))
    untagged = [s for s in sheets if s.status == SheetStatus.SUBMITTED and not themes.get(s.id)]
    if untagged:
        out.append(("テーマ未設定", sorted(untagged, key=lambda s: (s.section, s.title))))
    return out


# -- export ---------------------------------------------------------------------------------------

def _sheet_rows(sheets: list[StoredSheet]) -> list[list[Any]]:
    return [exchange.sheet_row(s.external_id or str(s.id), s.sheet) for s in sheets]


SUMMARY_HEADERS = ["ID", "係名", "業務・案件名", "状態", "段階", "段階の日付", "テーマ", "要見直し", "確認", "提出日", "成果"]


def _summary_rows(services: Services, who: Account, sheets: list[StoredSheet]) -> list[list[Any]]:
    stages = services.cycle.current_stages(who.organisation_id)
    themes = services.cycle.sheet_themes(who.organisation_id)
    by_id = {i.stored.id: i for i in queue(services, who, sheets)}  # submitted ones
    outcomes = services.cycle.outcomes_of_organisation(who.organisation_id)
    rows = []
    for s in sheets:
        changes = stages.get(s.id, [])
        item = by_id.get(s.id)
        measured = "、".join(f"{o.label} {o.value:g}{o.unit}（{o.measured_on}）" for o in outcomes.get(s.id, []))
        rows.append([s.external_id or str(s.id), s.section, s.title,
                     status_label(item.state) if item else SheetStatus.DRAFT.label, stage_of(changes),
                     changes[-1].on.isoformat() if changes else "", "、".join(themes.get(s.id, [])),
                     s.errors, s.warnings, item.since.date().isoformat() if item else "", measured])
    return rows


def _by_section(services: Services, who: Account) -> list[StoredSheet]:
    return sorted(visible(who, services.repo.list(who.organisation_id)), key=lambda s: (s.section, s.title))


def _download(body: bytes, media: str, name: str) -> Response:
    stamp = date.today().strftime("%Y%m%d")
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}-{stamp}"
                             f"{'.xlsx' if media == XLSX else '.csv'}"})


@router.get("/export/sheets.xlsx")
def export_xlsx(who: DxDep, services: ServicesDep) -> Response:
    sheets = _by_section(services, who)
    body = exchange.to_xlsx([
        (exchange.SUMMARY_TITLE, SUMMARY_HEADERS, _summary_rows(services, who, sheets)),
        (exchange.SHEETS_TITLE, [label for _, label in exchange.COLUMNS], _sheet_rows(sheets)),
    ])
    return _download(body, XLSX, "curry-sheets")


@router.get("/export/sheets.csv")
def export_sheets_csv(who: DxDep, services: ServicesDep) -> Response:
    sheets = _by_section(services, who)
    body = exchange.to_csv([label for _, label in exchange.COLUMNS], _sheet_rows(sheets))
    return _download(body, "text/csv; charset=utf-8", "curry-sheets")


@router.get("/export/summary.csv")
def export_summary_csv(who: DxDep, services: ServicesDep) -> Response:
    body = exchange.to_csv(SUMMARY_HEADERS, _summary_rows(services, who, _by_section(services, who)))
    return _download(body, "text/csv; charset=utf-8", "curry-summary")


# -- import ---------------------------------------------------------------------------------------

def _plan(services: Services, who: Account, filename: str, data: bytes) -> list[exchange.ImportRow]:
    """Runs in the upload pool (coach/workspace/upload.py): reading a file never blocks the event loop."""
    table = exchange.read_file(filename, data)
    return exchange.plan(exchange.parse(table.headers, table.rows, table.missing), lambda ref: services.repo.find(who.organisation_id, ref),
                         lambda target: can_import_over(who, target)
                         and services.submissions.state_of(target.id) not in FROZEN)


STATE_HINTS: dict[str, str] = {SheetStatus.DRAFT: "係が取り込まれた内容を確かめてから提出します。下書きのあいだは、取り込みで上書きしません。",
               SheetStatus.SUBMITTED: "すぐにレビュー待ちに入ります。"}


def _context(services: Services, filename: str = "", error: str = "", done: str = "") -> dict[str, Any]:
    states = [(value, label, STATE_HINTS[value]) for value, label in exchange.IMPORT_STATES.items()]
    return {"org_name": services.organisation_name, "rows": None, "error": error, "token": "",
            "filename": filename, "done": done, "states": states}


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request, who: DxDep, services: ServicesDep) -> Response:
    q = request.query_params
    state = exchange.IMPORT_STATES.get(q.get("status", ""), "")
    done = (f"{q['created']} 枚を新しく取り込み{f'（{state}）' if state else ''}、{q['updated']} 枚を更新しました。"
            if "created" in q and "updated" in q else "")
    return render(request, "import.html", _context(services, done=done))


@router.post("/import", response_class=HTMLResponse)
async def import_preview(request: Request, file: UploadFile, who: DxDep, services: ServicesDep) -> Response:
    data = await file.read(exchange.MAX_BYTES + 1)
    return await in_pool(_preview, request, services, who, (file.filename or "")[:200], data)


def _preview(request: Request, services: Services, who: Account, filename: str, data: bytes) -> Response:
    """In the upload pool: read the file, keep it as a preview, show what would happen (the page's
    header reads the database too)."""
    context = _context(services, filename)
    try:
        rows = _plan(services, who, filename, data)
    except BadInput as exc:
        context["error"] = exc.errors[0].reason if exc.errors else exc.message
        return render(request, "import.html", context, status_code=422)
    token = services.previews.add(who.id, filename, data)
    context.update(rows=rows, token=token)
    return render(request, "import.html", context)


@router.post("/import/{token}", response_class=HTMLResponse)
async def import_confirm(request: Request, token: str, who: DxDep, services: ServicesDep,
                         status: Annotated[str, Form()] = SheetStatus.DRAFT) -> Response:
    return await in_pool(_confirm, request, services, who, token, exchange.import_state(status))


def _confirm(request: Request, services: Services, who: Account, token: str, status: str) -> Response:
    """In the upload pool: the import, or the page that says why not (`status` is checked)."""
    try:
        created, updated = _import(services, who, token, status)
    except NotPending:
        return render(request, "import.html", _context(
            services, error="確認待ちの取り込みが見つかりません（1時間で破棄されます）。もう一度ファイルを選んでください。"),
            status_code=404)
    except AlreadyImported:
        return render(request, "import.html", _context(
            services, error="すでに取り込み済みです。同じ内容を二度は取り込みません。結果は全体の状況で確かめられます。"),
            status_code=409)
    except BadInput as exc:
        return render(request, "import.html", _context(services, error=exc.errors[0].reason), status_code=422)
    return RedirectResponse(f"/import?created={created}&updated={updated}&status={status}", status_code=303)


def _import(services: Services, who: Account, token: str, status: str) -> tuple[int, int]:
    """Claim the preview (once, atomically), read the file again and write its rows; new sheets get
    `status` (the DX team's choice in the preview), updated ones keep theirs."""
    pending = services.previews.claim(token[:100], who.id)
    org = who.organisation_id
    created = updated = 0
    for row in _plan(services, who, pending.filename, pending.data):
        if row.sheet is None or row.action in ("same", "error"):
            continue
        if row.action == "update" and row.target_id is not None:
            stored = services.repo.save(row.target_id, org, row.sheet, kind="import")
            updated += 1
        else:
            stored = services.repo.create(org, row.sheet, kind="import", external_id=row.external_id or None)
            if status == SheetStatus.SUBMITTED:  # submitted in one move: status, review row, audit
                services.submissions.imported(who, stored)
                stored = services.repo.get(stored.id, org)
            created += 1
        services.after_save(stored)
    services.reviews.audit(who, None, FileImported(pending.filename, created, updated, status))
    return created, updated


# -- print ----------------------------------------------------------------------------------------

@router.get("/print/{sheet_id}", response_class=HTMLResponse)
def print_view(request: Request, sheet_id: SheetId, who: UserDep, repo: RepoDep, services: ServicesDep) -> Response:
    stored = readable(repo, who, sheet_id)
    length = len(stored.sheet.all_text())
    density = ("overflow" if length > OVERFLOW_CHARS else "dense" if length > 1800
               else "compact" if length > 1000 else "normal")
    context = {"org_name": services.organisation_name, "stored": stored, "sheet": stored.sheet, "density": density,
               "today": date.today()}
    return render(request, "print.html", context)
