"""Alembic's entry point for the store's migrations.

The toolkit runs migrations itself (:mod:`toolkit.store.migrate`), handing over an open
connection in ``config.attributes["connection"]``: no ``alembic.ini`` and no logging set-up.
A developer writing a new revision can also use Alembic's own command line:

    alembic -c toolkit/store/migrations/alembic.ini -x url=sqlite:///tmp/x.sqlite revision --autogenerate -m "..."

(``alembic.ini`` is optional and not shipped; ``-x url=`` is all this file needs).
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
