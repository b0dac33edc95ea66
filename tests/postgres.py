"""A real PostgreSQL server for the tests: a throw-away cluster in a temporary folder.

``postgres_cluster`` (once per test session) runs ``initdb`` and ``pg_ctl`` from Debian's
``postgresql`` package (``scripts/setup-postgres.sh`` installs it; ``make test`` runs that) as the
``postgres`` user when the tests run as root, listening on a Unix socket only (no TCP port is
opened), and removes the folder afterwards. ``postgres_url`` gives each test a new, empty
database. ``store_url`` parametrises a test over both backends: ``sqlite`` and ``postgresql``
(skipped, with the reason, only when the server binaries are absent).

``tests/conftest.py`` loads this module as a plugin (``pytest_plugins``), so every test has them;
the PostgreSQL runs are marked ``postgres``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "postgres"
HOW_TO_INSTALL = "Install it with: bash scripts/setup-postgres.sh (or apt-get install -y postgresql)."


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (``TOOLKIT_PG_BIN``, PATH, or Debian's layout)."""
    candidates = [os.environ.get("TOOLKIT_PG_BIN", "")]
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


@dataclass
class Cluster:
    """A running PostgreSQL server in a temporary folder, reachable through its socket folder."""

    root: Path
    bin: Path
    port: int
    as_user: list[str]

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str = "postgres", user: str = SERVER_USER, password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@/{database}?host={self.socket_dir}&port={self.port}"

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser, outside a transaction (CREATE DATABASE and the like)."""
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=SERVER_USER, dbname=database,
                             autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        try:
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_cluster() -> Cluster:
    """initdb + pg_ctl start in a new temporary folder (as ``postgres`` when we are root)."""
    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise FileNotFoundError(f"PostgreSQL's server binaries (initdb, pg_ctl) were not found. {HOW_TO_INSTALL}")
    root = Path(tempfile.mkdtemp(prefix="toolkit-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            server = pwd.getpwnam(SERVER_USER)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise FileNotFoundError(f"no '{SERVER_USER}' user to run the server as (initdb refuses root). "
                                    f"{HOW_TO_INSTALL}") from None
        os.chown(root, server.pw_uid, server.pw_gid)
        runuser = shutil.which("runuser")
        as_user = [runuser, "-u", SERVER_USER, "--"] if runuser else ["su", SERVER_USER, "-s", "/bin/sh", "-c"]
    cluster = Cluster(root=root, bin=pg_bin, port=_free_port(), as_user=as_user)
    cluster.run("mkdir", "-p", str(cluster.socket_dir))
    cluster.run(str(pg_bin / "initdb"), "-D", str(root / "data"), "-U", SERVER_USER, "--auth=trust",
                "-E", "UTF8", "--locale=C", "--no-sync")
    options = f"-k {cluster.socket_dir} -p {cluster.port} -c listen_addresses='' -c fsync=off -c max_connections=60"
    try:
        cluster.run(str(pg_bin / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"), "-w",
                    "-t", "60", "-o", options, "start")
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log[-2000:]}") from None
    return cluster


@pytest.fixture(scope="session")
def postgres_cluster():
    """A PostgreSQL server for the whole test session (skipped only when its binaries are absent)."""
    if find_pg_bin() is None:
        pytest.skip(f"PostgreSQL server binaries (initdb, pg_ctl) not found. {HOW_TO_INSTALL}")
    try:
        cluster = start_cluster()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_cluster):
    """A URL to a new, empty database on the test server (dropped after the test)."""
    name = postgres_cluster.create_database()
    try:
        yield postgres_cluster.url(name)
    finally:
        postgres_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """The URL of a new store on each backend: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'study.sqlite'}"
    return request.getfixturevalue("postgres_url")
