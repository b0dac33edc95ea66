"""Framework analysis on a :class:`toolkit.api.Study`: cases and their attributes, the framework matrix
with sub-themes and case rows, memos, curated practices and the barrier-to-remedy view.

A mixin of :class:`~toolkit.api.Study` (kept apart so neither module grows past what a reader can
hold). Reads go to :mod:`toolkit.analysis` (cases, matrix, memos, practices, remedies); writes to
:mod:`toolkit.review` (summaries, memos, practices). No language model is loaded: practice grouping
uses the sentence embeddings the coding stage cached in the store, else TF-IDF.

Examples
--------
>>> study.add_summary(row_dimension="participant", row_value="BK01", theme="trust_relationships",
...                   text="Trust rests on the seconded health visitors.", author="ana")  # doctest: +SKIP
>>> study.framework_matrix(rows="participant").query("summary.notna()")  # doctest: +SKIP
>>> study.add_memo(scope="theme", theme="ig_capacity_advice", text="Read HM01 beside FM02.", author="ana")  # doctest: +SKIP
>>> study.practices().head()  # doctest: +SKIP
>>> study.barrier_remedies().head()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis import cases as _cases
from toolkit.analysis import memos as _memos
from toolkit.analysis import practices as _practices
from toolkit.analysis import remedies as _remedies
from toolkit.analysis.columns import REFERENCE, SCREEN

__all__ = ["FrameworkAnalysis", "cached_vectors", "theme_parents"]


def theme_parents(codebook) -> dict[str, str | None]:
    """``theme id -> parent theme id`` (None for a top-level theme) of any codebook.

    Works with codebooks whose themes carry ``parent`` (sub-themes) and with those that do not.
    """
    return {t.id: getattr(t, "parent", None) for t in codebook.themes}


def cached_vectors(store, keys: Sequence[str], texts: Sequence[str]) -> dict[str, np.ndarray] | None:
    """Sentence embeddings of ``texts`` from the store's cache (``segment key -> vector``), without a model.

    The model whose cache holds every text is used (the toolkit's default first); None when no model
    holds them all (callers then use TF-IDF).
    """
    import sqlalchemy as sa

    from toolkit.embed import DEFAULT_MODEL
    from toolkit.segment import text_hash
    from toolkit.store import TABLES

    if not keys:
        return None
    hashes = [text_hash(t) for t in texts]
    with store.engine.connect() as conn:
        models = [m for (m,) in conn.execute(sa.select(TABLES[s.EMBEDDINGS].c.model).distinct())]
    for model in sorted(models, key=lambda m: m != DEFAULT_MODEL):
        found = store.get_embeddings(list(dict.fromkeys(hashes)), model)
        if all(h in found for h in hashes):
            return {k: np.frombuffer(found[h], dtype=np.float32) for k, h in zip(keys, hashes)}
    return None


def practice_view(store, *, library: pd.DataFrame, segments: pd.DataFrame, codings: pd.DataFrame,
                  theme_names: Mapping[str, str], proposals: bool = True) -> pd.DataFrame:
    """Curated practices and (``proposals``) the machine's proposals, from a store and the read model's frames.

    ``library`` is the good-practice library with excluded passages
    (:func:`toolkit.analysis.quotes.good_practice` with ``include_excluded``); the store gives the curated
    practices, their linked passages and the cached embeddings. What :meth:`FrameworkAnalysis.practices`
    and the exports show.
    """
    members = store.latest(s.PRACTICES, [s.SEGMENT_KEY])
    candidates = _practices.practice_candidates(library)
    linked = dict(zip(members[s.SEGMENT_KEY], members[s.GROUP_ID])) if not members.empty else {}
    candidates[s.GROUP_ID] = candidates[s.SEGMENT_KEY].map(linked) if not candidates.empty else None
    open_ = candidates[candidates[SCREEN].isna() & candidates[s.GROUP_ID].isna()] if proposals and not \
        candidates.empty else candidates.iloc[0:0]
    vectors = cached_vectors(store, list(open_[s.SEGMENT_KEY]), list(open_[s.TEXT])) if not open_.empty else None
    corpus = list(segments[s.TEXT]) if not segments.empty else []
    proposed = _practices.propose_practices(open_, vectors=vectors, corpus=corpus)
    return _practices.practice_table(store.latest(s.PRACTICE_GROUPS, [s.GROUP_ID]), members, segments,
                                     theme_names=theme_names, proposals=proposed, codings=codings)


class FrameworkAnalysis:
    """The framework-analysis reads and writes of :class:`toolkit.api.Study` (a mixin)."""

    # ------------------------------------------------------------------ cases
    def cases(self, **filters: Any) -> pd.DataFrame:
        """One row per case (interviewees, then survey respondents) with its attributes.

        Columns: ``participant``, ``source_kind``, ``place``, ``organisation_type``, ``role``, ``sector``,
        ``path``, then the study's own case attributes (manifest columns; numbers as numbers, dates as
        ``YYYY-MM-DD``). ``filters`` narrow by attribute: ``study.cases(setting="rural")``,
        ``study.cases(years_in_post=(5, None))``.

        Examples
        --------
        >>> study.cases(place="Fernmouth")["participant"].tolist()[:2]  # doctest: +SKIP
        ['FM01', 'FM02']
        """
        frame = self._cached("cases", lambda: _cases.case_table(self.store.table(s.SOURCES),
                                                                self.store.table(s.RESPONDENTS)),
                             on=("sources", "segments", "respondents", "finished"))
        out = _cases.filter_cases(frame, filters)
        out.attrs = dict(frame.attrs)
        return out.copy()

    def attribute_types(self) -> dict[str, str]:
        """The study's own case attributes and their types (``text``, ``number``, ``date``)."""
        return _cases.attribute_types(self.cases())

    def row_dimensions(self) -> tuple[str, ...]:
        """What a framework matrix's rows (and a summary's ``row_dimension``) can be in this study."""
        return _cases.row_dimensions(self.cases())

    def theme_parents(self) -> dict[str, str | None]:
        """``theme id -> parent theme id`` of the codebook (None for a top-level theme)."""
        return theme_parents(self.codebook)

    def _case_codings(self) -> pd.DataFrame:
        return _cases.with_case_attributes(self.codings(), self.cases())

    def _framework(self, *, rows: str, roll_up: bool = False, cases: Mapping[str, Any] | None = None,
                   total: str | None = None) -> pd.DataFrame:
        return _cases.study_framework(self.codings(), self.segments(), self.cases(), rows=rows, places=self.places,
                                      theme_names=self.theme_names(), summaries=self.summaries(),
                                      parents=self.theme_parents(), roll_up=roll_up, case_filters=cases, total=total)

    # ------------------------------------------------------------------ memos
    def memos(self, search: str | None = None, *, scope: str | None = None, author: str | None = None,
              theme: str | None = None) -> pd.DataFrame:
        """Every memo, oldest first, with what it is about (``about``); optionally searched.

        ``search`` finds text in a memo's title, text and subject (any case); ``scope``, ``author`` and
        ``theme`` narrow (a cell memo's theme counts). Columns: :data:`toolkit.analysis.columns.MEMO_COLUMNS`.

        Examples
        --------
        >>> study.memos("clinic", scope="theme")  # doctest: +SKIP
        """
        view = _memos.memo_view(self._table(s.MEMOS), self.segments(), self.sources(), theme_names=self.theme_names())
        return _memos.search_memos(view, search, scope=scope, author=author, theme=theme)

    def add_memo(self, *, scope: str, text: str, author: str, title: str | None = None, theme: str | None = None,
                 participant: str | None = None, row_dimension: str | None = None, row_value: str | None = None,
                 path: str | None = None, segment_key: str | None = None) -> int:
        """Write a memo on the project, a case, a theme, a matrix cell, a source or a passage; returns its id.

        See :func:`toolkit.review.memos.add_memo`.

        Examples
        --------
        >>> study.add_memo(scope="passage", segment_key="2c0c2c8f415e7260", text="Compare with FM02.",
        ...                author="ana")  # doctest: +SKIP
        """
        from toolkit.review.memos import add_memo

        return add_memo(self.review_context(), scope=scope, text=text, author=author, title=title, theme=theme,
                        participant=participant, row_dimension=row_dimension, row_value=row_value, path=path,
                        segment_key=segment_key, dimensions=self.row_dimensions())

    # ------------------------------------------------------------------ practices
    def practice_candidates(self) -> pd.DataFrame:
        """Every good-practice passage with why it is not a practice (``screen``: hypothetical, barrier,
        aside, taken out), or None. See :func:`toolkit.analysis.practices.practice_candidates`."""
        def build() -> pd.DataFrame:
            library = self.good_practice(include_excluded=True)
            frame = _practices.practice_candidates(library)
            members = self.store.latest(s.PRACTICES, [s.SEGMENT_KEY])
            groups = dict(zip(members[s.SEGMENT_KEY], members[s.GROUP_ID])) if not members.empty else {}
            frame[s.GROUP_ID] = frame[s.SEGMENT_KEY].map(groups)
            return frame

        return self._cached("practice_candidates", build).copy()

    def practices(self, *, proposals: bool = True) -> pd.DataFrame:
        """Curated practices, then (``proposals``) the machine's proposed practices for passages nobody curated.

        One row per practice: title, what it is (``description``), ``place``, ``who_runs``, ``evidence``
        (the researcher's words) with the linked ``passages`` and their ``references``, ``status``,
        ``transferability``, ``theme`` (and ``themes``: every theme its passages answer), ``origin``
        (curated or proposed). See :func:`toolkit.analysis.practices.practice_table`.

        Examples
        --------
        >>> study.practices().query("origin == 'proposed'")[["title", "place", "n_passages"]]  # doctest: +SKIP
        """
        return self._cached(f"practices:{proposals}", lambda: practice_view(
            self.store, library=self.good_practice(include_excluded=True), segments=self.segments(),
            codings=self.codings(), theme_names=self.theme_names(), proposals=proposals)).copy()

    def save_practice(self, *, title: str, author: str, group_id: str | None = None,
                      description: str | None = None, place: str | None = None, who_runs: str | None = None,
                      evidence: str | None = None, status: str = s.PRACTICE_STATUSES[0],
                      transferability: str | None = None, theme: str | None = None,
                      passages: Iterable[str] = (), unlink: Iterable[str] = ()) -> str:
        """Curate a practice (a new one, or a new version of ``group_id``) and link passages to it.

        See :func:`toolkit.review.practices.save_practice`; returns the practice's ``group_id``.

        Examples
        --------
        >>> proposal = study.practices().iloc[0]  # doctest: +SKIP
        >>> study.save_practice(title=proposal.title, place=proposal.place, passages=proposal.passages,
        ...                     status="reviewed", author="ana")  # doctest: +SKIP
        """
        from toolkit.review.practices import save_practice

        return save_practice(self.review_context(), title=title, author=author, group_id=group_id,
                             description=description, place=place, who_runs=who_runs, evidence=evidence,
                             status=status, transferability=transferability, theme=theme, passages=passages,
                             unlink=unlink)

    # ------------------------------------------------------------------ remedies
    def barrier_remedies(self) -> pd.DataFrame:
        """For each barrier one place reports, the enablers and practices the other places report on that theme.

        See :func:`toolkit.analysis.remedies.barrier_remedies`.

        Examples
        --------
        >>> study.barrier_remedies().query("barrier_place == 'Brackenford'")  # doctest: +SKIP
        """
        return self._cached("remedies", lambda: _remedies.barrier_remedies(
            self.codings(), self.segments(), self.practices(), places=self.places, theme_names=self.theme_names(),
            parents=self.theme_parents())).copy()

    def references_of(self, keys: Sequence[str]) -> list[str]:
        """The citations of segments, in the order given (unknown keys left out)."""
        frame = self.segments_by_keys(list(keys))
        return [] if frame.empty else frame[REFERENCE].tolist()
