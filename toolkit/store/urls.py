"""Store locations: a URL from ``study.toml`` or the environment, shown without its password.

``[store] url = "env:TOOLKIT_STORE_URL"`` keeps a server's address and password out of the
study folder: :func:`resolve_store_url` reads it from the environment when the store is
opened. Every message, log line and status line shows :func:`redacted_url` instead of the URL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from toolkit.errors import ConfigError

log = logging.getLogger(__name__)

ENV_PREFIX = "env:"
DEFAULT_ENV = "TOOLKIT_STORE_URL"
POSTGRES_DRIVER = "postgresql+psycopg"
"""psycopg 3, the driver the toolkit pins; plain ``postgresql://`` URLs are given it."""


def resolve_store_url(setting: str, *, environ: Mapping[str, str] | None = None) -> str:
    """The store URL a setting stands for: ``env:NAME`` reads the environment variable ``NAME``.

    A URL written straight into ``study.toml`` still works, but one that holds a password is
    logged as a warning (without the password): it belongs in the environment.

    Examples
    --------
    >>> resolve_store_url("env:TOOLKIT_STORE_URL", environ={"TOOLKIT_STORE_URL": "sqlite://"})
    'sqlite://'
    >>> resolve_store_url("sqlite:///study.sqlite")
    'sqlite:///study.sqlite'
    """
    setting = str(setting).strip()
    environ = os.environ if environ is None else environ
    if setting.startswith(ENV_PREFIX):
        name = setting[len(ENV_PREFIX):].strip() or DEFAULT_ENV
        value = environ.get(name, "").strip()
        if not value:
            raise ConfigError(
                f"study.toml: [store] url = \"{setting}\", but the environment variable {name} is not set. "
                f"Set it to the store's URL (e.g. export {name}=postgresql://user:password@host/study) "
                "or remove [store] url to use the study's own SQLite file."
            )
        if value.startswith(ENV_PREFIX):
            raise ConfigError(f"The environment variable {name} holds '{value}', another env: reference. "
                              "Set it to the store's URL itself.")
        return value
    if _password(setting):
        log.warning("the store URL in study.toml holds a password (%s): put it in the environment instead, "
                    "with url = \"env:%s\"", redacted_url(setting), DEFAULT_ENV)
    return setting


def redacted_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (what messages and logs show).

    Examples
    --------
    >>> redacted_url("postgresql://ana:s3cret@db.example/study")
    'postgresql://ana:***@db.example/study'
    >>> redacted_url("sqlite:////data/study.sqlite")
    'sqlite:////data/study.sqlite'
    """
    text = str(url) if not isinstance(url, URL) else url.render_as_string(hide_password=True)
    if isinstance(url, URL):
        return text
    try:
        return make_url(text).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # not a URL SQLAlchemy can parse: hide whatever sits between '://user:' and '@'
        head, sep, rest = text.partition("://")
        if sep and "@" in rest:
            creds, _, host = rest.rpartition("@")
            user = creds.split(":", 1)[0]
            return f"{head}://{user}:***@{host}" if ":" in creds else text
        return text


def engine_url(url: str) -> URL:
    """The URL SQLAlchemy connects with: PostgreSQL through psycopg 3 (the pinned driver)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"The store URL {redacted_url(url)} is not a database URL ({exc}). "
                          "Use sqlite:///path/to/study.sqlite or postgresql://user@host/database.") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def backend_of(url: str | URL) -> str:
    """``sqlite``, ``postgresql``... (the dialect's name)."""
    return (url if isinstance(url, URL) else engine_url(url)).get_backend_name()


def sqlite_file(url: str | URL) -> Path | None:
    """The database file of a SQLite URL (``None`` for an in-memory store or another backend)."""
    parsed = url if isinstance(url, URL) else engine_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        return None
    database = database.removeprefix("file:")
    return Path(database)


def _password(url: str) -> bool:
    try:
        return bool(make_url(url).password)
    except (ArgumentError, ValueError):
        return False


__all__ = ["backend_of", "engine_url", "redacted_url", "resolve_store_url", "sqlite_file"]
