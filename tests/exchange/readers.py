"""Run other programs' real readers on our files, each in its own virtual environment outside the repository.

- pyqdpx 0.1.8 (a REFI-QDA reader on PyPI): it needs Python 3.12+ (its f-strings do not parse on 3.11).
- Taguette 1.5.2's codebook import (``taguette.import_codebook.list_tags``), installed without its web
  server's dependencies; only ``sentry_sdk`` is stubbed, as the module imports it for tracing.
  Both live in one venv, ``$REFI_READERS_VENV`` (default ``~/.cache/refi-readers-venv``).
- QualCoder's REFI-QDA importer, run headless by ``../shared/qualcoder/run.sh`` (its own venv, ``$QC_VENV``).

Each venv is made on first use from the package registry. :class:`ReaderUnavailable` says why a
reader cannot run here (tests skip on it; the check script reports it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import SHARED

QUALCODER = SHARED / "qualcoder"
QC_VENV = Path(os.environ.get("QC_VENV", Path.home() / ".cache" / "qc-venv"))
READERS_VENV = Path(os.environ.get("REFI_READERS_VENV", Path.home() / ".cache" / "refi-readers-venv"))
READERS = ("pyqdpx==0.1.8", "chardet>=4,<6")
TAGUETTE = "taguette==1.5.2"

PYQDPX_SCRIPT = """
import json, sys
import pyqdpx
project = pyqdpx.QDPX(sys.argv[1]).get_project()
print(json.dumps([{"code": sel.code.name, "start": sel.start, "end": sel.end, "text": sel.text}
                  for source in project.sources.values() for sel in source.coded_selections.values()]))
"""
TAGUETTE_SCRIPT = """
import json, sys, types
sys.modules.setdefault("sentry_sdk", types.ModuleType("sentry_sdk"))
from taguette.import_codebook import list_tags
with open(sys.argv[1], "rb") as f:
    print(json.dumps(list_tags(f)))
"""


class ReaderUnavailable(RuntimeError):
    """A reader cannot run on this machine (no suitable Python, no registry, no harness)."""


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def readers_python() -> Path:
    """The Python of the pyqdpx + Taguette venv, made if needed."""
    python = READERS_VENV / "bin" / "python"
    if python.exists() and _run([str(python), "-c", "import pyqdpx, chardet, taguette"]).returncode == 0:
        return python
    candidates = [shutil.which(f"python3.{minor}") for minor in (13, 12)]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.1[2-9]*/bin/python3"))
    for base in filter(None, candidates):
        if _run([base, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"]).returncode != 0:
            continue
        made = _run(
            f'"{base}" -m venv "{READERS_VENV}" && "{python}" -m pip -q install {" ".join(repr(r) for r in READERS)} '
            f'&& "{python}" -m pip -q install --no-deps {TAGUETTE}',
            shell=True, timeout=900,
        )
        if made.returncode != 0:
            raise ReaderUnavailable(f"pyqdpx and Taguette could not be installed: {made.stderr[-300:]}")
        return python
    raise ReaderUnavailable("pyqdpx needs Python 3.12 or newer, and none was found")


def pyqdpx_selections(path: Path) -> list[dict]:
    """Every selection pyqdpx reads from a ``.qdpx``: code name, start, end, text (pyqdpx pads astral characters)."""
    done = _run([str(readers_python()), "-c", PYQDPX_SCRIPT, str(path)], timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"pyqdpx failed on {path.name}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def taguette_tags(path: Path) -> list[dict]:
    """The tags Taguette's own codebook import reads from a CSV (``path``, ``description``)."""
    done = _run([str(readers_python()), "-c", TAGUETTE_SCRIPT, str(path)], timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"Taguette refused {path.name}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def qualcoder_python() -> Path:
    """The QualCoder harness's venv (Python 3.11 with PyQt6), made as its run.sh makes it."""
    if not (QUALCODER / "run.sh").is_file():
        raise ReaderUnavailable(f"QualCoder's harness is not available at {QUALCODER}")
    python = QC_VENV / "bin" / "python"
    if python.exists() and _run([str(python), "-c", "import PyQt6, lxml, PIL, pymupdf"]).returncode == 0:
        return python
    if shutil.which("python3.11") is None:
        raise ReaderUnavailable("QualCoder's harness needs python3.11")
    made = _run(f'python3.11 -m venv "{QC_VENV}" && "{python}" -m pip -q install PyQt6 lxml pillow pymupdf',
                shell=True, timeout=900)
    if made.returncode != 0:
        raise ReaderUnavailable(f"QualCoder's harness could not be set up: {made.stderr[-300:]}")
    return python


def qualcoder_import(path: Path, work: Path) -> tuple[dict, str]:
    """Run QualCoder's importer on ``path``: (its comparison report, its import log)."""
    qualcoder_python()
    done = _run(["bash", str(QUALCODER / "run.sh"), str(path), str(work)], timeout=900,
                env={**os.environ, "QC_VENV": str(QC_VENV)})
    if done.returncode != 0:
        raise AssertionError(f"QualCoder's importer failed on {path.name}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    report = json.loads((work / "compare.json").read_text(encoding="utf-8"))
    return report, (work / "import.log").read_text(encoding="utf-8")
