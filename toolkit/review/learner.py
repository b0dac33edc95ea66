"""The review loop's one link to the machine coder: refit on the reviews so far, predict the queue.

Everything the review loop needs from :mod:`toolkit.coding` goes through this module, and only
through the coder's public API: :func:`~toolkit.coding.build_coder` (the codebook, the study's
``[coding]`` settings and the human codings in, a fitted :class:`~toolkit.coding.ThemeCoder` out,
exactly as the pipeline's coding stage builds it), :func:`~toolkit.coding.training_frame`,
:func:`~toolkit.coding.study_codebook` and ``add_context`` (each segment read with the question it
answers and the sentence before it). A change of the coder's internals is adapted here and
nowhere else. What it adds is speed: a :class:`Learner` keeps the sentence vectors and the spaCy
documents of every text it has seen in memory (:class:`MemoEmbedder`, :class:`DocCache`), so
refitting after a decision re-trains only the coder's small models and predicting the queue again
re-runs no language model.

The coder's output is read into one row per unit by :func:`toolkit.analysis.ranking.prediction_frame`
(theme and polarity confidence, the second theme, what the evidence says), which reads the
``evidence`` of stored codings the same way.

Examples
--------
>>> learner = Learner.for_study(config, store, codebook=codebook).fit(training)  # doctest: +SKIP
>>> learner.predict(segments[["segment_key", "text", "prompt"]])  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis.ranking import prediction_frame
from toolkit.coding.units import PREVIOUS, PROMPT

log = logging.getLogger(__name__)

__all__ = ["CONTEXT", "DocCache", "Learner", "MemoEmbedder", "coder_units", "training_from_decisions"]

CONTEXT = (PROMPT, PREVIOUS)
"""Columns that carry a unit's context: the question it answers and the sentence before it."""


class MemoEmbedder:
    """An embedder that keeps every vector it returns in memory (over the store's cache).

    ``base`` is any texts -> vectors callable, normally a :class:`toolkit.embed.CachedEmbedder`
    (which reads the store's embedding cache and computes only what is missing there).

    Examples
    --------
    >>> calls = []
    >>> base = lambda texts: (calls.append(len(texts)), np.eye(3)[: len(texts)])[1]
    >>> embed = MemoEmbedder(base)
    >>> embed(["a", "b"]).shape, embed(["b", "a"]).shape, calls
    ((2, 3), (2, 3), [2])
    """

    def __init__(self, base):
        self.base = base
        self._vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, np.asarray(self.base(missing), dtype=np.float32)):
                self._vectors[text] = vector
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([self._vectors[t] for t in texts])


class DocCache:
    """A spaCy pipeline whose ``pipe`` parses each distinct text once (everything else is the pipeline's own).

    The coder matches its codebook patterns on spaCy documents; re-predicting the queue after a
    decision then costs no parsing.
    """

    def __init__(self, nlp=None, *, load: Callable[[], Any] | None = None):
        if nlp is None and load is None:
            raise ValueError("DocCache needs a spaCy pipeline or a function that loads one")
        self._nlp = nlp
        self._load = load
        self._docs: dict[str, Any] = {}

    @property
    def pipeline(self):
        """The spaCy pipeline, loaded on first use when a loader was given (a review queue that starts from
        the stored codings never parses, so it does not pay the load)."""
        if self._nlp is None:
            self._nlp = self._load()
        return self._nlp

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    def pipe(self, texts, **kwargs):
        texts = [str(t) for t in texts]
        missing = [t for t in dict.fromkeys(texts) if t not in self._docs]
        if missing:
            for text, doc in zip(missing, self.pipeline.pipe(missing, **kwargs)):
                self._docs[text] = doc
        return (self._docs[t] for t in texts)

    def __call__(self, text: str):
        return next(self.pipe([text]))


def one_blas_thread():
    """Run the coder's small linear algebra on one thread (:mod:`threadpoolctl`).

    The coder's models are logistic regressions on a few hundred rows: split over threads, each
    step spends more time handing work between threads than computing, and on a shared machine the
    threads wait for cores. On the sample study, one thread refits the coder in under a second
    where the default took 5 to 20 s. The limit holds for the process while the ``with`` block lasts
    and is lifted after it.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def training_from_decisions(human: pd.DataFrame) -> pd.DataFrame:
    """What the people's decisions teach the coder (:func:`toolkit.coding.training_frame`): text, theme, polarity."""
    from toolkit.coding import training_frame

    return training_frame(human)


class Learner:
    """The study's coder, refitted on the reviews so far, with the vectors and documents it has seen kept in memory.

    Parameters
    ----------
    codebook : the study's :class:`toolkit.codebook.Codebook`.
    embedder : texts -> L2-normalised vectors (wrapped in a :class:`MemoEmbedder`).
    nlp : a spaCy pipeline for the codebook's patterns (wrapped in a :class:`DocCache`); ``None``
        leaves pattern evidence out.
    options : the study's ``[coding]`` settings (:class:`toolkit.config.CodingOptions`; ``None``: the defaults).
    seed : the study's random seed.

    Attributes
    ----------
    coder_ : the fitted coder; ``fit_seconds_`` and ``predict_seconds_`` the time of the last fit and prediction;
    ``n_training_`` how many human codings the last fit learnt from.
    """

    def __init__(self, *, codebook, embedder, nlp=None, options=None, seed: int = 42):
        self.codebook = codebook
        self.embedder = embedder if isinstance(embedder, MemoEmbedder) else MemoEmbedder(embedder)
        self.nlp = nlp if nlp is None or isinstance(nlp, DocCache) else DocCache(nlp)
        self.options = options
        self.seed = seed

    @classmethod
    def for_study(cls, config, store, *, codebook=None, nlp: Any = "load") -> Learner:
        """The learner of a study: its codebook, ``[coding]`` settings and embedder behind the store's cache.

        ``nlp="load"`` loads the study's spaCy pipeline (as the coding stage does); ``None`` codes
        without patterns (tests).
        """
        from toolkit.coding import study_codebook
        from toolkit.coding.stage import coding_embedder

        codebook = codebook if codebook is not None else study_codebook(config)
        if isinstance(nlp, str) and nlp == "load":
            from toolkit.models import load_segmenter

            model = config.pseudonymisation.ner_model
            nlp = DocCache(load=lambda: load_segmenter(model))  # loaded at the first fit
        return cls(codebook=codebook, embedder=coding_embedder(config, store), nlp=nlp, options=config.coding,
                   seed=config.seed)

    def fit(self, training: pd.DataFrame | None = None) -> Learner:
        """Refit the coder on the codebook and ``training`` (``text``, ``theme``, ``polarity``, and ``prompt`` /
        ``previous`` when known; see :func:`training_from_decisions`). Returns ``self``."""
        from toolkit.coding import build_coder

        started = time.perf_counter()
        rows = None
        if training is not None and not training.empty:
            keep = [c for c in (s.TEXT, s.THEME, s.POLARITY, *CONTEXT) if c in training.columns]
            rows = training[keep].reset_index(drop=True)
        with one_blas_thread():
            self.coder_ = build_coder(self.codebook, self.options, training=rows, embedder=self.embedder,
                                      nlp=self.nlp, seed=self.seed)
        self.n_training_ = 0 if rows is None else len(rows)
        self.fit_seconds_ = time.perf_counter() - started
        log.debug("refitted the coder on %d human coding(s) in %.2f s", self.n_training_, self.fit_seconds_)
        return self

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The sentence vectors of ``texts``' own words (from memory, else the store's cache, else computed)."""
        return self.embedder(list(texts))

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The coder's reading of each row of ``frame`` (``segment_key``, ``text``, and ``prompt`` / ``previous``
        when known, as :func:`toolkit.coding.units.add_context` gives them): one row per segment.

        Columns: see :func:`toolkit.analysis.ranking.prediction_frame` (``theme`` and ``polarity``
        or None, ``theme_confidence``, ``polarity_confidence``, ``second_theme``, ``best_theme``,
        the evidence's conflicts).
        """
        if not hasattr(self, "coder_"):
            from toolkit.errors import NotFittedError

            raise NotFittedError("Learner is not fitted yet: call fit() first.")
        started = time.perf_counter()
        units = frame.reset_index(drop=True)
        with one_blas_thread():
            raw = self.coder_.predict(units[[c for c in (s.TEXT, *CONTEXT) if c in units.columns]])
        raw[s.SEGMENT_KEY] = units[s.SEGMENT_KEY].to_numpy()[raw["index"].to_numpy(dtype=int)]
        out = prediction_frame(raw)
        self.predict_seconds_ = time.perf_counter() - started
        return out


def coder_units(store) -> pd.DataFrame:
    """The evidence segments as the coding stage reads them: ``segment_key``, ``text``, ``prompt`` (the question
    each answers) and ``previous`` (the sentence before), from the store (:func:`toolkit.coding.units.add_context`)."""
    from toolkit.coding.units import add_context

    units = add_context(store.segments_frame(evidence_only=True))
    return units[[s.SEGMENT_KEY, s.TEXT, *CONTEXT]].reset_index(drop=True)
