"""Finding a study's raw files and telling transcripts from surveys."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import CONFIG_NAME, StudyConfig
from toolkit.errors import ConfigError, InputDataError
from toolkit.ingest.transcripts import TRANSCRIPT_SUFFIXES

SURVEY_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv"}


@dataclass(frozen=True)
class RawFile:
    """A raw file of the study: where it is, what it is, which place it belongs to."""

    path: Path
    relative: str
    kind: str  # transcript | survey
    format: str
    place: str | None

    def content_hash(self) -> str:
        return file_hash(self.path)


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def kind_of(path: str | Path) -> tuple[str, str] | None:
    """``(kind, format)`` for a supported file, else ``None``."""
    suffix = Path(path).suffix.lower()
    if suffix in TRANSCRIPT_SUFFIXES:
        return "transcript", TRANSCRIPT_SUFFIXES[suffix]
    if suffix in SURVEY_SUFFIXES:
        return "survey", SURVEY_SUFFIXES[suffix]
    return None


def discover_files(config: StudyConfig) -> tuple[list[RawFile], list[str]]:
    """The study's raw files, sorted by path, and the relative paths skipped.

    A file's place is the first folder under the study (``Brackenford/x.docx`` ->
    ``Brackenford``); files at the top level have no place of their own (a
    combined survey names the place per respondent).

    Raises
    ------
    InputDataError
        A symbolic link (to a file or a folder, a place folder included) leads outside
        the study folder: nothing from outside the study is ever read. Links that stay
        inside the study are followed.
    """
    root = config.root
    excluded = set(config.ingest.exclude) | {CONFIG_NAME, config.manifest}
    for folder in (config.resolve(config.store.path).parent, config.key_path.parent):
        try:
            excluded.add(folder.resolve().relative_to(root).as_posix() + "/*")
        except ValueError:
            pass
    places = set(config.places)
    if places:
        missing = sorted(p for p in places if not (root / p).is_dir())
        if missing:
            raise ConfigError(
                f"{config.config_path}: study.places names folder(s) that do not exist: {', '.join(missing)}. "
                f"Folders here: {', '.join(sorted(d.name for d in root.iterdir() if d.is_dir()))}."
            )
    found: list[RawFile] = []
    skipped: list[str] = []
    inside = root.resolve()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        parts = relative.split("/")
        if any(part.startswith(".") for part in parts):
            continue
        if any(fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern) for pattern in excluded):
            continue
        if path.is_symlink():
            _check_link(path, relative, inside)
        if not path.is_file():
            continue
        place = parts[0] if len(parts) > 1 else None
        if places and place not in places:
            continue
        kind = kind_of(path)
        if kind is None:
            skipped.append(relative)
            continue
        found.append(RawFile(path, relative, kind[0], kind[1], place))
    return found, skipped


def _check_link(path: Path, relative: str, inside: Path) -> None:
    """Refuse a symbolic link whose target is outside the study folder (or missing)."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputDataError(
            path,
            f"is a symbolic link ('{relative}') whose target does not exist or loops, so it was not read.",
            "Remove the link, or replace it with a copy of the file.",
        ) from None
    if target != inside and inside not in target.parents:
        kind = "folder" if target.is_dir() else "file"
        raise InputDataError(
            path,
            f"is a symbolic link ('{relative}') to a {kind} outside the study folder, so nothing was read: the "
            "toolkit reads only what is inside the study.",
            f"Copy the {kind} into the study folder (or move the study), remove the link, and run again; or add "
            "the link to [ingest] exclude in study.toml.",
        )
