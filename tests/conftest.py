"""Shared fixtures: where the real-world test files and the sample study live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
