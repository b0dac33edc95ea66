"""The review queue that learns: each decision retrains the study's coder and re-ranks what is left.

A :class:`ReviewSession` holds, for one study, the coder refitted on every human decision so far
(:class:`toolkit.review.learner.Learner`: the sentence vectors and spaCy documents are kept in
memory, so a refit re-trains only the coder's logistic regressions) and its current reading of
every evidence segment (until the first decision, the stored codings when the last coding run learnt
from the same decisions: a refit would give them again). The next segment to review is the one the
coder is least sure of, or whose evidence disagrees, or that the retrained coder now reads differently
from its stored coding, spread over themes and places (:mod:`toolkit.analysis.ranking`). Decisions are written through the
write model (:func:`toolkit.review.record_decisions`), then the session refits and re-ranks, within
seconds on the sample study (``benchmarks/review_loop.py`` measures it).

Segments that wait in an open quality-assurance sample or a double-coding batch are left out of
the queue, so their blind coding stays blind.

The session's predictions only rank the queue and suggest a coding; the stored machine codings
that the outputs count are replaced by the next coding run (``toolkit code``), which learns from
the same decisions.

Examples
--------
>>> session = ReviewSession(open_study("interviews"))  # doctest: +SKIP
>>> session.queue(place="Fernmouth").head(3)  # doctest: +SKIP
>>> session.decide([key], "recode", coder="ana", theme="trust_relationships", polarity="barrier")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis import ranking
from toolkit.analysis.columns import REVIEW_STATUS, REVIEW_STATUSES, REVIEWED, UNCODED, UNREVIEWED
from toolkit.analysis.validation import HIGH_CONFIDENCE
from toolkit.errors import InputDataError

log = logging.getLogger(__name__)

__all__ = ["QUEUE_COLUMNS", "DecisionResult", "ReviewSession"]

SUGGESTED_THEME, SUGGESTED_POLARITY = "suggested_theme", "suggested_polarity"
RECENT = 20
"""Decisions whose segments count as 'just reviewed' when the queue is spread out."""
PREPARE_STEP = 500
"""Segments read per step of :meth:`ReviewSession.prepare` (about a quarter of a second of work at a time)."""
QUEUE_COLUMNS = [s.SEGMENT_KEY, "reference", s.PLACE, s.PATH, "participant", "source_kind", s.TURN_ID, s.THEME, s.POLARITY,
                 s.CONFIDENCE, s.STATUS, REVIEW_STATUS, "reviewed_by", SUGGESTED_THEME, SUGGESTED_POLARITY,
                 ranking.THEME_CONFIDENCE, ranking.POLARITY_CONFIDENCE, ranking.PRIORITY, ranking.REASONS, s.TEXT]
"""Columns of :meth:`ReviewSession.queue`: the segment, its current (stored) coding, the retrained coder's
suggestion and confidence, the priority and why."""
MISSED_COLUMNS = [s.SEGMENT_KEY, "reference", s.PLACE, s.PATH, SUGGESTED_THEME, ranking.THEME_CONFIDENCE,
                  ranking.SIMILARITY, ranking.CODABILITY, s.TEXT]


@dataclass(frozen=True)
class DecisionResult:
    """What a decision through the session did: rows written, and the time until the queue was re-ranked."""

    stored: int
    seconds: float
    """From the decision to the re-ranked queue (write, refit, predict, rank)."""
    fit_seconds: float
    predict_seconds: float
    trained_on: int


class ReviewSession:
    """One study's review loop: the refitted coder, its reading of every segment, and the queue.

    Parameters
    ----------
    study : a :class:`toolkit.api.Study` (reads through the read model, writes through the write model).
    learner : a :class:`~toolkit.review.learner.Learner` (default: the study's, with its spaCy pipeline).

    Safe to share between the dashboard's sessions: one lock guards refitting and ranking.
    """

    def __init__(self, study, *, learner=None):
        from toolkit.review.learner import Learner

        self.study = study
        self.learner = learner if learner is not None else Learner.for_study(study.config, study.store,
                                                                             codebook=study.codebook)
        self._lock = threading.RLock()
        self._fitting = threading.Lock()  # the learner's fit and predictions (a warm-up holds it, not the queue's lock)
        self._stamp: tuple | None = None
        self._read_at: tuple[str, str] | None = None  # the change tokens the last reading of decisions and codings saw
        self._coded_from: int | None = None  # decisions the stored codings learnt from, while they are the queue's reading
        self._preparing: threading.Thread | None = None  # the background warm-up (see prepare)
        self.last_update: dict[str, float] = {}

    # ------------------------------------------------------------------ state
    def _human_stamp(self, human: pd.DataFrame, machine: pd.DataFrame) -> tuple:
        last = human[s.CODING_ID].max() if not human.empty else None
        runs = tuple(sorted(machine[s.RUN_ID].dropna().unique())) if s.RUN_ID in machine.columns else ()
        return len(human), last, len(machine), runs

    def _tokens(self) -> tuple[str, str]:
        """The store's change tokens of the decisions and the stored codings (:mod:`toolkit.store.changes`);
        "-" for a table never written since tokens exist, as in :meth:`toolkit.api.Study.stamp`."""
        changed = self.study.store.changes()
        return changed.get(s.HUMAN_CODINGS, "-"), changed.get(s.CODINGS, "-")

    def refresh(self, *, force: bool = False) -> bool:
        """Refit and re-predict when the decisions or the stored codings changed; True when it did.

        Unchanged is known from the store's change tokens (one small query) without reading either table:
        every page run of the Review page asks, and at 25,000 segments reading both costs about half a second.
        """
        with self._lock:
            tokens = self._tokens()  # read before the tables: what is kept is never older than its tokens
            if not force and self._stamp is not None and tokens == self._read_at:
                return False
            human = self.study.store.table(s.HUMAN_CODINGS)
            machine = self.study.store.table(s.CODINGS)
            stamp = self._human_stamp(human, machine)
            if not force and stamp == self._stamp:
                self._read_at = tokens
                return False
            from toolkit.review.learner import coder_units, training_from_decisions

            units = coder_units(self.study.store)
            self._keys = units[s.SEGMENT_KEY].tolist()
            self._vectors = self.learner.vectors(units[s.TEXT].astype(str).tolist()) if self._keys else np.zeros((0, 0))
            self._row = {k: i for i, k in enumerate(self._keys)}
            if stamp[2:] != (self._stamp or (None, None, None, None))[2:] or not hasattr(self, "_stored"):
                self._stored = ranking.prediction_frame(machine)  # the stored codings change only with a coding run
            if not force and self._stamp is None and self._stored_are_current(human):
                # the last coding run learnt from exactly these decisions: a refit would predict the stored
                # codings again, so the queue starts from them and the coder is refitted at the first decision
                live = self._stored
                self.last_update.update(fit_seconds=0.0, predict_seconds=0.0, trained_on=float(self._coded_from))
            else:
                with self._fitting:
                    self.learner.fit(training_from_decisions(human))
                    live = self.learner.predict(units) if self._keys else pd.DataFrame(columns=ranking.PREDICTION_COLUMNS)
                self._coded_from = None
                self.last_update.update(fit_seconds=self.learner.fit_seconds_, predict_seconds=self.learner.predict_seconds_,
                                        trained_on=float(self.learner.n_training_))
            self._scored = ranking.priority(live, self._stored, theme_names=self.study.theme_names())
            self._human = human
            self._stamp = stamp
            self._read_at = tokens
            return True

    def prepare(self, *, background: bool = True, pause: Callable[[], object] | None = None) -> threading.Thread | None:
        """Fit the coder and read every segment ahead of the first decision, so that decision re-ranks in seconds.

        A session that starts from the stored codings (see :meth:`refresh`) has fitted nothing; its first
        decision would pay the spaCy load, the fit and a reading of every segment (about 20 s at 25,000
        segments). This does that work now, in a daemon thread by default, in steps: the fit, then the
        segments :data:`PREPARE_STEP` at a time. ``pause`` is called before each step and may block, for
        instance while the dashboard draws a page, so that the warm-up gives way to what a person is
        waiting for. Each step holds the learner's lock, never the queue's, and none is held across a
        pause: the queue can be read meanwhile, and a decision made meanwhile refits at once. Nothing
        it computes changes what the queue shows. Returns the thread (the one already under way, if
        any; None when the coder is fitted already).
        """
        def work() -> None:
            from toolkit.review.learner import coder_units, training_from_decisions

            wait = pause or (lambda: None)
            try:
                started = time.perf_counter()
                wait()
                with self._fitting:
                    if hasattr(self.learner, "coder_"):
                        return
                    self.learner.fit(training_from_decisions(self.study.store.table(s.HUMAN_CODINGS)))
                units = coder_units(self.study.store)
                for first in range(0, len(units), PREPARE_STEP):
                    wait()
                    with self._fitting:  # the coder's caches are per text: reading in steps fills them the same
                        self.learner.predict(units.iloc[first:first + PREPARE_STEP])
                self.last_update["prepare_seconds"] = time.perf_counter() - started
            except Exception as exc:  # noqa: BLE001 - only a warm-up: the first decision does the work itself
                log.warning("preparing the review coder ahead of the first decision failed (%s); the first "
                            "decision will fit it", type(exc).__name__)

        if not background:
            work()
            return None
        if self._preparing is not None and self._preparing.is_alive():
            return self._preparing  # already under way: one warm-up at a time
        if hasattr(self.learner, "coder_"):
            return None
        self._preparing = threading.Thread(target=work, name="review-prepare", daemon=True)
        self._preparing.start()
        return self._preparing

    def _stored_are_current(self, human: pd.DataFrame) -> bool:
        """Whether the stored machine codings are the coder's reading with these decisions (see
        :func:`toolkit.pipeline.codings_are_current`); remembers how many decisions they learnt from."""
        from toolkit.coding import training_frame
        from toolkit.pipeline import codings_are_current

        if not self._keys or not codings_are_current(self.study.config, self.study.store,
                                                     codebook=self.study.codebook, human=human):
            return False
        self._coded_from = len(training_frame(human))
        return True

    @property
    def trained_on(self) -> int:
        """How many human codings the coder learnt from at its last refit."""
        if self._coded_from is not None:
            return int(self._coded_from)
        return int(getattr(self.learner, "n_training_", 0))

    # ------------------------------------------------------------------ the queue
    def queue(self, *, theme: str | None = None, place: str | None = None, source: str | None = None,
              status: str = UNREVIEWED, k: int = 50) -> pd.DataFrame:
        """Segments to review, the most useful first (:data:`QUEUE_COLUMNS`).

        Filters: ``theme`` (the stored coding's or the retrained coder's), ``place``, ``source`` (a
        source path), ``status``: ``unreviewed`` (default), ``reviewed``, ``all``, or a coding status
        (``machine``, ``uncoded``, ``accepted``, ``recoded``, ``rejected``). The first ``k`` are spread
        over themes, places and meanings; the rest follow by priority. Segments waiting in an open
        QA sample or double-coding batch are left out (their coding must stay blind).

        Examples
        --------
        >>> session.queue(theme="trust_relationships", place="Fernmouth", k=10)  # doctest: +SKIP
        """
        started = time.perf_counter()
        with self._lock:
            self.refresh()
            segments = self.study.segments()
            if theme is not None:
                self.study.codebook.theme(theme)  # an unknown theme is an error naming the closest
            frame = segments.merge(self._scored, on=s.SEGMENT_KEY, how="inner", suffixes=("", "_live"))
            frame = frame.rename(columns={f"{s.THEME}_live": SUGGESTED_THEME, f"{s.POLARITY}_live": SUGGESTED_POLARITY})
            frame = frame[~frame[s.SEGMENT_KEY].isin(self.held_back())]
            frame = _filter(frame, theme=theme, place=place, source=source, status=status)
            if frame.empty:
                return pd.DataFrame(columns=QUEUE_COLUMNS)
            vectors = self._vectors[[self._row[key] for key in frame[s.SEGMENT_KEY]]]
            recent_keys, recent_groups = self._recent(segments)
            recent = self._vectors[[self._row[key] for key in recent_keys]] if recent_keys else None
            ordered = ranking.diversify(frame.reset_index(drop=True), vectors, recent=recent,
                                        recent_groups=recent_groups, groups=(ranking.BEST_THEME, s.PLACE), k=k)
            self.last_update["rank_seconds"] = time.perf_counter() - started
            return ordered.reindex(columns=QUEUE_COLUMNS)

    def _recent(self, segments: pd.DataFrame) -> tuple[list[str], list[tuple]]:
        human = self._human
        if human.empty:
            return [], []
        last = human.sort_values([s.CREATED_AT, s.CODING_ID]).drop_duplicates(s.SEGMENT_KEY, keep="last").tail(RECENT)
        keys = [k for k in last[s.SEGMENT_KEY] if k in self._row]
        place = segments.set_index(s.SEGMENT_KEY)[s.PLACE]
        best = self._scored.set_index(s.SEGMENT_KEY)[ranking.BEST_THEME]
        groups = [(best.get(k) if isinstance(best.get(k), str) else "(none)",
                   place.get(k) if isinstance(place.get(k), str) else "(none)") for k in keys]
        return keys, groups

    def held_back(self) -> set[str]:
        """Segments waiting in an open QA sample or double-coding batch (kept out of the queue until coded blind)."""
        from toolkit.analysis.validation import pending_blind_keys

        store = self.study.store
        return pending_blind_keys(store.table(s.QA_ITEMS), store.table(s.ASSIGNMENTS), self._human)

    # ------------------------------------------------------------------ decisions
    def decide(self, segment_keys: Iterable[str], decision: str, *, coder: str, theme: str | None = None,
               polarity: str | None = None, note: str | None = None, good_practice: bool | None = None) -> DecisionResult:
        """Record a decision through the write model, then refit the coder and re-rank the queue.

        Examples
        --------
        >>> session.decide(["2c0c2c8f415e7260"], "accept", coder="ana").seconds  # doctest: +SKIP
        1.3
        """
        from toolkit import review

        started = time.perf_counter()
        keys = list(segment_keys)
        n = review.record_decisions(self.study.review_context(), keys, decision=decision, coder=coder, theme=theme,
                                    polarity=polarity, note=note, good_practice=good_practice)
        self.queue(k=20)
        seconds = time.perf_counter() - started
        self.last_update["decision_seconds"] = seconds
        return DecisionResult(n, seconds, self.learner.fit_seconds_, self.learner.predict_seconds_, self.trained_on)

    def bulk_candidates(self, theme: str, *, min_confidence: float = HIGH_CONFIDENCE) -> pd.DataFrame:
        """Unreviewed segments whose stored coding is ``theme`` with at least ``min_confidence``, and which the
        retrained coder still reads as ``theme`` (the candidates of :meth:`bulk_accept`), surest first."""
        self.study.codebook.theme(theme)
        frame = self.queue(theme=theme, status=UNREVIEWED, k=0)
        keep = (frame[s.THEME] == theme) & (pd.to_numeric(frame[s.CONFIDENCE], errors="coerce") >= min_confidence) & (
            frame[SUGGESTED_THEME] == theme) & (frame[s.STATUS] == "machine")
        return frame[keep].sort_values(s.CONFIDENCE, ascending=False, kind="stable").reset_index(drop=True)

    def bulk_accept(self, theme: str, *, min_confidence: float = HIGH_CONFIDENCE, coder: str) -> DecisionResult:
        """Accept, in one decision, every :meth:`bulk_candidates` coding of ``theme``."""
        keys = self.bulk_candidates(theme, min_confidence=min_confidence)[s.SEGMENT_KEY].tolist()
        if not keys:
            return DecisionResult(0, 0.0, 0.0, 0.0, self.trained_on)
        return self.decide(keys, "accept", coder=coder)

    # ------------------------------------------------------------------ recall
    def missed(self, *, k: int = 50, place: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Uncoded, unreviewed participant segments that are probably codable, most likely first (:data:`MISSED_COLUMNS`).

        Probably codable: the coder's best theme is just under its threshold, or the segment is close
        in meaning to a coded one that a person reviewed (before any review: to the machine's surest codings).
        """
        with self._lock:
            self.refresh()
            segments = self.study.segments()
            frame = segments.merge(self._scored, on=s.SEGMENT_KEY, how="inner", suffixes=("", "_live"))
            frame = frame[(frame[s.STATUS] == UNCODED) & (frame[REVIEW_STATUS] == UNREVIEWED)]
            frame = frame[~frame[s.SEGMENT_KEY].isin(self.held_back())]
            frame = _filter(frame, place=place, source=source, status="all")
            reviewed = segments[(segments[REVIEW_STATUS] == REVIEWED) & segments[s.THEME].notna()][s.SEGMENT_KEY]
            if reviewed.empty:
                sure = segments[(segments[s.STATUS] == "machine") & (pd.to_numeric(segments[s.CONFIDENCE]) >= HIGH_CONFIDENCE)]
                reviewed = sure[s.SEGMENT_KEY]
            coded = self._vectors[[self._row[key] for key in reviewed if key in self._row]]
            vectors = self._vectors[[self._row[key] for key in frame[s.SEGMENT_KEY]]]
            live = frame.rename(columns={f"{s.THEME}_live": SUGGESTED_THEME})
            live[SUGGESTED_THEME] = live[ranking.BEST_THEME]
            out = ranking.missed_evidence(live.reset_index(drop=True), vectors, coded, threshold=self._threshold())
            return out.head(k).reindex(columns=MISSED_COLUMNS)

    def _threshold(self) -> float:
        """The confidence at which the coder codes a theme (0.5 on its confidence scale, unless it says otherwise)."""
        coder = getattr(self.learner, "coder_", None)
        if coder is None:  # not refitted yet (the queue started from the stored codings): the study's setting
            coder = getattr(self.study.config, "coding", None)
        return float(getattr(coder, "min_confidence", 0.5) or 0.5)

    def similar(self, *, segment_key: str | None = None, text: str | None = None, k: int = 10) -> pd.DataFrame:
        """Passages like one segment (``segment_key``) or any quote (``text``), closest first.

        Columns: ``segment_key``, ``similarity``, ``reference``, ``place``, ``theme``, ``polarity``,
        ``status``, ``text``. A quote that is not a segment is embedded (once) with the study's model.
        """
        with self._lock:
            self.refresh()
            if segment_key is not None:
                if segment_key not in self._row:
                    raise InputDataError("review", f"no evidence segment with key '{segment_key}'.",
                                         "Copy the key from the queue or study.segments().")
                vector, exclude = self._vectors[self._row[segment_key]], [segment_key]
            elif text and str(text).strip():
                with self._fitting:
                    vector, exclude = self.learner.vectors([str(text).strip()])[0], []
            else:
                raise InputDataError("review", "'find passages like this one' needs a segment or some text.",
                                     "Pick a passage or paste a quote.")
            found = ranking.similar_passages(vector, self._vectors, self._keys, k=k, exclude=exclude)
            meta = self.study.segments()[[s.SEGMENT_KEY, "reference", s.PLACE, s.THEME, s.POLARITY, s.STATUS, s.TEXT]]
            return found.merge(meta, on=s.SEGMENT_KEY, how="left")


def _filter(frame: pd.DataFrame, *, theme: str | None = None, place: str | None = None, source: str | None = None,
            status: str | None = UNREVIEWED) -> pd.DataFrame:
    if theme is not None:
        frame = frame[(frame[s.THEME] == theme) | (frame.get(SUGGESTED_THEME, frame[s.THEME]) == theme)]
    if place is not None:
        frame = frame[frame[s.PLACE] == place]
    if source is not None:
        frame = frame[frame[s.PATH] == source]
    if status in (None, "all"):
        return frame
    if status in REVIEW_STATUSES:
        return frame[frame[REVIEW_STATUS] == status]
    known = ("machine", UNCODED, "accepted", "recoded", "rejected")
    if status not in known:
        raise InputDataError("review queue", f"unknown status '{status}'.",
                             f"Use one of: {', '.join((*REVIEW_STATUSES, 'all', *known))}.")
    return frame[frame[s.STATUS] == status]

