"""Ingest a whole study: find its files, read the new and changed ones, pseudonymise, store.

Re-ingesting is idempotent: files whose bytes are unchanged (same SHA-256) are
skipped, changed files are read again and replace their old rows, files gone from
the folder leave the store. Every file is read and checked before anything is
written, and everything is written in one transaction, so bad input or a failure
leaves the store as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from toolkit import __version__
from toolkit import schema as s
from toolkit.config import StudyConfig
from toolkit.errors import InputDataError, ToolkitError
from toolkit.ingest import read_file
from toolkit.ingest.files import RawFile, discover_files
from toolkit.ingest.manifest import lookup, read_manifest
from toolkit.schema import SourceMeta, Survey, Transcript
from toolkit.store import Store, now

log = logging.getLogger(__name__)

Progress = Callable[..., Iterable]


def _no_progress(iterable: Iterable, **_: Any) -> Iterable:
    return iterable


@dataclass
class ReadSource:
    """A raw file once read: its record (transcript or survey) and its metadata."""

    file: RawFile
    content_hash: str
    size: int
    meta: SourceMeta
    record: Transcript | Survey


@dataclass
class IngestReport:
    """What an ingest did, file by file (paths relative to the study)."""

    run_id: str = ""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    pseudonymisation: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "unsupported": self.unsupported,
            "failed": [path for path, _ in self.failed],
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


def ingest_study(
    config: StudyConfig,
    *,
    store: Store | None = None,
    progress: Progress = _no_progress,
    skip_bad: bool = False,
) -> IngestReport:
    """Read the study's raw files into its store.

    Parameters
    ----------
    config : the study (see :func:`toolkit.config.load_config`).
    store : an open store (default: the study's own).
    progress : wraps an iterable to show progress (e.g. ``tqdm``).
    skip_bad : store the readable files even when others fail (the failures are reported).

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> report = ingest_study(load_config("interviews"))  # doctest: +SKIP
    >>> report.summary()["failed"]  # doctest: +SKIP
    []
    """
    store = store or Store(config.store_url)
    report = IngestReport()
    files, report.unsupported = discover_files(config)
    manifest = {}
    manifest_path = config.resolve(config.manifest)
    if manifest_path.is_file():
        manifest = read_manifest(manifest_path)

    stored = store.source_hashes()
    on_disk = {f.relative for f in files}
    report.removed = sorted(p for p in stored if p not in on_disk)

    to_read: list[tuple[RawFile, str]] = []
    for raw in files:
        digest = raw.content_hash()
        if stored.get(raw.relative) == digest:
            report.unchanged.append(raw.relative)
        else:
            to_read.append((raw, digest))

    read: list[ReadSource] = []
    for raw, digest in progress(to_read, desc="reading", unit="file"):
        meta = _meta_for(raw, manifest)
        try:
            record = read_file(raw.path, config, interviewers=meta.interviewers)
        except InputDataError as exc:
            report.failed.append((raw.relative, str(exc)))
            continue
        if record.warnings:
            report.warnings[raw.relative] = list(record.warnings)
        read.append(ReadSource(raw, digest, raw.path.stat().st_size, meta, record))
        (report.updated if raw.relative in stored else report.added).append(raw.relative)
    if report.failed and not skip_bad:
        raise IngestError(report.failed)

    if not read and not report.removed:
        log.info("nothing changed: %d files unchanged", len(report.unchanged))
        return report

    read, report.pseudonymisation = _pseudonymise(config, read, stored_paths=set(stored))

    run_id = store.start_run("ingest", config_hash=config.fingerprint(), version=__version__)
    report.run_id = run_id
    try:
        with store.transaction() as conn:
            for path in report.removed:
                store.delete_source(conn, path)
            for item in progress(read, desc="storing", unit="file"):
                _write(store, conn, item, run_id)
    except Exception as exc:
        store.finish_run(run_id, "failed", {"error": type(exc).__name__})
        raise
    store.finish_run(run_id, "ok", report.summary())
    return report


def _meta_for(raw: RawFile, manifest: dict[str, SourceMeta]) -> SourceMeta:
    entry = lookup(manifest, raw.relative)
    if entry is None:
        return SourceMeta(place=raw.place)
    return replace(entry, place=entry.place or raw.place)


def _pseudonymise(
    config: StudyConfig, read: list[ReadSource], *, stored_paths: set[str]
) -> tuple[list[ReadSource], dict[str, Any]]:
    """Replace identifiers in every record before anything is stored (see :mod:`toolkit.pseudonymise`)."""
    if not config.pseudonymisation.enabled:
        log.warning("pseudonymisation is switched off in study.toml: raw text will be stored")
        return read, {"enabled": False}
    from toolkit.pseudonymise import pseudonymise_sources

    return pseudonymise_sources(config, read)


def _write(store: Store, conn, item: ReadSource, run_id: str) -> None:
    record, meta = item.record, item.meta
    is_transcript = isinstance(record, Transcript)
    row = {
        s.PATH: item.file.relative,
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
        s.INGESTED_AT: now(),
        s.RUN_ID: run_id,
    }
    source_id = store.insert_source(conn, row)
    if is_transcript:
        store.insert_turns(conn, source_id, record.to_frame())
        return
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
    respondent_frame = record.respondents.copy()
    if s.PLACE in respondent_frame:
        respondent_frame[s.PLACE] = respondent_frame[s.PLACE].fillna(meta.place) if meta.place else respondent_frame[s.PLACE]
    else:
        respondent_frame[s.PLACE] = meta.place
    store.insert_survey(conn, source_id, questions, respondent_frame, record.likert, record.texts)
