"""The coding stage: a fitted coder from a codebook, settings and human codings; segments in, codings out.

:func:`build_coder` and :func:`code_segments` are pure (no store, no files): the pipeline
reads the store, calls them and writes what they return. :func:`code_study` and
:func:`coding_is_stale` are the old store-reading entry points, kept as thin wrappers
until the pipeline replaces them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pandas as pd

from toolkit import schema as s
from toolkit.coding.coder import ThemeCoder
from toolkit.coding.human import training_frame

log = logging.getLogger(__name__)


@dataclass
class CodingReport:
    """What a coding run did."""

    run_id: str
    segments: int
    evidence_segments: int
    coded_segments: int
    codings: int
    human_codings_used: int
    codebook_version: str
    embeddings_computed: int
    embeddings_cached: int

    def summary(self) -> dict:
        return dict(self.__dict__)


NOT_CODING = ("topics",)
"""Config sections that do not change coding: editing them never re-codes."""


def coding_is_stale(config, store) -> bool:
    """True when coding must run again: nothing coded yet, a new codebook, new human codings,
    or sources changed since the last coding run."""
    runs = store.runs_frame(limit=50)
    done = runs[(runs[s.STAGE] == "code") & (runs[s.STATUS] == "ok")]
    if done.empty or store.counts()[s.SEGMENTS] == 0:
        return True
    last = done.iloc[0]
    summary = json.loads(last[s.SUMMARY] or "{}")
    codebook = study_codebook(config)
    if summary.get("codebook_version") != codebook.fingerprint() or last[s.CONFIG_HASH] != config.fingerprint(exclude=NOT_CODING):
        return True
    if summary.get("human_codings_used") != len(training_frame(store.table(s.HUMAN_CODINGS))):
        return True
    ingests = runs[(runs[s.STAGE] == "ingest") & (runs[s.STATUS] == "ok")]
    return bool(not ingests.empty and ingests.iloc[0][s.STARTED_AT] > last[s.STARTED_AT])


def code_study(config, store, *, embedder=None, nlp=None, codebook=None) -> CodingReport:
    """Segment every turn and free-text answer, and code the participants' segments (old entry point).

    A thin wrapper until the pipeline replaces it: it reads the store, calls the pure
    :func:`build_coder` and :func:`code_segments`, and writes their result in one transaction.
    Machine codings are replaced on each run; human codings are never touched and teach the coder.

    Examples
    --------
    >>> from toolkit.config import load_config
    >>> from toolkit.store import Store
    >>> config = load_config("interviews")  # doctest: +SKIP
    >>> code_study(config, Store(config.store_url)).coded_segments  # doctest: +SKIP
    """
    from toolkit import __version__
    from toolkit.embed import CachedEmbedder
    from toolkit.models import load_segmenter
    from toolkit.segment import segment_answers, segment_turns

    codebook = codebook or study_codebook(config)
    nlp = nlp if nlp is not None else load_segmenter(config.pseudonymisation.ner_model)
    embedder = embedder or CachedEmbedder(store)
    segments = pd.concat(
        [
            segment_turns(store.turns_for_segmenting(), nlp, min_words=config.coding.min_words),
            segment_answers(store.answers_for_segmenting(), nlp, min_words=config.coding.min_words),
        ],
        ignore_index=True,
    )
    training = training_frame(store.table(s.HUMAN_CODINGS))
    coder = build_coder(codebook, config.coding, training=training, embedder=embedder, nlp=nlp, seed=config.seed)
    codings = code_segments(segments, coder=coder)
    coded = codings[codings[s.THEME].notna()]
    run_id = store.start_run("code", config_hash=config.fingerprint(exclude=NOT_CODING), version=__version__)
    try:
        with store.transaction() as conn:
            store.replace_segments(conn, segments, run_id)
            store.replace_machine_codings(conn, coded, s.MACHINE_CODER, run_id)
    except Exception as exc:
        store.finish_run(run_id, "failed", {"error": type(exc).__name__})
        raise
    report = CodingReport(
        run_id=run_id,
        segments=len(segments),
        evidence_segments=int(segments[s.IS_EVIDENCE].astype(bool).sum()),
        coded_segments=int(coded[s.SEGMENT_KEY].nunique()),
        codings=len(coded),
        human_codings_used=len(training),
        codebook_version=codebook.fingerprint(),
        embeddings_computed=getattr(embedder, "computed", 0),
        embeddings_cached=getattr(embedder, "cached", 0),
    )
    store.finish_run(run_id, "ok", report.summary())
    return report


# --------------------------------------------------------------------------- the pure stage
def build_coder(codebook, options=None, *, training: pd.DataFrame | None = None, embedder, nlp=None, seed: int = 42):
    """A fitted :class:`ThemeCoder`: the codebook, the ``[coding]`` settings, and human codings to learn from.

    Pure: no store, no files. ``options`` is a :class:`toolkit.config.CodingOptions` (``None``:
    the defaults); ``training`` has ``text``, ``theme``, ``polarity`` (see :func:`training_frame`).

    Examples
    --------
    >>> from toolkit.codebook import load_codebook
    >>> coder = build_coder(load_codebook(), None, embedder=embed)  # doctest: +SKIP
    """
    return ThemeCoder(
        codebook=codebook,
        embedder=embedder,
        nlp=nlp,
        min_score=getattr(options, "min_score", 0.45),
        max_themes=getattr(options, "max_themes", 2),
        seed=seed,
    ).fit(training)


CODING_COLUMNS = [s.SEGMENT_KEY, s.THEME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.EVIDENCE, s.CODEBOOK_VERSION]
"""Columns of the codings frame :func:`code_segments` returns."""


def code_segments(segments: pd.DataFrame, *, coder) -> pd.DataFrame:
    """Code the participants' segments (``is_evidence``): one row per (segment, theme), uncoded ones with no theme.

    Pure: the frame in, a codings frame out (:data:`CODING_COLUMNS`, ``evidence`` as JSON).

    Examples
    --------
    >>> codings = code_segments(segments, coder=coder)  # doctest: +SKIP
    >>> codings[codings["theme"].notna()].shape  # doctest: +SKIP
    """
    if s.IS_EVIDENCE in segments.columns:
        evidence = segments[segments[s.IS_EVIDENCE].astype(bool)].reset_index(drop=True)
    else:
        evidence = segments.reset_index(drop=True)
    predictions = coder.predict(evidence[s.TEXT].tolist())
    if predictions.empty:
        return pd.DataFrame(columns=CODING_COLUMNS)
    predictions[s.SEGMENT_KEY] = evidence[s.SEGMENT_KEY].to_numpy()[predictions["index"].to_numpy(dtype=int)]
    predictions[s.CODEBOOK_VERSION] = coder.codebook.fingerprint()
    predictions[s.EVIDENCE] = predictions[s.EVIDENCE].map(lambda e: json.dumps(e, default=str))
    return predictions[CODING_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- outside a study
def study_codebook(config=None):
    """The codebook a study's settings name (the toolkit's default without a study)."""
    from toolkit.codebook import load_codebook

    path = config.resolve(config.coding.codebook) if config is not None and config.coding.codebook else None
    return load_codebook(path)


def study_coder(config=None, store=None, *, embedder=None, nlp=None, codebook=None):
    """A fitted coder with a study's settings (or the defaults), trained on its human codings if a store is given.

    Reads the store: for the command line's ``code-text`` and ``evaluate``, not for the pipeline.
    """
    from toolkit.embed import CachedEmbedder
    from toolkit.models import load_segmenter

    codebook = codebook or study_codebook(config)
    nlp = nlp if nlp is not None else load_segmenter(config.pseudonymisation.ner_model if config else "")
    embedder = embedder or CachedEmbedder(store)
    training = training_frame(store.table(s.HUMAN_CODINGS)) if store is not None else None
    options = config.coding if config is not None else None
    return build_coder(codebook, options, training=training, embedder=embedder, nlp=nlp,
                       seed=config.seed if config is not None else 42)


def code_texts(texts: list[str], coder: ThemeCoder) -> pd.DataFrame:
    """Code free-standing texts: one row per text with its primary and secondary theme.

    Columns: ``theme``, ``polarity``, ``confidence``, ``secondary_theme``, ``good_practice``, ``evidence`` (JSON).

    Examples
    --------
    >>> coded = code_texts(["They just don't trust us."], build_coder())  # doctest: +SKIP
    >>> coded.loc[0, "polarity"]  # doctest: +SKIP
    'barrier'
    """
    predictions = coder.predict(list(texts))
    out = pd.DataFrame(
        {
            s.THEME: [None] * len(texts),
            s.POLARITY: [None] * len(texts),
            s.CONFIDENCE: [None] * len(texts),
            "secondary_theme": [None] * len(texts),
            s.GOOD_PRACTICE: [False] * len(texts),
            s.EVIDENCE: [None] * len(texts),
        }
    )
    for row in predictions.itertuples(index=False):
        i = int(row.index)
        if row.rank == 1:
            out.at[i, s.THEME] = row.theme
            out.at[i, s.POLARITY] = row.polarity
            out.at[i, s.CONFIDENCE] = row.confidence
            out.at[i, s.GOOD_PRACTICE] = bool(row.good_practice)
            out.at[i, s.EVIDENCE] = json.dumps(row.evidence, default=str)
        elif row.rank == 2:
            out.at[i, "secondary_theme"] = row.theme
    return out
