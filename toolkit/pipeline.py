"""Run the stages of the analysis, in order: the only module that opens the store and writes files.

    ingest -> pseudonymise -> segment -> code -> topics

Each stage is a pure function of records and settings, found in its own module
(:mod:`toolkit.ingest`, :mod:`toolkit.pseudonymise`, :mod:`toolkit.segment`,
:mod:`toolkit.coding`, :mod:`toolkit.topics`). This module takes the study's run lock,
reads each stage's input from the store, calls the stage, and commits its output in
one transaction; files a stage makes (the pseudonymisation key and its report, the
topic model) are written beside their final place first and swapped in only after
the store commit. A second run on the same study waits for the first or stops with a
clear message; a run stopped with Ctrl-C is recorded as ``interrupted``.

Each stage runs when, and only when, something it reads changed: its inputs, or the
settings it reads (:data:`toolkit.config.STAGE_SETTINGS`), recorded with every run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.config import StudyConfig
from toolkit.errors import ConfigError
from toolkit.ingest.study import IngestReport, Progress, no_progress

log = logging.getLogger(__name__)

STAGES = ("ingest", "pseudonymise", "segment", "code", "topics")
"""The stages, in the order :func:`run_study` runs them. ``ingest`` always runs with
``pseudonymise`` (and the other way round): raw text is never stored."""
_TOGETHER = {"ingest": "pseudonymise", "pseudonymise": "ingest"}
from toolkit.store.store import FAILED, INTERRUPTED, OK  # noqa: E402 - how a run ends


@dataclass
class RunReport:
    """What each stage of a run reported (``None``: the stage had nothing to do)."""

    ingest: IngestReport | None = None
    segment: dict[str, Any] | None = None
    coding: Any = None
    topics: Any = None
    stages: list[str] = field(default_factory=list)
    interrupted_before: int = 0
    """Runs found still 'running' from an earlier process that was stopped (now marked interrupted)."""


def run_study(
    config: StudyConfig,
    *,
    store=None,
    progress: Progress | None = None,
    skip_bad: bool = False,
    stages: Iterable[str] | None = None,
    force: bool = False,
    wait: float = 0.0,
) -> RunReport:
    """Run the pipeline on a study.

    Parameters
    ----------
    config : the study (:func:`toolkit.config.load_config`).
    store : an open store (default: the study's own).
    progress : wraps an iterable to show progress (e.g. ``tqdm``).
    skip_bad : store the readable files even when others fail (the failures are reported).
    stages : some of :data:`STAGES` (run in pipeline order); ``None``: all of them. A stage
        runs only when something it reads changed, unless ``force``.
    force : run the chosen stages even if nothing they read changed.
    wait : seconds to wait for another run on the same study to finish before giving up.

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> report = run_study(load_config("interviews"))  # doctest: +SKIP
    >>> report.stages  # doctest: +SKIP
    ['ingest', 'segment', 'code', 'topics']
    """
    wanted = _wanted(stages)
    forced = bool(force)
    store = store if store is not None else _open_store(config)
    progress = progress or no_progress
    report = RunReport()
    with run_lock(config, store, wait=wait):
        report.interrupted_before = _close_stale_runs(store)
        if "ingest" in wanted:
            report.ingest = _ingest(config, store, progress, skip_bad)
            if report.ingest.run_id:
                report.stages.append("ingest")
        if "segment" in wanted:
            report.segment = _segment(config, store, force=forced)
            if report.segment is not None:
                report.stages.append("segment")
        if "code" in wanted:
            report.coding = _code(config, store, force=forced)
            if report.coding is not None:
                report.stages.append("code")
        if "topics" in wanted and (config.topics.enabled or forced):
            report.topics = _topics(config, store, force=forced)
            if report.topics is not None:
                report.stages.append("topics")
    return report


def _wanted(stages: Iterable[str] | None) -> list[str]:
    if stages is None:
        return list(STAGES)
    wanted = list(stages)
    unknown = [x for x in wanted if x not in STAGES]
    if unknown:
        raise ConfigError(f"Unknown stage(s): {', '.join(unknown)}. Stages: {', '.join(STAGES)}.")
    for name, partner in _TOGETHER.items():
        if name in wanted and partner not in wanted:
            wanted.append(partner)
    return [x for x in STAGES if x in wanted]


def _open_store(config: StudyConfig):
    from toolkit.store import Store

    return Store(config.store_url, study=config.root)


# --------------------------------------------------------------------------- the run lock and run records
from toolkit.store.lock import RunLocked as RunLockedError  # noqa: E402,F401 - re-exported: what a locked study raises


def run_lock(config: StudyConfig, store=None, *, wait: float = 0.0):
    """Hold the study's run lock for a ``with`` block (one run of a study at a time).

    SQLite: a lock file beside the store; PostgreSQL: an advisory lock (see
    :meth:`toolkit.store.Store.run_lock`). Either is let go when the process ends, however it
    ends, so a killed run never leaves the study locked.
    """
    store = store if store is not None else _open_store(config)
    return store.run_lock(wait=wait)


def _close_stale_runs(store) -> int:
    """Mark runs left 'running' by a process that ended without saying so (we hold the lock now)."""
    return store.mark_interrupted_runs()


class _Run:
    """A run record: started when entered, finished ok / failed / interrupted when left."""

    def __init__(self, store, stage: str, fingerprint: str):
        from toolkit import __version__

        self.store, self.stage = store, stage
        self.run_id = store.start_run(stage, config_hash=fingerprint, version=__version__)
        self.summary: dict[str, Any] = {}

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.store.finish_run(self.run_id, OK, self.summary)
        elif issubclass(kind, KeyboardInterrupt):
            self.store.finish_run(self.run_id, INTERRUPTED, {"stopped": "interrupted by the user"})
        else:
            self.store.finish_run(self.run_id, FAILED, {"error": kind.__name__})
        return False


def _last_ok(store, stage: str) -> pd.Series | None:
    runs = store.runs_frame(limit=200)
    done = runs[(runs[s.STAGE] == stage) & (runs[s.STATUS] == OK)]
    return None if done.empty else done.iloc[0]


# --------------------------------------------------------------------------- ingest + pseudonymise
def _ingest(config: StudyConfig, store, progress: Progress, skip_bad: bool) -> IngestReport:
    from toolkit.ingest.files import discover_files
    from toolkit.ingest.study import IngestError, new_source_uid, plan_ingest, read_planned

    report = IngestReport()
    files, report.unsupported = discover_files(config)
    keys = _Keys(config)
    settings = source_settings_hash(config)
    plan = plan_ingest(files, store.sources_for_ingest(), settings_hash=settings, secret=keys.secret)
    report.unchanged = list(plan.unchanged)
    if plan.empty:
        log.info("nothing to ingest: %d files unchanged", len(plan.unchanged))
        return report
    read, report.failed, report.warnings = read_planned(config, plan, progress=progress)
    if report.failed and not skip_bad:
        raise IngestError(report.failed)
    pseudonymised, paths, summary = keys.pseudonymise(read, places=sorted({f.place for f in files if f.place}))
    report.pseudonymisation = summary
    # the notes as pseudonymised with their records ("took 'Priya ...' as the interviewer" names a speaker)
    report.warnings = {path: list(item.record.warnings) for item, path in zip(pseudonymised, paths)
                       if item.record.warnings}
    with _Run(store, "ingest", settings) as run:
        report.run_id = run.run_id
        try:
            with store.transaction() as conn:
                store.delete_source_ids(conn, [i for i in plan.removed] +
                                        [item.replaces for item in pseudonymised if item.replaces is not None])
                for item, path in progress(list(zip(pseudonymised, paths)), desc="storing", unit="file"):
                    if item.replaces is None:
                        item.source_uid = new_source_uid(path)
                    _write_source(store, conn, item, path, settings, run.run_id)
                    renamed = item.file.relative in plan.renamed
                    target = report.renamed if renamed else (report.updated if item.replaces else report.added)
                    target.append(path)
                report.removed = list(plan.removed_paths)
                keys.stage_files()
        except BaseException:
            keys.discard()
            raise
        keys.swap_in()
        run.summary = report.summary()
    return report


def source_settings_hash(config: StudyConfig) -> str:
    """The fingerprint stored with each source: the settings its stored text depends on."""
    from toolkit.config import _digest

    parts = [config.settings_fingerprint("ingest"), config.settings_fingerprint("pseudonymise")]
    manifest = config.resolve(config.manifest)
    if manifest.is_file():  # issue 15: a manifest edit (a role, a new case attribute) reaches the stored sources
        parts.append(hashlib.sha256(manifest.read_bytes()).hexdigest())
    return _digest(parts)


def _write_source(store, conn, item, path: str, settings: str, run_id: str) -> None:
    from toolkit.ingest.study import source_row, survey_frames
    from toolkit.store import now

    row = source_row(item, path=path, settings_hash=settings, run_id=run_id, ingested_at=now())
    source_id = store.insert_source(conn, row)
    if isinstance(item.record, s.Transcript):
        store.insert_turns(conn, source_id, item.record.to_frame())
    else:
        store.insert_survey(conn, source_id, *survey_frames(item))


class _Keys:
    """The study's pseudonymisation key across one run: loaded, updated, staged, swapped in after the commit."""

    def __init__(self, config: StudyConfig):
        import secrets

        from toolkit.pseudonymise.keyfile import load_key_if_any

        self.config = config
        self.key = load_key_if_any(config.key_path) if config.pseudonymisation.enabled else None
        old = self.key.secret if self.key is not None else ""
        fresh = secrets.token_hex(16) if config.pseudonymisation.enabled and not old else ""
        self.secret = (old or fresh).encode()
        self._staged: list[tuple[Path, Path]] = []
        self._pending: list[tuple[Path, str]] = []

    def pseudonymise(self, read: list, places: Iterable[str] = ()) -> tuple[list, list[str], dict[str, Any]]:
        """Pseudonymise what was read: the records, their paths as stored, and a summary (counts only).

        The study's places (its place folders) are kept wherever they appear, in text and in
        paths: the analysis is by place.
        """
        from dataclasses import replace

        from toolkit.pseudonymise.keyfile import check_key_path, key_text, report_path
        from toolkit.pseudonymise.stage import pseudonymise_records

        if not self.config.pseudonymisation.enabled:
            log.warning("pseudonymisation is switched off in study.toml: raw text will be stored")
            return read, [item.file.relative for item in read], {"enabled": False}
        if not read:
            return read, [], {"enabled": True, "replaced": {}, "residual_risks": 0}
        config, options = self.config, self.config.pseudonymisation
        kept = tuple(p for p in dict.fromkeys((*config.places, *places)) if p and p not in options.allow)
        options = replace(options, allow=(*options.allow, *kept))
        result = pseudonymise_records(read, options, key=self.key, interviewers=config.ingest.interviewers,
                                      workers=config.performance.workers)
        records, key = _pseudonymise_meta(list(result.records), options, result.key, config.ingest.interviewers)
        self.key = replace(key, secret=self.secret.decode())
        check_key_path(config.key_path)
        self._pending = [(config.key_path, key_text(self.key, style=options.style)),
                         (report_path(config.key_path), result.report.to_markdown())]
        return records, list(result.paths), result.summary()

    def stage_files(self) -> None:
        """Write the key and report beside their final place (private), before the store commits."""
        from toolkit.io import write_text

        for target, text in self._pending:
            staged = target.with_name(f".{target.name}.staged")
            write_text(staged, text, private=True)
            self._staged.append((staged, target))

    def swap_in(self) -> None:
        """Move the staged files into place: only called once the store has committed.

        A study that keeps its key in the default place records where, so it finds the key
        again after the study folder moves.
        """
        import os

        from toolkit.io import write_text

        for staged, target in self._staged:
            os.replace(staged, target)
        self._staged = []
        config = self.config
        if config.pseudonymisation.enabled and not config.pseudonymisation.key_path:
            if not config.key_location_file.is_file():
                write_text(config.key_location_file, f"{config.key_path}\n", private=True)

    def discard(self) -> None:
        """Remove staged files that will not be used (the store did not commit)."""
        for staged, _ in self._staged:
            staged.unlink(missing_ok=True)
        self._staged = []


def _pseudonymise_meta(items: list, options, key, names) -> tuple[list, Any]:
    """Issue 15: what the manifest says about each source (role, organisation type, sector, text attributes)
    pseudonymised with the run's key, as the text is: manifest values can hold names."""
    from dataclasses import replace

    from toolkit.ingest.study import meta_texts, with_meta_texts
    from toolkit.pseudonymise.stage import pseudonymise_values

    texts = [meta_texts(item.meta) for item in items]
    flat = [value for group in texts for value in group]
    if not flat:
        return items, key
    cleaned, key = pseudonymise_values(flat, key=key, options=options, names=names)
    out, at = [], 0
    for item, group in zip(items, texts):
        out.append(replace(item, meta=with_meta_texts(item.meta, cleaned[at:at + len(group)])))
        at += len(group)
    return out, key


def key_secret(config: StudyConfig) -> bytes:
    """The secret that keys the hashes of file paths in the store (kept with the pseudonymisation key)."""
    return _Keys(config).secret


# --------------------------------------------------------------------------- segment
def segment_settings_hash(config: StudyConfig) -> str:
    """The fingerprint a source is segmented with: the segment settings and the segmenter."""
    from toolkit.models import spacy_model_name

    return config.settings_fingerprint("segment", spacy_model_name(config.pseudonymisation.ner_model))


def segmenter_workers(config: StudyConfig):
    """How worker processes load the segmenter, and how many may (``[performance] workers``)."""
    from functools import partial

    from toolkit.models import load_segmenter, needs_torch
    from toolkit.nlp_workers import NlpWorkers

    model = config.pseudonymisation.ner_model
    return NlpWorkers(load=partial(load_segmenter, model), count=config.performance.workers,
                      without_torch=not needs_torch(model))


def _segment(config: StudyConfig, store, *, force: bool, nlp=None) -> dict[str, Any] | None:
    from toolkit.models import load_segmenter
    from toolkit.segment import segment_sources

    fingerprint = segment_settings_hash(config)
    sources = store.sources_for_ingest()
    if sources.empty:
        return None
    stale = sources if force else sources[sources[s.SEGMENTED_WITH].fillna("") != fingerprint]
    if stale.empty and not _has_unattached_work(store):
        return None
    ids = [int(i) for i in stale[s.SOURCE_ID]]
    with _Run(store, "segment", fingerprint) as run:
        segments = pd.DataFrame()
        if ids:
            workers = None if nlp is not None else segmenter_workers(config)  # an injected nlp stays here
            nlp = nlp if nlp is not None else load_segmenter(config.pseudonymisation.ner_model)
            segments = segment_sources(store.turns_for_segmenting(ids), store.answers_for_segmenting(ids), nlp,
                                       min_words=config.coding.min_words, workers=workers)
        with store.transaction() as conn:
            if ids:
                store.replace_segments_of(conn, ids, segments, run_id=run.run_id, segmented_with=fingerprint)
            dropped = store.drop_orphan_machine_codings(conn)
            anchors = _reattach(store, conn)
        run.summary = {"sources": len(ids), "segments": int(len(segments)), "machine_codings_dropped": dropped,
                       **anchors}
    return run.summary


ANCHORED_TABLES = {s.HUMAN_CODINGS: s.TEXT, s.PRACTICES: s.ANCHOR_TEXT, s.COMMENTS: s.ANCHOR_TEXT,
                   s.QA_ITEMS: s.ANCHOR_TEXT, s.ASSIGNMENTS: s.ANCHOR_TEXT, s.MEMOS: s.ANCHOR_TEXT}
"""Tables of human work on segments, and the column holding each row's anchor text."""


def _has_unattached_work(store) -> bool:
    """True when some human work not yet known to be orphaned names a segment that is not in the store."""
    frames = [store.table(name) for name in ANCHORED_TABLES]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:  # no human work: the segment keys need not be read (issue 18)
        return False
    keys = set(store.segment_keys())
    for frame in frames:
        live = frame[frame[s.SEGMENT_KEY].notna() & (frame[s.ANCHOR].fillna("") != "orphaned")]
        if (~live[s.SEGMENT_KEY].isin(keys)).any():
            return True
    return False


def _reattach(store, conn) -> dict[str, int]:
    """Re-attach every piece of human work to the segments as they are now (see :mod:`toolkit.review.anchors`).

    Moved work gets its new segment key and the segment's current text as its anchor (so a
    name that is pseudonymised now is not kept in the anchor); topic edits follow the keys.
    """
    from toolkit.review.anchors import ORPHANED, attach, remap

    counts = {"moved": 0, "orphaned": 0}
    work = {}
    for name in ANCHORED_TABLES:
        frame = store.table(name, conn=conn)
        frame = frame[frame[s.SEGMENT_KEY].notna()] if not frame.empty else frame
        if not frame.empty:
            work[name] = frame
    if not work:  # no human work: every segment need not be read (issue 18)
        return counts
    segments = store.segments_frame(evidence_only=False, conn=conn)[[s.SEGMENT_KEY, s.SOURCE_UID, s.TEXT]]
    text_of = dict(zip(segments[s.SEGMENT_KEY], segments[s.TEXT]))
    moved_keys: dict[str, str] = {}
    for name, frame in work.items():
        text_column = ANCHORED_TABLES[name]
        before = frame[[s.SEGMENT_KEY, s.SOURCE_UID, s.ANCHOR]].copy()
        after = attach(frame.rename(columns={text_column: "_anchor"}), segments, text_column="_anchor")
        after = after.rename(columns={"_anchor": text_column})
        changed = (after[s.SEGMENT_KEY] != before[s.SEGMENT_KEY]) | (after[s.ANCHOR] != before[s.ANCHOR]) | (
            after[s.SOURCE_UID].astype(str) != before[s.SOURCE_UID].astype(str))
        rows = after[changed].copy()
        if rows.empty:
            continue
        live = rows[s.ANCHOR] != ORPHANED
        rows.loc[live, text_column] = rows.loc[live, s.SEGMENT_KEY].map(text_of)
        for old, new in zip(before.loc[rows.index, s.SEGMENT_KEY], rows[s.SEGMENT_KEY]):
            if old != new:
                moved_keys[old] = new
        store.update_rows(conn, name, rows, [s.SEGMENT_KEY, s.SOURCE_UID, s.ANCHOR, text_column])
        counts["moved"] += int((rows[s.ANCHOR] == "moved").sum())
        counts["orphaned"] += int((rows[s.ANCHOR] == ORPHANED).sum())
    if moved_keys:
        edits = store.table(s.TOPIC_EDITS, conn=conn)
        if not edits.empty:
            edits[s.MEMBERS] = [json.dumps([remap(group, moved_keys) for group in json.loads(m)])
                                for m in edits[s.MEMBERS]]
            store.update_rows(conn, s.TOPIC_EDITS, edits, [s.MEMBERS])
    return counts


# --------------------------------------------------------------------------- code
@dataclass
class CodingReport:
    """What a coding run did."""

    run_id: str
    segments: int
    coded_segments: int
    codings: int
    full: bool
    human_codings_used: int
    codebook_version: str
    embeddings_computed: int
    embeddings_cached: int
    mode: str = "all"
    """``all``, ``new`` (only segments not coded yet) or ``codebook edit`` (only what an edit affects)."""

    def summary(self) -> dict:
        return dict(self.__dict__)


def study_codebook(config: StudyConfig, *, check_patterns: bool = False):
    """The study's codebook; patterns are checked with spaCy only when the coder is about to use them."""
    from toolkit.codebook import load_codebook

    path = config.resolve(config.coding.codebook) if config.coding.codebook else None
    return load_codebook(path, check_patterns=check_patterns)


def code_settings_hash(config: StudyConfig, training: pd.DataFrame, model: str, codebook=None) -> str:
    """The fingerprint of a coding run: settings, what the coder learnt from, the embedder (and the codebook)."""
    from toolkit.config import _digest

    taught = _digest(training.astype(str).values.tolist()) if not training.empty else ""
    parts = [taught, model] + ([codebook.fingerprint()] if codebook is not None else [])
    return config.settings_fingerprint("code", *parts)


@dataclass(frozen=True)
class _CodebookOutline:
    """What a coding run remembers of its codebook: enough to tell which themes a later edit changed."""

    uses_polarity: bool
    polarities: dict
    fingerprints: dict

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.fingerprints)

    def theme_fingerprint(self, theme_id: str) -> str:
        return self.fingerprints[theme_id]

    @classmethod
    def of(cls, codebook) -> dict:
        return {"uses_polarity": bool(codebook.uses_polarity), "polarities": dict(codebook.polarities),
                "fingerprints": {t: codebook.theme_fingerprint(t) for t in codebook.ids}}


def _code(config: StudyConfig, store, *, force: bool, embedder=None, nlp=None, codebook=None):
    """Code the evidence segments.

    All of them when the settings, the human codings the coder learns from or the embedder changed;
    after an edit of the codebook alone, only the segments whose codings touch an edited theme
    (``recode_affected``); otherwise only the segments not coded yet.
    """
    from toolkit.coding import build_coder, code_segments, training_frame
    from toolkit.coding.stage import coding_embedder, recode_affected
    from toolkit.coding.units import add_context
    from toolkit.models import load_segmenter

    if not store.segment_keys(evidence_only=True):
        return None
    given = codebook
    codebook = given or study_codebook(config)
    training = training_frame(store.table(s.HUMAN_CODINGS))
    embedder = embedder or coding_embedder(config, store)
    model = getattr(embedder, "model", "")
    base = code_settings_hash(config, training, model)
    fingerprint = code_settings_hash(config, training, model, codebook)
    last = _last_ok(store, "code")
    last_summary = json.loads(last[s.SUMMARY] or "{}") if last is not None else {}
    if force or last is None or last_summary.get("base") != base:
        mode = "all"
    elif last[s.CONFIG_HASH] != fingerprint and last_summary.get("codebook_outline"):
        mode = "codebook edit"
    elif last[s.CONFIG_HASH] != fingerprint:
        mode = "all"
    else:  # only segments not coded yet: compare keys before reading any text (the no-change run stops here)
        seen = store.coded_segment_keys(s.MACHINE_CODER)
        if set(store.segment_keys(evidence_only=True)) <= seen:
            return None
        mode = "new"
    segments = store.segments_frame(evidence_only=True)
    todo = segments[~segments[s.SEGMENT_KEY].isin(seen)] if mode == "new" else segments
    if given is None:  # about to code: now check the patterns with spaCy
        codebook = study_codebook(config, check_patterns=True)
    nlp = nlp if nlp is not None else load_segmenter(config.pseudonymisation.ner_model)
    coder = build_coder(codebook, config.coding, training=training, embedder=embedder, nlp=nlp, seed=config.seed)
    units = add_context(todo)
    replace_keys: list[str] | None = None if mode == "all" else todo[s.SEGMENT_KEY].tolist()
    if mode == "codebook edit":
        previous = store.machine_codings_of(todo[s.SEGMENT_KEY].tolist())
        old = _CodebookOutline(**last_summary["codebook_outline"])
        codings, affected = recode_affected(units, previous, coder=coder, old_codebook=old)
        codings = codings[codings[s.SEGMENT_KEY].isin(affected)]
        replace_keys = sorted(affected)
    else:
        codings = code_segments(units, coder=coder)
    with _Run(store, "code", fingerprint) as run:
        with store.transaction() as conn:
            store.replace_machine_codings_of(conn, codings, coder=s.MACHINE_CODER, run_id=run.run_id,
                                             segment_keys=replace_keys)
        themed = codings[codings[s.THEME].notna()]
        report = CodingReport(
            run_id=run.run_id, segments=len(todo) if replace_keys is None else len(replace_keys),
            coded_segments=int(themed[s.SEGMENT_KEY].nunique()), codings=len(themed), full=mode == "all",
            human_codings_used=len(training), codebook_version=codebook.fingerprint(),
            embeddings_computed=getattr(embedder, "computed", 0), embeddings_cached=getattr(embedder, "cached", 0),
            mode=mode,
        )
        run.summary = {**report.summary(), "base": base, "codebook_outline": _CodebookOutline.of(codebook)}
    return report


# --------------------------------------------------------------------------- topics
def code_study(config: StudyConfig, store, *, embedder=None, nlp=None, codebook=None, wait: float = 0.0):
    """Segment and code a study now, with injected models (tests, benchmarks, notebooks trying settings).

    The pipeline's segment and code stages, forced, under the study's run lock. Returns the
    :class:`CodingReport`.
    """
    with run_lock(config, store, wait=wait):
        _close_stale_runs(store)
        _segment(config, store, force=False, nlp=nlp)
        return _code(config, store, force=True, embedder=embedder, nlp=nlp, codebook=codebook)


def codings_are_current(config: StudyConfig, store, *, codebook=None, human: pd.DataFrame | None = None) -> bool:
    """True when the stored machine codings are what the coder would give now: the last coding run used these
    settings, this embedder and codebook and learnt from exactly these human codings, and every evidence
    segment has a machine coding.

    The review queue then reads the stored codings instead of refitting and re-predicting every segment
    (at 25,000 segments that took 20 s before the page could draw); it refits at the first decision.
    ``human`` is the ``human_codings`` table when the caller has read it already.
    """
    from toolkit.coding import training_frame
    from toolkit.coding.stage import coding_embedder

    last = _last_ok(store, "code")
    if last is None:
        return False
    human = store.table(s.HUMAN_CODINGS) if human is None else human
    model = getattr(coding_embedder(config, None), "model", "")
    fingerprint = code_settings_hash(config, training_frame(human), model, codebook or study_codebook(config))
    if last[s.CONFIG_HASH] != fingerprint:
        return False
    return set(store.segment_keys(evidence_only=True)) <= store.coded_segment_keys(s.MACHINE_CODER)


def topics_are_stale(config: StudyConfig, store) -> bool:
    """True when the topics stage has work: never fitted, other settings, codebook or edits, or a newer coding run.

    The first three fit the model again; a newer coding run alone (new segments, new codings) lets
    new segments join the stored model unless it drifted (see :func:`_previous_topics`).
    """
    from toolkit.topics.stage import TOPICS_STAGE, topics_settings_hash

    codebook = study_codebook(config)
    last = _last_ok(store, TOPICS_STAGE)
    if last is None or last[s.CONFIG_HASH] != topics_settings_hash(config, codebook, store.table(s.TOPIC_EDITS)):
        return True
    coded = _last_ok(store, "code")
    return bool(coded is not None and coded[s.STARTED_AT] > last[s.STARTED_AT])


def fit_and_store_topics(config: StudyConfig, store, *, embedder=None, codebook=None, save_model: bool = True,
                         wait: float = 0.0):
    """Run the topics stage now, under the study's run lock (``toolkit topics --force``, topic merges and splits)."""
    with run_lock(config, store, wait=wait):
        _close_stale_runs(store)
        return _topics(config, store, force=True, embedder=embedder, codebook=codebook, save_model=save_model)


def _topics(config: StudyConfig, store, *, force: bool, embedder=None, codebook=None, save_model: bool = True):
    """Fit topics when anything they depend on changed; the model folder is swapped in after the commit."""
    from toolkit.coding import resolve_codings
    from toolkit.coding.stage import coding_embedder
    from toolkit.io import discard, make_private, staging_folder, swap_folder
    from toolkit.topics.stage import TOPICS_STAGE, fit_topics, model_dir, topics_settings_hash

    if not force and not topics_are_stale(config, store):
        return None
    segments = store.segments_frame(evidence_only=True)
    codebook = codebook or study_codebook(config)
    edits = store.table(s.TOPIC_EDITS)
    embedder = embedder or coding_embedder(config, store)  # the coder's vectors, from the cache
    codings = resolve_codings(store.table(s.CODINGS), store.table(s.HUMAN_CODINGS))
    fingerprint = topics_settings_hash(config, codebook, edits)
    previous, reason = _previous_topics(config, store, fingerprint, force=force)
    fit = fit_topics(segments, config=config, codebook=codebook, embedder=embedder, edits=edits, codings=codings,
                     previous=previous, reason=reason)
    staged = None
    with _Run(store, TOPICS_STAGE, fingerprint) as run:
        fit.report.run_id = run.run_id
        try:
            if save_model:
                staged = make_private(fit.save_model(staging_folder(model_dir(config))))
            with store.transaction() as conn:
                store.replace_topics(conn, fit.topics, fit.assignments, run.run_id)
            if staged is not None:
                fit.report.model_path = str(swap_folder(staged, model_dir(config)))
                staged = None
        finally:
            discard(staged)
        run.summary = {**fit.report.summary(), "codebook": codebook.fingerprint(), "edits": len(edits)}
    return fit.report


def _previous_topics(config: StudyConfig, store, fingerprint: str, *, force: bool):
    """The last topics run's output for new segments to join, or None and why the model is fitted again.

    Fitted again when asked (``force``: ``toolkit topics --refit``/``--force``, ``toolkit run --force``),
    on the first run, when the topic settings, codebook or edits changed, or when the last run saved
    no model; otherwise the stage joins, unless the study drifted (:class:`toolkit.topics.stage.Drift`).
    """
    from toolkit.topics.stage import TOPICS_STAGE, PreviousFit, load_previous_phrases, model_dir

    last = _last_ok(store, TOPICS_STAGE)
    if force:
        return None, "asked for (--refit)"
    if last is None:
        return None, "first fit"
    if last[s.CONFIG_HASH] != fingerprint:
        return None, "topic settings, codebook or topic edits changed"
    summary = json.loads(last[s.SUMMARY] or "{}")
    phrases = load_previous_phrases(model_dir(config)) if summary.get("model_path") else None
    if phrases is None:
        return None, "no saved model to join"
    return PreviousFit(store.table(s.SEGMENT_TOPICS), store.table(s.TOPICS), phrases, summary), ""


def stage_names() -> Sequence[str]:
    """The stages, in order (for the CLI's help)."""
    return STAGES
