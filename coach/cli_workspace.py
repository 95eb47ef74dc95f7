"""Commands for running the workspace: the first admin, the demo accounts, exporting review labels and links."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from coach.errors import BadInput, FieldError

if TYPE_CHECKING:  # the accounts' module loads argon2: imported in the commands, not for `--help`
    from coach.workspace.accounts import Accounts

# `make run`: a DX account and two section accounts, for trying the product out.
DEMO = [
    ("dxteam", "佐藤 美咲", "dx", None),
    ("madoguchi", "田中 花子", "staff", "住民窓口係"),
    ("doboku", "鈴木 一郎", "staff", "土木係"),
]


def _connect() -> tuple[Any, Any, int]:
    """The database's sessions, the sheets, and this organisation (COACH_ORG_NAME)."""
    from coach.app import build_repository, build_sessions
    from coach.settings import get_settings

    settings = get_settings()
    sessions = build_sessions(settings)
    repo = build_repository(settings, sessions)
    return sessions, repo, repo.ensure_organisation(settings.org_name)


def _open() -> tuple[Any, Any, Accounts, int]:
    """Reviews, sheets, accounts and this organisation, on one database connection pool."""
    from coach.workspace.accounts import Accounts
    from coach.workspace.review import Reviews

    sessions, repo, org = _connect()
    return Reviews(sessions), repo, Accounts(sessions), org


def cmd_create_admin(args: argparse.Namespace, out: TextIO) -> int:
    from coach.workspace.accounts import new_password

    _, _, accounts, org = _open()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else new_password()
    account = accounts.create(org, args.login, args.name, "dx", password)
    out.write(f"DX推進チームのアカウントを作りました / created: {account.login}\n")
    if not args.password_stdin:
        out.write(f"パスワード / password: {password}\n（この表示は一度だけです。本人に渡し、メモは破棄してください）\n")
    return 0


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Create (or reset) the demo accounts and print their credentials. Only for trying things out."""
    from coach.workspace.accounts import new_password

    _, _, accounts, org = _open()
    out.write("デモ用アカウント（起動のたびにパスワードを作り直します）/ demo accounts:\n")
    for login, name, role, section in DEMO:
        password = new_password()
        found = accounts.by_login(login)
        if found is None:
            found = accounts.create(org, login, name, role, password, section)
        else:
            accounts.set_password(found.id, org, password)
            accounts.set_active(found.id, org, True)
        label = section or "DX推進チーム"
        out.write(f"  {label:<10} ログインID {login:<10} パスワード {password}\n")
    out.write("http://127.0.0.1:8000/login からログインしてください。\n")
    return 0


def labelled_rows(reviews: Any, repo: Any, organisation_id: int) -> tuple[list[dict[str, Any]], int]:
    """One labelled sheet per (sheet, version) whose every finding the reviewer judged.

    `expected` are the confirmed findings and those the reviewer added as missed (the evals' format);
    dismissed ones are kept for reading.
    Versions where some finding is still unjudged are skipped: their label set would be incomplete.
    """
    from coach.service import CritiqueService

    critic = CritiqueService()
    by_version: dict[tuple[int, int], list[Any]] = {}
    for sheet_id, label in reviews.labels():
        by_version.setdefault((sheet_id, label.version), []).append(label)
    rows, skipped = [], 0
    for (sheet_id, version), labels in sorted(by_version.items()):
        try:
            stored = repo.get(sheet_id, organisation_id)
        except LookupError:
            continue
        sheet = repo.version(sheet_id, organisation_id, version)
        judged = {(lb.code, lb.field, lb.item) for lb in labels}
        found = {(f.code, f.field, f.item) for f in critic.critique(sheet).findings if f.code}
        if not found <= judged:
            skipped += 1
            continue
        rows.append({
            "id": f"review-{sheet_id}-v{version}",
            "group": stored.section,
            "sheet": sheet.model_dump(),
            "expected": [{"code": lb.code, "field": lb.field, "item": lb.item}
                         for lb in labels if lb.verdict in ("confirmed", "added")],
            "dismissed": [{"code": lb.code, "field": lb.field, "item": lb.item, "evidence": lb.evidence}
                          for lb in labels if lb.verdict == "dismissed"],
            "source": "review",
            "reviewers": sorted({lb.reviewer for lb in labels}),
        })
    return rows, skipped


def _write(path: str | None, text: str, out: TextIO) -> None:
    if path:
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise BadInput([FieldError("out", None, f"書き込めません: {exc.strerror} (cannot write)")]) from exc
    else:
        out.write(text)


def cmd_export_labels(args: argparse.Namespace, out: TextIO) -> int:
    reviews, repo, _, org = _open()
    rows, skipped = labelled_rows(reviews, repo, org)
    _write(args.out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), out)
    print(f"{len(rows)} 件のラベル付きシートを書き出しました（判定が途中の {skipped} 版は除外）"
          f" / wrote {len(rows)}, skipped {skipped} partly judged", file=sys.stderr)
    return 0


def link_rows(links: Any, repo: Any, organisation_id: int) -> list[dict[str, Any]]:
    """Every sheet the DX team linked, tagged with the problems it was linked under: the retrieval
    eval's format (evals/retrieval*.jsonl), so `coach eval-retrieval --dataset` scores on it."""
    from coach.repository import SheetNotFound
    from coach.workspace.links import groups

    tags: dict[int, set[str]] = {}
    for group in groups(links.of_organisation(organisation_id)):
        for sheet_id in group.sheet_ids:
            tags.setdefault(sheet_id, set()).add(group.label)
    rows = []
    for sheet_id in sorted(tags):
        try:
            stored = repo.get(sheet_id, organisation_id)
        except SheetNotFound:
            continue
        rows.append({"id": f"sheet-{sheet_id}", "tags": sorted(tags[sheet_id]), "sheet": stored.sheet.model_dump(),
                     "source": "dx-links"})
    return rows


def cmd_export_links(args: argparse.Namespace, out: TextIO) -> int:
    from coach.workspace.links import Links

    sessions, repo, org = _connect()
    rows = link_rows(Links(sessions), repo, org)
    _write(args.out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), out)
    print(f"{len(rows)} 枚のつないだシートを書き出しました / wrote {len(rows)} linked sheets", file=sys.stderr)
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("create-admin", help="最初の DX推進チームのアカウントを作る / create the first admin (DX team)")
    p.add_argument("--login", required=True, help="ログインID（半角英小文字・数字）")
    p.add_argument("--name", required=True, help="氏名")
    p.add_argument("--password-stdin", action="store_true",
                   help="パスワードを標準入力の1行から読む（なければ作って表示）/ read the password from stdin")
    p.set_defaults(func=cmd_create_admin)

    p = sub.add_parser("demo", help="デモ用アカウント（DX 1・係 2）を作り、ログイン情報を表示する / demo accounts")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("export-labels",
                       help="レビューで確認・却下した指摘を評価用のラベル付きシート（JSONL）で書き出す / review labels")
    p.add_argument("--out", help="書き出し先（省略時は標準出力）/ output file (default stdout)")
    p.set_defaults(func=cmd_export_labels)

    p = sub.add_parser("export-links",
                       help="DX推進チームが同じ問題としてつないだシートを検索の評価データ（JSONL）で書き出す / DX links")
    p.add_argument("--out", help="書き出し先（省略時は標準出力）/ output file (default stdout)")
    p.set_defaults(func=cmd_export_links)



