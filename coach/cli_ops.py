"""Operator commands: `coach db upgrade|current|check` and `coach backup`. They never import the web layer."""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from coach.errors import BadInput, FieldError
from coach.settings import get_settings


def _engine() -> Any:
    from coach.db import make_engine

    settings = get_settings()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.resolved_database_url())


def cmd_db(args: argparse.Namespace, out: TextIO) -> int:
    from coach import migrate

    engine = _engine()
    if args.action == "upgrade":
        before, after = migrate.upgrade(engine)
        out.write(f"{before.describe()}\n→ {after.describe()}\n")
        return 0
    if args.action == "current":
        state = migrate.state(engine)
        out.write(state.describe() + "\n")
        return 0 if state.up_to_date else 1
    if args.action == "revision":  # for developers: write what changed in the models as a new revision
        if not args.message:
            raise BadInput([FieldError("message", None, "-m で変更の説明を書いてください (-m MESSAGE is required)")])
        path = migrate.new_revision(engine, args.message)
        out.write(f"{path}\n")
        return 0
    diffs = migrate.differences(engine)  # check: models and the database's schema agree
    for d in diffs:
        out.write(f"{d}\n")
    out.write("差分なし / models and database agree\n" if not diffs else f"{len(diffs)} 件の差分 / differences\n")
    return 0 if not diffs else 1


def cmd_backup(args: argparse.Namespace, out: TextIO) -> int:
    settings = get_settings()
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        raise BadInput([FieldError("database", None, "PostgreSQL は pg_dump でバックアップしてください（README 参照）"
                                                     " (back up PostgreSQL with pg_dump)")])
    dest = Path(args.dest)
    if dest.exists() and any(dest.iterdir()):
        raise BadInput([FieldError("dest", None, f"空でないフォルダには書きません: {dest} (destination not empty)")])
    source = Path(settings.resolved_database_url().removeprefix("sqlite:///"))
    if not source.is_file():
        raise BadInput([FieldError("database", None, f"データベースがありません: {source} (no database file)")])
    dest.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(source, dest / "coach.db")  # SQLite's online backup: a consistent copy while the app runs
    chroma = settings.data_dir / "chroma"
    copied_index = not settings.chroma_url and chroma.is_dir()
    if copied_index:
        shutil.copytree(chroma, dest / "chroma", ignore=shutil.ignore_patterns("chroma.sqlite3*"))
        if (chroma / "chroma.sqlite3").is_file():
            _copy_sqlite(chroma / "chroma.sqlite3", dest / "chroma" / "chroma.sqlite3")
    from coach import migrate
    from coach.db import make_engine

    manifest = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"), "database": "coach.db",
                "schema": migrate.state(make_engine(f"sqlite:///{dest / 'coach.db'}")).current,
                "index": "chroma" if copied_index else None}
    (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", "utf-8")
    out.write(f"バックアップしました / backed up to {dest}"
              f"{'' if copied_index else '（索引は含みません: coach reindex で作り直せます / index not included)'}\n")
    return 0


def _copy_sqlite(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def add_commands(sub: Any) -> None:
    p = sub.add_parser("db", help="データベースの形式（移行）/ database schema migrations")
    p.add_argument("action", choices=["upgrade", "current", "check", "revision"],
                   help="upgrade: 最新にする / current: 今の版を表示 / check: モデルとの差分を表示 / "
                        "revision: 開発者用、モデルの変更を新しい版として書き出す")
    p.add_argument("-m", "--message", help="revision の説明 / the new revision's message")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("backup", help="組み込みのデータベースと索引をフォルダに写す / back up the embedded database")
    p.add_argument("dest", help="書き出し先のフォルダ（空か、まだないもの）/ an empty or new folder")
    p.set_defaults(func=cmd_backup)
