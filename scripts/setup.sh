#!/usr/bin/env bash
# Create the virtual environment in .venv with the exact tested versions.
# Idempotent: packages are (re)installed only when requirements/lock.txt or pyproject.toml change.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: the toolkit needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
  echo "Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $("$PYTHON" --version)..."
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.toolkit-installed
want=$(cat requirements/lock.txt pyproject.toml | sha256sum | cut -c1-64)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing the toolkit and its pinned dependencies into .venv (a few minutes the first time)..."
  .venv/bin/python -m pip install --quiet --upgrade pip "setuptools>=68" wheel
  .venv/bin/python -m pip install --quiet -r requirements/lock.txt
  .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
# The static embedder (coding.embedder = "static"), distilled offline from the packaged MiniLM into
# .venv/share/toolkit; skipped in a second when a verified copy is there.
.venv/bin/python -m toolkit.distil
# A Jupyter kernel named "toolkit" inside the venv, so `.venv/bin/jupyter lab notebooks/` finds it.
if [ ! -f .venv/share/jupyter/kernels/toolkit/kernel.json ]; then
  .venv/bin/python -m ipykernel install --sys-prefix --name toolkit --display-name "Python (toolkit)" >/dev/null
fi
