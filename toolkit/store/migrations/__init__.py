"""Alembic migrations of the project store (run by :mod:`toolkit.store.migrate`, never by hand needed)."""
