"""Errors a researcher can act on.

Every error the toolkit raises on purpose derives from :class:`ToolkitError`, and
also from the matching built-in exception so callers can catch either. Messages say
where (file, sheet, row, line), what was found, what was expected and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ToolkitError",
    "ConfigError",
    "InputDataError",
    "StoreError",
    "NotFittedError",
    "ExportPathError",
]


class ToolkitError(Exception):
    """Base class for every error the toolkit raises on purpose."""


class ConfigError(ToolkitError, ValueError):
    """``study.toml`` (or another settings file) is missing, malformed or inconsistent."""


class InputDataError(ToolkitError, ValueError):
    """A raw input file cannot be read as what it claims to be.

    Parameters
    ----------
    path : path of the offending file.
    problem : what is wrong, in one sentence.
    fix : what the researcher can do about it.
    where : optional location inside the file ("sheet 'Form1', row 4", "line 12").
    """

    def __init__(self, path: str | Path, problem: str, fix: str = "", where: str = ""):
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        self.where = where
        location = f"{self.path.name}" + (f", {where}" if where else "")
        message = f"{location}: {problem}"
        if fix:
            message += f" {fix}"
        super().__init__(message)


class StoreError(ToolkitError, RuntimeError):
    """The project store cannot be opened, or a write to it failed and was rolled back."""


class WorkerError(ToolkitError, RuntimeError):
    """Work sent to worker processes (:mod:`toolkit.nlp_workers`) failed there; the message names the stage."""


class NotFittedError(ToolkitError, AttributeError):
    """A fitted object (pseudonymiser, topic model) was used before ``fit``."""


class ExportPathError(ToolkitError, OSError):
    """An export cannot be written where it was asked to go (missing folder, a folder, wrong extension)."""
