"""The coding stage: a fitted coder from a codebook, settings and human codings; segments in, codings out.

:func:`build_coder` and :func:`code_segments` are pure (no store, no files): the pipeline
(:mod:`toolkit.pipeline`) reads the store, calls them and writes what they return.
"""

from __future__ import annotations

import json
import logging

import pandas as pd

from toolkit import schema as s
from toolkit.coding.coder import ThemeCoder
from toolkit.coding.human import training_frame
from toolkit.coding.units import PREVIOUS, PROMPT

log = logging.getLogger(__name__)


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
    return unfitted_coder(codebook, options, embedder=embedder, nlp=nlp, seed=seed).fit(training)


def unfitted_coder(codebook, options=None, *, embedder, nlp=None, seed: int = 42) -> ThemeCoder:
    """A :class:`ThemeCoder` with the ``[coding]`` settings, not fitted yet (cross-validation fits many)."""
    settings = {name: getattr(options, name) for name in CODER_SETTINGS if hasattr(options, name)}
    return ThemeCoder(codebook=codebook, embedder=embedder, nlp=nlp, seed=seed, **settings)


CODER_SETTINGS = ("min_confidence", "max_themes", "second_ratio", "context_weight", "follow_on_weight",
                  "pattern_weight", "prompt_weight", "cue_weight", "similarity_weight")
"""``[coding]`` settings the coder reads when the study's options have them (``min_score`` is no longer read:
it was a similarity score; ``min_confidence`` is a calibrated probability)."""


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
    context = [c for c in (s.TEXT, PROMPT, PREVIOUS) if c in evidence.columns]
    predictions = coder.predict(evidence[context])
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


DEFAULT_EMBEDDER = "minilm-int8"
"""The coder's embedder when ``coding.embedder`` is not set: MiniLM in int8 on onnxruntime, about 2.5x faster than
torch MiniLM with the same coding figures (benchmarks/coder_quality.py, coder_independent.py). ``"e5"`` measures
better on polarity (macro-F1 +0.1 on the gold set, multilingual) but embeds 2-3x slower than torch MiniLM;
``"static"`` is ~100x faster but codes clearly worse (theme kappa 0.19 against 0.39 zero-shot)."""


def coding_embedder(config=None, store=None):
    """The study's embedder (``coding.embedder``, a key of :data:`toolkit.embed.ENCODERS`) behind the store's cache,
    keyed by the embedder's model name (switching embedder never mixes vectors)."""
    from toolkit.embed import CachedEmbedder, make_encoder

    name = getattr(getattr(config, "coding", None), "embedder", None) or DEFAULT_EMBEDDER
    model, encoder = make_encoder(name)
    return CachedEmbedder(store, model=model, encoder=encoder)


def study_coder(config=None, store=None, *, embedder=None, nlp=None, codebook=None):
    """A fitted coder with a study's settings (or the defaults), trained on its human codings if a store is given.

    Reads the store: for the command line's ``code-text`` and ``evaluate``, not for the pipeline.
    """
    from toolkit.models import load_segmenter

    codebook = codebook or study_codebook(config)
    nlp = nlp if nlp is not None else load_segmenter(config.pseudonymisation.ner_model if config else "")
    embedder = embedder or coding_embedder(config, store)
    training = training_frame(store.table(s.HUMAN_CODINGS)) if store is not None else None
    options = config.coding if config is not None else None
    return build_coder(codebook, options, training=training, embedder=embedder, nlp=nlp,
                       seed=config.seed if config is not None else 42)


def code_texts(texts, coder: ThemeCoder, *, prompts=None) -> pd.DataFrame:
    """Code free-standing texts: one row per text with its primary and secondary theme.

    ``texts`` is a list of strings or a frame with ``text`` (and optionally ``prompt``, ``previous``);
    ``prompts`` gives the question each text answers. A text left without a theme has no polarity.
    Columns: ``theme``, ``polarity``, ``confidence``, ``polarity_confidence``, ``secondary_theme``,
    ``good_practice``, ``evidence`` (JSON).

    Examples
    --------
    >>> coded = code_texts(["They just don't trust us."], coder)  # doctest: +SKIP
    >>> coded.loc[0, "polarity"]  # doctest: +SKIP
    'barrier'
    """
    frame = texts.reset_index(drop=True) if isinstance(texts, pd.DataFrame) else pd.DataFrame({s.TEXT: list(texts)})
    if prompts is not None:
        frame[PROMPT] = list(prompts)
    predictions = coder.predict(frame)
    n = len(frame)
    out = pd.DataFrame(
        {
            s.THEME: [None] * n,
            s.POLARITY: [None] * n,
            s.CONFIDENCE: [None] * n,
            "polarity_confidence": [None] * n,
            "secondary_theme": [None] * n,
            s.GOOD_PRACTICE: [False] * n,
            s.EVIDENCE: [None] * n,
        },
        dtype=object,
    )
    for row in predictions.to_dict("records"):
        i = int(row["index"])
        theme = row[s.THEME] if isinstance(row[s.THEME], str) else None
        if row[s.RANK] == 1:
            out.at[i, s.THEME] = theme
            out.at[i, s.POLARITY] = row[s.POLARITY] if theme is not None and isinstance(row[s.POLARITY], str) else None
            out.at[i, s.CONFIDENCE] = row[s.CONFIDENCE]
            out.at[i, "polarity_confidence"] = row[s.EVIDENCE].get("polarity_confidence")
            out.at[i, s.GOOD_PRACTICE] = bool(row[s.GOOD_PRACTICE])
            out.at[i, s.EVIDENCE] = json.dumps(row[s.EVIDENCE], default=str)
        elif row[s.RANK] == 2:
            out.at[i, "secondary_theme"] = theme
    out[s.GOOD_PRACTICE] = out[s.GOOD_PRACTICE].astype(bool)
    return out


# --------------------------------------------------------------------------- a codebook edit
def codebook_changes(old, new) -> set[str] | None:
    """Theme ids whose content an edit changed (edited, added or removed); ``None`` when everything is affected
    (polarity switched on or off, or the polarity definitions changed).

    Examples
    --------
    >>> codebook_changes(book, book)  # doctest: +SKIP
    set()
    """
    if old.uses_polarity != new.uses_polarity or old.polarities != new.polarities:
        return None
    changed = set(old.ids) ^ set(new.ids)
    changed |= {t for t in set(old.ids) & set(new.ids) if old.theme_fingerprint(t) != new.theme_fingerprint(t)}
    return changed


def recode_affected(segments: pd.DataFrame, previous: pd.DataFrame, *, coder, old_codebook) -> tuple[pd.DataFrame, set]:
    """Codings after a codebook edit that change only what the edit affects.

    Every segment is scored again (cheap: embeddings are cached), but a segment's stored codings are
    replaced only when its old or its new codings touch a changed theme; every other segment keeps
    its old rows exactly (same confidence, same codebook version). Returns the codings and the keys
    of the segments recoded.
    """
    changed = codebook_changes(old_codebook, coder.codebook)
    fresh = code_segments(segments, coder=coder)
    if changed is None:
        return fresh, set(fresh[s.SEGMENT_KEY])

    def touched(frame: pd.DataFrame) -> set:
        themes = frame[s.THEME].where(frame[s.THEME].notna(), None)
        return set(frame.loc[themes.isin(changed), s.SEGMENT_KEY])

    affected = touched(previous) | touched(fresh) | (set(fresh[s.SEGMENT_KEY]) - set(previous[s.SEGMENT_KEY]))
    kept = previous[~previous[s.SEGMENT_KEY].isin(affected)]
    recoded = fresh[fresh[s.SEGMENT_KEY].isin(affected)]
    out = pd.concat([kept, recoded], ignore_index=True)
    return out[CODING_COLUMNS], affected
