"""Shared fixtures: where the real-world test files and the sample study live, and both stores.

Every test folder has the PostgreSQL fixtures of :mod:`tests.postgres` (``postgres_cluster``,
``postgres_url``, ``store_url``). A study fixture runs on both stores when a test asks for it::

    @pytest.mark.parametrize("fresh", BOTH_STORES, indirect=True)
    def test_something(fresh): ...

and builds its study with :func:`new_store_url` (``None``: the study's own SQLite file) and
:func:`store_setting` (the ``[store]`` section naming the database in ``study.toml``). The
PostgreSQL runs are marked ``postgres``: ``-m "not postgres"`` leaves them out on a laptop, CI runs
them (``make test`` installs the server).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.postgres"]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_STUDY = REPO / "interviews"
SHARED = Path(os.environ.get("TOOLKIT_SHARED", REPO.parent / "shared"))
REALFILES = SHARED / "realfiles"
PERFCORPUS = SHARED / "perfcorpus"


@pytest.fixture(autouse=True, scope="session")
def _private_keys_in_a_temporary_home(tmp_path_factory):
    """Pseudonymisation keys default to the user's data folder: keep the tests' keys out of the real one."""
    home = tmp_path_factory.mktemp("xdg_data_home")
    previous = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = previous


def realfiles_dir(sub: str = "") -> Path:
    """The folder of real exports beside the repo; skips the test when it is absent."""
    path = REALFILES / sub if sub else REALFILES
    if not path.is_dir():
        pytest.skip(f"real-world files not available at {path}")
    return path


def realfile_params(*subs: str) -> list:
    """Parametrise a test over real files; empty (and the test skipped) when absent."""
    files = []
    for sub in subs:
        folder = REALFILES / sub
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.is_file()))
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no real files under {REALFILES}"))]
    return [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in files]


@pytest.fixture
def realfiles() -> Path:
    return realfiles_dir()


def readable_records(folders, suffixes=(".txt", ".vtt", ".srt", ".docx", ".xlsx")):
    """``(number, record)`` for every file under ``folders`` with one of ``suffixes`` that the readers accept
    (a :class:`toolkit.schema.Transcript` or a survey), in path order; refused files are tested elsewhere."""
    from toolkit.ingest import read_file

    paths = sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())
    for number, path in enumerate(paths):
        if path.suffix.lower() not in suffixes:
            continue
        try:
            record = read_file(path)
        except Exception:  # noqa: BLE001, S112 - files these readers refuse are tested elsewhere
            continue
        yield number, record


# --------------------------------------------------------------------------- both stores
SQLITE, POSTGRESQL = "sqlite", "postgresql"
BOTH_STORES = [SQLITE, pytest.param(POSTGRESQL, marks=pytest.mark.postgres)]
"""Parameters for a study fixture (``indirect=True``) or a test: the SQLite file, then a PostgreSQL database."""


def new_store_url(request: pytest.FixtureRequest, backend: str | None = None) -> str | None:
    """A store for a study fixture of any scope: ``None`` for SQLite (the study's own file), else the
    URL of a new database on the test server, dropped when the fixture ends.

    ``backend`` defaults to the fixture's parameter (``request.param``), else SQLite.
    """
    backend = backend or getattr(request, "param", SQLITE)
    if backend == SQLITE:
        return None
    cluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()
    request.addfinalizer(lambda: cluster.drop_database(name))
    return cluster.url(name)


def store_setting(url: str | None) -> str:
    """The ``study.toml`` section that puts a study's store at ``url`` (nothing for the study's own file)."""
    return f'[store]\nurl = "{url}"\n' if url else ""
