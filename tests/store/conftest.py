"""The store's tests run on both backends (see ``tests/postgres.py`` for the PostgreSQL server)."""

from tests.postgres import postgres_cluster, postgres_url, store_url  # noqa: F401
