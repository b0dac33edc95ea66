"""Alembic's entry point for the store's migrations.

The toolkit runs migrations itself (:mod:`toolkit.store.migrate`), handing over an open
connection in ``config.attributes["connection"]``: no ``alembic.ini`` and no logging set-up.
To write a new revision, compare the tables with a store at head and let Alembic draft it:

    from alembic import command
    from toolkit.store import Store
    from toolkit.store.migrate import alembic_config
    store = Store("sqlite:////tmp/head.sqlite")          # a store at the current head
    with store.engine.begin() as conn:
        command.revision(alembic_config(conn), message="what changes", autogenerate=True, rev_id="0002")

then write the DDL out by hand where the draft is not exact (see the checklist in the new file).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from toolkit.store.tables import metadata

config = context.config


def _configure(**kwargs) -> None:
    # render_as_batch: SQLite changes columns by copying the table (Alembic's batch mode).
    context.configure(target_metadata=metadata, render_as_batch=True, compare_type=True, **kwargs)


def run_offline() -> None:
    _configure(url=context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url"),
               literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    from toolkit.store.urls import engine_url

    engine = sa.create_engine(engine_url(url))
    with engine.begin() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
