"""Alembic environment: the models' metadata from coach.app.all_tables(), run on the caller's connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from coach.app import all_tables

config = context.config
target_metadata = all_tables()


def _configure(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic command line: open the URL from the config
        with create_engine(str(config.get_main_option("sqlalchemy.url"))).connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    else:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
