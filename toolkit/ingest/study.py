"""The ingest stage: which raw files to read, and reading them into records.

Pure planning and reading; the pipeline (:mod:`toolkit.pipeline`) pseudonymises what is
read and writes it, with everything else, in one transaction.

A stored source is found again by a keyed hash of its file's path (``path_key``: the
store never holds a raw file name, which can carry a person's name) and it keeps its
``source_uid`` for life: when its file is edited in place, and when it is renamed or
moved without being changed (a file gone and a new one with the same bytes). Every
decision made on its segments stays attached through both.

A file is read again when its bytes changed, or when the settings that produced its
stored text changed (``settings_hash``: reading and pseudonymisation settings, e.g. a
name added to ``[pseudonymisation] known_names``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.config import StudyConfig
from toolkit.errors import InputDataError, ToolkitError
from toolkit.ingest import read_file
from toolkit.ingest.files import RawFile, discover_files
from toolkit.ingest.manifest import lookup, read_manifest
from toolkit.schema import SourceMeta, Survey, Transcript

log = logging.getLogger(__name__)

Progress = Callable[..., Iterable]


def no_progress(iterable: Iterable, **_: Any) -> Iterable:
    """A progress wrapper that shows nothing."""
    return iterable


@dataclass
class ReadSource:
    """A raw file once read: its record (transcript or survey), its metadata and its identity."""

    file: RawFile
    content_hash: str
    size: int
    meta: SourceMeta
    record: Transcript | Survey
    path_key: str = ""
    source_uid: str = ""
    replaces: int | None = None
    """The ``source_id`` of the stored source this one replaces (an edit or a rename)."""


@dataclass
class IngestPlan:
    """What an ingest run must do, decided before anything is read."""

    to_read: list[tuple[RawFile, str, str, str, int | None]] = field(default_factory=list)
    """``(file, content hash, path key, source uid, source id it replaces)``."""
    unchanged: list[str] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    """``source_id`` of stored sources whose file is gone."""
    removed_paths: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.to_read or self.removed)


@dataclass
class IngestReport:
    """What an ingest did, file by file (paths relative to the study, as stored: pseudonymised)."""

    run_id: str = ""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    pseudonymisation: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.renamed)

    def summary(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "renamed": len(self.renamed),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "unsupported": len(self.unsupported),
            "failed": len(self.failed),
            "pseudonymisation": self.pseudonymisation,
        }


class IngestError(InputDataError):
    """One or more files could not be read; nothing was written."""

    def __init__(self, failures: list[tuple[str, str]]):
        self.failures = failures
        lines = "\n".join(f"  - {message}" for _, message in failures)
        ToolkitError.__init__(
            self,
            f"{len(failures)} file(s) could not be read, so nothing was stored:\n{lines}\n"
            "Fix or remove them and run again (or use --skip-bad to store the other files).",
        )


def path_key(relative: str, secret: bytes = b"") -> str:
    """A keyed hash of a raw file's path relative to the study (what the store keeps instead of it).

    ``secret`` comes from the pseudonymisation key, so the store alone cannot be used to
    test guesses of names in file names.

    Examples
    --------
    >>> path_key("Fernmouth/FM03.txt") == path_key("Fernmouth/FM03.txt")
    True
    """
    return hmac.new(secret or b"toolkit", relative.encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def new_source_uid(key: str) -> str:
    """The uid a source gets when it is first seen (derived from its path key: the same on every fresh run)."""
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def plan_ingest(
    files: list[RawFile],
    stored: pd.DataFrame,
    *,
    settings_hash: str,
    secret: bytes = b"",
    hashes: dict[str, str] | None = None,
) -> IngestPlan:
    """Decide which files to read, which stored sources are gone, and which were renamed.

    Parameters
    ----------
    files : the study's raw files (:func:`toolkit.ingest.files.discover_files`).
    stored : the store's sources: ``source_id``, ``source_uid``, ``path_key``, ``path``,
        ``content_hash``, ``settings_hash``.
    settings_hash : the fingerprint of today's reading and pseudonymisation settings.
    hashes : content hashes already computed, by relative path (else each file is hashed).
    """
    plan = IngestPlan()
    hashes = dict(hashes or {})
    rows = stored.to_dict("records") if not stored.empty else []
    by_key = {row[s.PATH_KEY]: row for row in rows if isinstance(row.get(s.PATH_KEY), str) and row[s.PATH_KEY]}
    seen_ids: set[int] = set()
    new: list[tuple[RawFile, str, str]] = []
    for raw in files:
        digest = hashes.get(raw.relative) or raw.content_hash()
        key = path_key(raw.relative, secret)
        row = by_key.get(key)
        if row is None:
            new.append((raw, digest, key))
            continue
        seen_ids.add(int(row[s.SOURCE_ID]))
        if row[s.CONTENT_HASH] == digest and row.get(s.SETTINGS_HASH) == settings_hash:
            plan.unchanged.append(raw.relative)
        else:
            plan.to_read.append((raw, digest, key, str(row[s.SOURCE_UID] or new_source_uid(key)), int(row[s.SOURCE_ID])))
    gone = [row for row in rows if int(row[s.SOURCE_ID]) not in seen_ids]  # rows of an older store have no key
    gone_by_hash: dict[str, list[dict]] = {}
    for row in gone:
        gone_by_hash.setdefault(row[s.CONTENT_HASH], []).append(row)
    for raw, digest, key in new:
        candidates = gone_by_hash.get(digest) or []
        if candidates:  # renamed or moved, bytes unchanged: the source keeps its uid
            row = candidates.pop(0)
            gone.remove(row)
            plan.renamed.append(raw.relative)
            plan.to_read.append((raw, digest, key, str(row[s.SOURCE_UID] or new_source_uid(key)), int(row[s.SOURCE_ID])))
        else:
            plan.to_read.append((raw, digest, key, new_source_uid(key), None))
    plan.removed = sorted(int(row[s.SOURCE_ID]) for row in gone)
    plan.removed_paths = sorted(str(row[s.PATH]) for row in gone)
    return plan


def read_planned(
    config: StudyConfig,
    plan: IngestPlan,
    *,
    progress: Progress = no_progress,
) -> tuple[list[ReadSource], list[tuple[str, str]], dict[str, list[str]]]:
    """Read the files the plan names: ``(read sources, failures, warnings by file)``.

    Failures are ``(relative path, message)``; nothing is raised here, so the caller
    decides whether to stop (the default) or store the readable files (``--skip-bad``).
    """
    manifest = load_manifest(config)
    read: list[ReadSource] = []
    failed: list[tuple[str, str]] = []
    warnings: dict[str, list[str]] = {}
    for raw, digest, key, uid, replaces in progress(plan.to_read, desc="reading", unit="file"):
        meta = meta_for(raw, manifest)
        try:
            record = read_file(raw.path, config, interviewers=meta.interviewers)
        except InputDataError as exc:
            failed.append((raw.relative, str(exc)))
            continue
        if record.warnings:
            warnings[raw.relative] = list(record.warnings)
        read.append(ReadSource(raw, digest, raw.path.stat().st_size, meta, record, key, uid, replaces))
    return read, failed, warnings


def load_manifest(config: StudyConfig) -> dict[str, SourceMeta]:
    """The study's manifest (empty when it has none)."""
    path = config.resolve(config.manifest)
    return read_manifest(path) if path.is_file() else {}


def meta_for(raw: RawFile, manifest: dict[str, SourceMeta]) -> SourceMeta:
    """Who and where a file comes from: its manifest row, else its folder."""
    entry = lookup(manifest, raw.relative)
    if entry is None:
        return SourceMeta(place=raw.place)
    return replace(entry, place=entry.place or raw.place)


_META_TEXTS = ("role", "organisation_type", "sector")
"""The manifest's free-text fields, pseudonymised like the text (issue 15); place and participant id are kept."""


def meta_texts(meta: SourceMeta) -> list[str]:
    """The manifest's free-text values of a source, in a fixed order: role, organisation type, sector, text attributes.

    >>> meta_texts(SourceMeta(role="GP partner", extra={"area": {"type": "text", "value": "rural"},
    ...                                                  "years": {"type": "number", "value": 4}}))
    ['GP partner', 'rural']
    """
    values = [getattr(meta, name) for name in _META_TEXTS if getattr(meta, name)]
    values += [item["value"] for _, item in sorted(meta.extra.items()) if item.get("type") == "text"]
    return [str(v) for v in values]


def with_meta_texts(meta: SourceMeta, texts: list[str]) -> SourceMeta:
    """``meta`` with its free-text values (as :func:`meta_texts` lists them) replaced by ``texts``."""
    texts = list(texts)
    changes: dict[str, Any] = {name: texts.pop(0) for name in _META_TEXTS if getattr(meta, name)}
    extra = {name: dict(item) for name, item in meta.extra.items()}
    for name in sorted(extra):
        if extra[name].get("type") == "text":
            extra[name]["value"] = texts.pop(0)
    return replace(meta, **changes, extra=extra)


def source_row(item: ReadSource, *, path: str, settings_hash: str, run_id: str, ingested_at: str) -> dict[str, Any]:
    """The ``sources`` row of a read (and pseudonymised) source; ``path`` is the pseudonymised relative path."""
    record, meta = item.record, item.meta
    is_transcript = isinstance(record, Transcript)
    return {
        s.SOURCE_UID: item.source_uid,
        s.PATH_KEY: item.path_key,
        s.PATH: path,
        s.PLACE: meta.place,
        s.KIND: item.file.kind,
        s.FORMAT: item.file.format,
        s.CONTENT_HASH: item.content_hash,
        s.SIZE_BYTES: item.size,
        s.ENCODING: record.encoding if is_transcript else None,
        s.TEXT: record.text if is_transcript else None,
        s.PARTICIPANT_ID: meta.participant_id,
        s.ORGANISATION_TYPE: meta.organisation_type,
        s.SECTOR: meta.sector,
        s.ROLE: meta.role,
        s.INTERVIEW_DATE: meta.interview_date,
        s.N_ITEMS: len(record.turns) if is_transcript else len(record.respondents),
        s.INGESTED_AT: ingested_at,
        s.RUN_ID: run_id,
        s.SETTINGS_HASH: settings_hash,
        s.SEGMENTED_WITH: None,
        # case attributes (issue 15): the manifest's extra columns, typed, as JSON
        s.ATTRIBUTES: json.dumps(meta.extra, ensure_ascii=False, sort_keys=True) if meta.extra else None,
    }


def survey_frames(item: ReadSource) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A survey's questions, respondents (place filled from the folder), Likert and text answers, ready to store."""
    record, meta = item.record, item.meta
    questions = pd.DataFrame(
        [
            {
                s.QUESTION_KEY: q.key,
                s.POSITION: q.position,
                s.QUESTION_TEXT: q.text,
                s.KIND: q.kind,
                s.SCALE: list(q.scale) if q.scale else None,
            }
            for q in record.questions
        ]
    )
    respondents = record.respondents.copy()
    if s.PLACE in respondents:
        if meta.place:
            respondents[s.PLACE] = respondents[s.PLACE].fillna(meta.place)
    else:
        respondents[s.PLACE] = meta.place
    return questions, respondents, record.likert, record.texts


def ingest_study(
    config: StudyConfig,
    *,
    store=None,
    progress: Progress = no_progress,
    skip_bad: bool = False,
) -> IngestReport:
    """Ingest (read and pseudonymise) a study's new and changed files: the pipeline's first stage alone.

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> report = ingest_study(load_config("interviews"))  # doctest: +SKIP
    >>> report.summary()["failed"]  # doctest: +SKIP
    0
    """
    from toolkit.pipeline import run_study

    return run_study(config, store=store, progress=progress, skip_bad=skip_bad, stages=("ingest",)).ingest


def discover(config: StudyConfig) -> tuple[list[RawFile], list[str]]:
    """The study's raw files and the unsupported ones (see :func:`toolkit.ingest.files.discover_files`)."""
    return discover_files(config)
