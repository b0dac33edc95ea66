"""The notebooks in notebooks/ run top to bottom on the sample study, and change nothing they should not.

The notebooks share one built copy of the sample study (``TOOLKIT_STUDY``, built once per module, so the
pipeline runs once, not five times) and run in a kernel of this interpreter, declared in a temporary
Jupyter path, so nothing needs to be registered on the machine. A failing cell fails its test with the
cell's source and traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_STUDY
from toolkit.config import load_config

NOTEBOOKS = REPO / "notebooks"
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
KERNEL = "toolkit-tests"
RAW_ONLY = ("store", "private", "exports")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in IPython tracebacks
CELL_TIMEOUT = 600  # seconds; the slowest cell fits topics again or codes a small study (well under a minute)


def _files(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file under ``folder`` but SQLite files and the top-level folders ``skip``, with a content hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".sqlite" not in p.name and p.relative_to(folder).parts[0] not in skip
    }


def _store_state(folder: Path) -> tuple[str, dict[str, int]]:
    """What the study's store holds, logically (SQLite files can change bytes on a mere read)."""
    from toolkit.api import open_study

    study = open_study(folder)
    try:
        return study.stamp(), study.store.counts()
    finally:
        study.store.close()


def test_there_are_five_notebooks_saved_without_outputs():
    import nbformat

    assert [p.name for p in NOTEBOOK_FILES] == [
        "01_quick_start.ipynb",
        "02_place_comparison.ipynb",
        "03_topics.ipynb",
        "04_agreement.ipynb",
        "05_your_own_study.ipynb",
    ]
    for path in NOTEBOOK_FILES:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        stale = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
        assert not stale, f"{path.name}: code cells {stale} were saved with outputs; clear them before saving"
        assert nb.metadata["kernelspec"]["name"] == "toolkit", f"{path.name}: kernel should be 'toolkit'"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory) -> str:
    """A Jupyter data folder declaring a kernel that runs this interpreter (works on a fresh clone)."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, display_name="toolkit tests", prefix=str(prefix))
    spec = prefix / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json"
    assert spec.exists(), f"no kernel spec written at {spec}"
    return str(prefix / "share" / "jupyter")


@pytest.fixture(scope="module")
def built_study(tmp_path_factory) -> Path:
    """One copy of the sample study, built by the whole pipeline once, that every notebook reads."""
    from toolkit.api import open_study

    root = tmp_path_factory.mktemp("notebooks") / "interviews"
    shutil.copytree(SAMPLE_STUDY, root, ignore=shutil.ignore_patterns("store", "private", "exports"))
    report = open_study(root).run()
    assert report.stages == ["ingest", "segment", "code", "topics"], report.stages
    yield root
    shutil.rmtree(load_config(root).key_path.parent, ignore_errors=True)  # the copy's pseudonymisation key


def run_notebook(path: Path, *, timeout: int = CELL_TIMEOUT):
    """Execute a notebook in memory from notebooks/; fail with the failing cell's source and traceback."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout, resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        pytest.fail(f"{path.name} failed:\n{ANSI.sub('', str(exc))}", pytrace=False)
    return nb


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=[p.stem for p in NOTEBOOK_FILES])
def test_notebook_runs_and_writes_nothing_into_the_study(path, built_study, kernel_path, monkeypatch):
    # the kernel is started with this process's environment
    monkeypatch.setenv("TOOLKIT_STUDY", str(built_study))
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, [kernel_path, os.environ.get("JUPYTER_PATH")])))
    raw_before = _files(SAMPLE_STUDY, RAW_ONLY)  # others may use interviews/store meanwhile
    files_before, store_before = _files(built_study), _store_state(built_study)

    nb = run_notebook(path)

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{path.name}: not every cell ran"
    shown = [c for c in code if any(o.output_type in ("execute_result", "display_data", "stream") for o in c.outputs)]
    assert len(shown) >= len(code) // 2, f"{path.name}: most cells show nothing ({len(shown)} of {len(code)})"
    assert _store_state(built_study) == store_before, f"{path.name} wrote into the study's store: use a temporary copy"
    assert _files(built_study) == files_before, f"{path.name} changed files of the study it read"
    assert _files(SAMPLE_STUDY, RAW_ONLY) == raw_before, f"{path.name} changed files in interviews/"
