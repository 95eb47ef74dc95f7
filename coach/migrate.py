"""Schema migrations (Alembic): bring any database this product ever wrote up to the current models.

Three cases when the app or `coach db upgrade` opens a database:
- empty (a new town, or a test): create every table from the models and stamp the head revision
  (Alembic's recipe for building a new database; a test keeps models and migrations equal);
- written by release 0.1.0, before migrations existed: its tables equal the baseline revision,
  so it is stamped as the baseline and then upgraded;
- versioned: upgraded to the head revision.
With COACH_AUTO_MIGRATE=false the app refuses to start on a database that is behind, and says which
command to run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from coach.app import all_tables

BASELINE = "0001"  # the schema of release 0.1.0, the last one built with create_all
_LOCK_ID = 7_531_902  # a PostgreSQL advisory lock: two processes starting at once migrate one at a time


class SchemaBehind(RuntimeError):
    """The database needs `coach db upgrade` (raised only with COACH_AUTO_MIGRATE=false)."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no version table (an empty or a pre-migration database)
    head: str
    has_tables: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if not self.has_tables:
            return f"空のデータベース（最新の形式 {self.head} で作成されます）/ empty (will be created at {self.head})"
        if self.current is None:
            return f"0.1.0 の形式（移行前）→ {self.head} に更新が必要 / release 0.1.0 schema, needs upgrade to {self.head}"
        if self.up_to_date:
            return f"最新（{self.head}）/ up to date ({self.head})"
        return f"{self.current} → {self.head} に更新が必要 / needs upgrade from {self.current} to {self.head}"


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("coach") / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache  # the revision files are read once per process (each read imports every revision module)
def head() -> str:
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return _state(conn)


def _state(conn: Connection) -> SchemaState:
    has_tables = inspect(conn).has_table("sheets")
    current = MigrationContext.configure(conn).get_current_revision()
    return SchemaState(current=current if has_tables else None, head=head(), has_tables=has_tables)


def prepare(engine: Engine, auto_migrate: bool = True) -> SchemaState:
    """Make the database current (or, without auto-migration, refuse one that is behind)."""
    with _migration_lock(engine) as conn:
        before = _state(conn)
        if before.up_to_date:
            return before
        if before.has_tables and not auto_migrate:
            raise SchemaBehind(
                "データベースの形式が古いため起動できません。`coach db upgrade` を実行してください。"
                f" / The database schema is behind ({before.current or '0.1.0'} → {before.head}): run `coach db upgrade`."
            )
        _upgrade(conn, before)
        conn.commit()
        return _state(conn)


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """`coach db upgrade`: returns the state before and after."""
    with _migration_lock(engine) as conn:
        before = _state(conn)
        if not before.up_to_date:
            _upgrade(conn, before)
            conn.commit()
        return before, _state(conn)


def differences(engine: Engine) -> list[object]:
    """What autogenerate would write: models compared with the database (empty when they agree)."""
    from alembic.autogenerate import compare_metadata

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, all_tables()))


def new_revision(engine: Engine, message: str) -> str:
    """Write the models' changes since the head revision as a new revision file (a developer's step,
    on a scratch database): the revisions are replayed — not create_all, which would already hold the
    changes — and autogenerate writes what the models add."""
    with _migration_lock(engine) as conn:
        if _state(conn).has_tables and _state(conn).current is None:
            raise SchemaBehind("revision needs an empty or versioned scratch database")
        command.upgrade(config(conn), "head")
        conn.commit()
    scripts = ScriptDirectory.from_config(config())
    number = f"{len(list(scripts.walk_revisions())) + 1:04d}"
    with engine.connect() as conn:
        written = command.revision(config(conn), message=message, autogenerate=True, rev_id=number)
    script = written[0] if isinstance(written, list) else written
    assert script is not None
    head.cache_clear()  # the new file is the head now
    return str(script.path)


def _upgrade(conn: Connection, before: SchemaState) -> None:
    cfg = config(conn)
    if not before.has_tables:
        all_tables().create_all(conn)
        command.stamp(cfg, "head")
        return
    if before.current is None:
        command.stamp(cfg, BASELINE)  # release 0.1.0 wrote exactly the baseline's tables
    command.upgrade(cfg, "head")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_ID})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_ID})
                conn.commit()
        else:
            yield conn
