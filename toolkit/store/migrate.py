"""The store's schema, kept by Alembic: where a store is, and bringing it to the code's revision.

- A new (empty) database is created at head by a writer.
- A store written by release 0.1.0 (``store_info.schema_version = 2`` and no ``alembic_version``
  table) holds exactly the baseline revision: it is stamped, then upgraded like any other.
- A store behind head is upgraded by ``toolkit db upgrade STUDY`` (and, for a SQLite file, by the
  writer that opens it); a reader never runs DDL and refuses a store that is behind.
- A store ahead of head (a newer toolkit wrote it) is refused.

Alembic is configured here in code: its scripts live in ``toolkit/store/migrations`` inside
the package, so no ``alembic.ini`` is needed at run time.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from toolkit.errors import StoreError
from toolkit.store import changes

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
"""The revision equal to the schema of release 0.1.0 (``schema_version`` 2)."""
LEGACY_SCHEMA_VERSIONS = {"2": BASELINE}
"""``store_info.schema_version`` of a store made before migrations -> the revision it holds."""
VERSION_TABLE = "alembic_version"
MIGRATION_LOCK = int.from_bytes(hashlib.blake2b(b"toolkit store migration", digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True)
class SchemaState:
    """Where a store's schema is.

    ``revision`` is the Alembic revision the store holds (a legacy store's is inferred from its
    ``schema_version``); ``None`` with ``empty`` for a database without a store.
    """

    revision: str | None
    head: str
    empty: bool = False
    legacy: bool = False
    """Made before migrations: no ``alembic_version`` table yet (needs a stamp, no DDL on data)."""
    unknown: bool = False
    """Holds a revision or schema version this toolkit does not know (a newer toolkit wrote it)."""

    @property
    def current(self) -> bool:
        return not self.empty and not self.unknown and not self.legacy and self.revision == self.head

    @property
    def behind(self) -> bool:
        return not self.empty and not self.unknown and not self.current


def alembic_config(connection: sa.Connection | None = None, *, version_locations: list[str] | None = None) -> Config:
    """Alembic's configuration, built in code (``version_locations`` adds folders, for tests)."""
    from alembic.config import Config  # imported only to migrate: opening a current store never needs Alembic

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if version_locations:
        config.set_main_option("version_locations", " ".join([str(SCRIPTS / "versions"), *version_locations]))
        config.set_main_option("path_separator", "space")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=8)
def _script(locations: tuple[str, ...] = ()) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(version_locations=list(locations) or None))


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def _packaged_revisions() -> tuple[frozenset[str], str]:
    """The packaged revisions and their head, read from the revision files' ``revision`` and
    ``down_revision`` lines without importing Alembic (0.4 s at every start; ``toolkit run`` with
    nothing to do must stay quick). The one revision no other names as its parent is the head."""
    revisions: dict[str, object] = {}
    for path in sorted((SCRIPTS / "versions").glob("*.py")):
        found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions[ast.literal_eval(found["revision"])] = ast.literal_eval(found.get("down_revision", "None"))
    parents = {p for p in revisions.values() if p is not None}
    heads = sorted(set(revisions) - parents)
    if len(heads) != 1:
        raise StoreError(f"The toolkit's store migrations have {len(heads)} heads ({', '.join(heads)}); "
                         "reinstall the toolkit.")
    return frozenset(revisions), heads[0]


class _Revisions:
    """What :func:`schema_state` needs of the revision graph: its head and whether it knows a revision."""

    def __init__(self, locations: tuple[str, ...]):
        if locations:  # extra folders (tests): Alembic reads them
            script = _script(locations)
            self.head = script.get_current_head()
            self._known = None
            self._script = script
        else:
            self._known, self.head = _packaged_revisions()

    def knows(self, revision: str) -> bool:
        if self._known is not None:
            return revision in self._known
        try:
            self._script.get_revision(revision)
        except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
            return False
        return True


def head_revision(version_locations: tuple[str, ...] = ()) -> str:
    """The revision this toolkit's code expects."""
    return _Revisions(version_locations).head


def schema_state(conn: sa.Connection, *, version_locations: tuple[str, ...] = ()) -> SchemaState:
    """Read where the store on ``conn`` is (reads only; safe for a reader)."""
    graph = _Revisions(version_locations)
    head = graph.head
    names = set(sa.inspect(conn).get_table_names())
    if VERSION_TABLE in names:
        heads = [r[0] for r in conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))]
        if not heads:
            return SchemaState(None, head, empty="store_info" not in names)
        revision = heads[0]
        if not graph.knows(revision):
            return SchemaState(revision, head, unknown=True)
        return SchemaState(revision, head)
    if "store_info" not in names:
        toolkit_tables = names & {"sources", "segments", "codings", "runs"}
        if toolkit_tables:
            raise StoreError(
                f"The database holds toolkit tables ({', '.join(sorted(toolkit_tables))}) but no store_info: "
                "it was not made by the toolkit, or only in part. Open a new, empty database instead."
            )
        return SchemaState(None, head, empty=True)
    row = conn.execute(sa.text("SELECT value FROM store_info WHERE key = 'schema_version'")).first()
    version = str(row[0]) if row else ""
    if version in LEGACY_SCHEMA_VERSIONS:
        return SchemaState(LEGACY_SCHEMA_VERSIONS[version], head, legacy=True)
    if version.isdigit() and int(version) < min(int(v) for v in LEGACY_SCHEMA_VERSIONS):
        raise StoreError(
            f"The store was written by a toolkit older than 0.1.0 (schema {version}), which cannot be upgraded "
            "automatically. Run the pipeline again into a new store (toolkit run STUDY after moving store/ away)."
        )
    return SchemaState(f"schema {version or '?'}", head, unknown=True)


def require_current(state: SchemaState, where: str, *, study_hint: str = "STUDY") -> None:
    """Refuse (for a reader) a store that is not at the code's revision, saying what to run."""
    if state.empty:
        raise StoreError(f"No project store at {where} yet. Run the pipeline first: toolkit run {study_hint}.")
    if state.unknown:
        raise StoreError(
            f"The store at {where} was written by a newer toolkit (revision {state.revision}; this toolkit knows up "
            f"to {state.head}). Upgrade the toolkit."
        )
    if state.legacy and state.revision == state.head:
        return  # release 0.1.0's schema is the baseline: readable as it is
    if not state.current:
        raise StoreError(
            f"The store at {where} is at schema revision {state.revision}; this toolkit needs {state.head}. "
            f"Run: toolkit db upgrade {study_hint}"
        )


@contextmanager
def migration_connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One connection and transaction that no other migration runs beside.

    SQLite: ``BEGIN IMMEDIATE`` (the write lock, taken before the schema is read again);
    PostgreSQL: a transaction-scoped advisory lock (DDL is transactional there). Either way a
    failed migration leaves the store as it was.
    """
    with engine.connect() as conn, changes.untracked(conn):
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def bring_to_head(engine: sa.Engine, where: str, *, allow_upgrade: bool, study_hint: str = "STUDY",
                  version_locations: tuple[str, ...] = ()) -> SchemaState:
    """For a writer: create a new store at head, stamp a legacy one, upgrade one that is behind.

    Reads first without any lock, so opening a store that is already current costs one query.
    ``allow_upgrade=False`` refuses a store that is behind (creating a new one is always allowed).
    """
    with engine.connect() as conn:
        state = schema_state(conn, version_locations=version_locations)
    if state.current:
        return state
    _refuse_unknown(state, where)
    with migration_connection(engine) as conn:
        state = schema_state(conn, version_locations=version_locations)  # again, under the lock
        _refuse_unknown(state, where)
        if state.current:
            return state
        if state.behind and not allow_upgrade and not (state.legacy and state.revision == state.head):
            raise StoreError(
                f"The store at {where} is at schema revision {state.revision}; this toolkit needs {state.head}. "
                f"Run: toolkit db upgrade {study_hint}"
            )
        _migrate(conn, state, version_locations=version_locations)
        return schema_state(conn, version_locations=version_locations)


def _refuse_unknown(state: SchemaState, where: str) -> None:
    if state.unknown:
        require_current(state, where)


def _migrate(conn: sa.Connection, state: SchemaState, *, version_locations: tuple[str, ...] = ()) -> None:
    from alembic import command

    config = alembic_config(conn, version_locations=list(version_locations) or None)
    if state.legacy:
        command.stamp(config, state.revision)
        log.info("store stamped at revision %s (written before migrations, schema_version 2)", state.revision)
    before = state.revision
    command.upgrade(config, "head")
    after = head_revision(version_locations)
    if state.empty:
        log.info("new store created at revision %s", after)
    elif before != after:
        log.info("store upgraded from revision %s to %s", before, after)
