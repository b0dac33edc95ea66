"""The toolkit's public Python API: what notebooks and the dashboard read and write through.

Open a study, then ask it for tidy DataFrames whose column names come from
:mod:`toolkit.schema`. Every number these frames hold can be traced back to the
segments behind it (``segment_keys`` columns, :meth:`Study.quotes`, :meth:`Study.context`).

>>> from toolkit.api import open_study
>>> study = open_study()  # doctest: +SKIP
>>> study.framework_matrix("place").head()  # doctest: +SKIP
>>> study.quotes(place="Brackenford", theme="trust_relationships", polarity="barrier")  # doctest: +SKIP

Reading never loads a language model; only :meth:`Study.run` does. An empty or
half-built store gives empty frames with the right columns, never an error.
Human decisions are appended (never updated), so several researchers can review
at once without overwriting each other; the latest decision on a segment wins.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import schema as s
from toolkit.errors import ConfigError, InputDataError
from toolkit.coding import resolve_codings

if TYPE_CHECKING:  # only for type hints
    from toolkit.codebook import Codebook
    from toolkit.config import StudyConfig
    from toolkit.store import Store

log = logging.getLogger(__name__)

__all__ = ["Study", "StudyStatus", "open_study", "filter_quotes", "matrix_cells"]

# --------------------------------------------------------------------------- columns this API adds
# (names of store columns come from toolkit.schema; these are the API's derived columns)
SOURCE_KIND = "source_kind"
"""transcript or survey (the source's kind; a column of Store.segments_frame)."""
THEME_NAME = "theme_name"
REVIEW_STATUS = "review_status"
"""``reviewed`` once any person decided on the segment, else ``unreviewed``."""
REVIEWED_BY = "reviewed_by"
"""Who made the latest decision on the segment (same name as in toolkit.coding.resolve_codings)."""
REVIEWED_AT = "reviewed_at"
REFERENCE = "reference"
PARTICIPANT = "participant"
"""Who said it: interview participant id, else survey respondent key."""
PARTICIPANTS = "participants"
SEGMENTS_COL = "segments"
SEGMENT_KEYS = "segment_keys"
SHARE = "share"
IS_SEGMENT = "is_segment"
ORIGIN = "origin"
UNIT = "unit"

REVIEWED, UNREVIEWED = "reviewed", "unreviewed"
REVIEW_STATUSES = (UNREVIEWED, REVIEWED)
REJECTED, UNCODED = "rejected", "uncoded"
CODING_STATUSES = ("machine", "accepted", "recoded", REJECTED, UNCODED)
"""The resolved status of a segment's primary coding."""
ROW_DIMENSIONS = (s.PLACE, s.ORGANISATION_TYPE)
"""What the rows of a framework matrix can be."""
DISTRIBUTION_BY = (s.PLACE, s.ORGANISATION_TYPE, s.POLARITY)
NO_VALUE = "(not recorded)"

SEGMENT_COLUMNS = [
    s.SEGMENT_KEY, s.SOURCE_ID, s.PATH, SOURCE_KIND, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.PARTICIPANT_ID,
    s.RESPONDENT_KEY, PARTICIPANT, s.SPEAKER, s.QUESTION_TEXT, s.TURN_ID, s.TEXT_ANSWER_ID, s.START_CHAR,
    s.END_CHAR, s.START_TIME, s.THEME, THEME_NAME, s.POLARITY, s.CONFIDENCE, s.STATUS, s.GOOD_PRACTICE,
    REVIEW_STATUS, REVIEWED_BY, REVIEWED_AT, s.TOPIC, s.TOPIC_LABEL, REFERENCE, s.TEXT,
]
CODING_COLUMNS = [
    s.SEGMENT_KEY, s.THEME, THEME_NAME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.STATUS, s.CODER,
    REVIEWED_BY, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, PARTICIPANT, SOURCE_KIND, s.PATH,
]
TOPIC_COLUMNS = [
    s.TOPIC, s.TOPIC_LABEL, s.AUTO_LABEL, s.KEYWORDS, s.SIZE, s.REPRESENTATIVE, s.SEEDED_THEME, s.NEAREST_THEME,
    s.THEME_SIMILARITY, s.CODED_THEME, s.CODED_SHARE, s.CANDIDATE_NEW, s.MAP_X, s.MAP_Y,
]
CONTEXT_COLUMNS = [s.TURN_INDEX, s.SPEAKER, s.SPEAKER_ROLE, s.START_TIME, s.TEXT, IS_SEGMENT]
LIKERT_COLUMNS = [s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.RESPONDENT_KEY, s.QUESTION_TEXT, s.LABEL, s.VALUE]
TEXT_ANSWER_COLUMNS = [
    s.TEXT_ANSWER_ID, s.SEGMENT_KEY, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.RESPONDENT_KEY, s.QUESTION_TEXT,
    s.THEME, THEME_NAME, s.POLARITY, s.STATUS, s.TEXT,
]
DECISION_COLUMNS = [
    s.CODING_ID, s.SEGMENT_KEY, s.CODER, s.DECISION, s.THEME, s.POLARITY, s.GOOD_PRACTICE, s.NOTE, s.CREATED_AT,
]
SUMMARY_COLUMNS = [s.ROW_DIMENSION, s.ROW_VALUE, s.THEME, s.TEXT, s.AUTHOR, s.CREATED_AT]
COMMENT_COLUMNS = [s.COMMENT_ID, s.SEGMENT_KEY, s.THEME, s.TOPIC, s.TEXT, s.AUTHOR, s.AUTHOR_ROLE, s.CREATED_AT]
PRACTICE_COLUMNS = [
    s.SEGMENT_KEY, s.THEME, THEME_NAME, s.PLACE, s.ORGANISATION_TYPE, PARTICIPANT, s.TITLE, s.NOTE, s.AUTHOR,
    s.INCLUDED, ORIGIN, s.STATUS, REFERENCE, s.TEXT,
]

# Mutable tables whose row counts and latest ids make the store's change stamp.
_STAMP_TABLES = (
    s.SOURCES, s.SEGMENTS, s.CODINGS, s.HUMAN_CODINGS, s.TOPICS, s.SEGMENT_TOPICS, s.TOPIC_EDITS, s.SUMMARIES,
    s.PRACTICES, s.COMMENTS, s.RUNS, s.RESPONDENTS,
)


# --------------------------------------------------------------------------- opening a study
def open_study(path: str | Path | None = None) -> Study:
    """Open a study folder (``None``: the sample study ``interviews/``) and its project store.

    Nothing is computed and no model is loaded: frames are read when asked for.

    Examples
    --------
    >>> study = open_study("interviews")  # doctest: +SKIP
    >>> study.places  # doctest: +SKIP
    ['Brackenford', 'Fernmouth', 'Hollowmere']
    """
    from toolkit.config import load_config
    from toolkit.store import Store

    config = load_config(path)
    return Study(config, Store(config.store_url))


@dataclass
class StudyStatus:
    """What a study's store holds and what to run next.

    Attributes
    ----------
    counts : row count per table.
    places : per place: transcripts, turns, surveys, respondents.
    runs : the latest runs (newest first).
    next_step : one sentence saying what to do next (``None`` when everything is done).
    next_command : the command line for it (``None`` when it is not a command).
    """

    counts: dict[str, int]
    places: pd.DataFrame
    runs: pd.DataFrame
    next_step: str | None = None
    next_command: str | None = None
    unreviewed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Study:
    """A study: its configuration, project store and codebook, read as DataFrames.

    Open one with :func:`open_study`. Reads are memoised per store state: a new
    decision, summary or run changes :meth:`stamp` and the next read sees it.

    Examples
    --------
    >>> study = open_study()  # doctest: +SKIP
    >>> study.segments().columns[:3].tolist()  # doctest: +SKIP
    ['segment_key', 'source_id', 'path']
    """

    def __init__(self, config: StudyConfig, store: Store):
        self.config = config
        self.store = store
        self._codebook: Codebook | None = None
        self._memo: dict[str, tuple[str, Any]] = {}

    # ------------------------------------------------------------------ basics
    @property
    def name(self) -> str:
        """The study's name from ``study.toml``."""
        return self.config.name

    @property
    def root(self) -> Path:
        """The study folder."""
        return self.config.root

    @property
    def places(self) -> list[str]:
        """Places of the study: from ``study.toml``, else those found in the store.

        Examples
        --------
        >>> open_study().places  # doctest: +SKIP
        ['Brackenford', 'Fernmouth', 'Hollowmere']
        """
        if self.config.places:
            return list(self.config.places)
        found = self.sources()[s.PLACE].dropna().astype(str)
        return sorted(set(found))

    @property
    def codebook(self) -> Codebook:
        """The study's codebook (``coding.codebook`` in ``study.toml``, else the toolkit's default)."""
        if self._codebook is None:
            from toolkit.codebook import load_codebook

            path = self.config.resolve(self.config.coding.codebook) if self.config.coding.codebook else None
            self._codebook = load_codebook(path, check_patterns=False)  # no spaCy import on page render
        return self._codebook

    def theme_names(self) -> dict[str, str]:
        """``theme id -> readable name`` in codebook order.

        Examples
        --------
        >>> open_study().theme_names()["trust_relationships"]  # doctest: +SKIP
        'Trust and relationships'
        """
        return {t.id: t.name for t in self.codebook.themes}

    def stamp(self) -> str:
        """A short string that changes whenever the store's content changes (for caches).

        Examples
        --------
        >>> before = study.stamp()  # doctest: +SKIP
        >>> study.add_comment("check this", author="ana", author_role="researcher")  # doctest: +SKIP
        >>> study.stamp() != before  # doctest: +SKIP
        True
        """
        return "|".join(f"{k}={v}" for k, v in self._stamp_parts().items())

    def _stamp_parts(self) -> dict[str, Any]:
        import sqlalchemy as sa

        from toolkit.store import TABLES

        names = list(_STAMP_TABLES) + ["finished", "decided"]
        parts = [sa.select(sa.func.count()).select_from(TABLES[name]).scalar_subquery() for name in _STAMP_TABLES]
        parts.append(sa.select(sa.func.max(TABLES[s.RUNS].c.finished_at)).scalar_subquery())
        parts.append(sa.select(sa.func.max(TABLES[s.HUMAN_CODINGS].c.created_at)).scalar_subquery())
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(*parts)).one()
        return dict(zip(names, row))

    def _cached(self, name: str, build, on: Sequence[str] | None = None) -> Any:
        """Memoise ``build()`` until the store changes (``on``: only these parts of the stamp matter)."""
        parts = self._stamp_parts()
        stamp = "|".join(str(parts[k]) for k in (on or parts))
        hit = self._memo.get(name)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = build()
        self._memo[name] = (stamp, value)
        return value

    # ------------------------------------------------------------------ sources and segments
    def sources(self) -> pd.DataFrame:
        """One row per source (transcript or survey), without its text.

        Examples
        --------
        >>> study.sources()[["path", "place", "kind"]].head(2)  # doctest: +SKIP
        """
        return self._cached("sources", self.store.sources_frame).copy()

    def segments(self) -> pd.DataFrame:
        """Evidence segments with who said them, their resolved primary coding, topic and review status.

        One row per segment. ``status`` is the primary coding's status: ``machine``,
        ``accepted``, ``recoded`` (a person's decision), ``rejected`` (a person took the
        coding away) or ``uncoded``. ``review_status`` is ``reviewed`` once anyone decided.
        Columns: see :data:`SEGMENT_COLUMNS`.

        Examples
        --------
        >>> seg = study.segments()  # doctest: +SKIP
        >>> seg[seg["status"] == "uncoded"].shape[0]  # doctest: +SKIP
        """
        return self._cached("segments", self._build_segments).copy()

    def _base_segments(self) -> pd.DataFrame:
        """Segments with who said them and their reference: changes only when the study is re-segmented."""

        def build() -> pd.DataFrame:
            frame = self.store.segments_frame(evidence_only=True)
            if frame.empty:
                return frame
            frame[PARTICIPANT] = frame[s.PARTICIPANT_ID].where(frame[s.PARTICIPANT_ID].notna(), frame[s.RESPONDENT_KEY])
            needed = [s.PARTICIPANT_ID, s.RESPONDENT_KEY, s.PATH, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, SOURCE_KIND,
                      s.QUESTION_TEXT, s.START_TIME, s.START_CHAR, s.END_CHAR]
            frame[REFERENCE] = [_reference(row) for row in frame[needed].astype(object).to_dict("records")]
            return frame

        return self._cached("base_segments", build, on=(s.SOURCES, s.SEGMENTS, s.RESPONDENTS, "finished"))

    def _build_segments(self) -> pd.DataFrame:
        raw = self._base_segments()
        if raw.empty:
            return _empty(SEGMENT_COLUMNS)
        frame = raw.copy()
        codings = self._resolved()
        primary = (
            codings.sort_values([s.SEGMENT_KEY, s.RANK, s.CONFIDENCE], ascending=[True, True, False], kind="stable")
            .drop_duplicates(s.SEGMENT_KEY)
            .set_index(s.SEGMENT_KEY)
        )
        keys = frame[s.SEGMENT_KEY]
        for col in (s.THEME, s.POLARITY, s.CONFIDENCE, s.GOOD_PRACTICE, s.STATUS):
            frame[col] = keys.map(primary[col]) if col in primary.columns else None
        last = self._last_decisions()
        frame[REVIEWED_BY] = keys.map(last[s.CODER]) if not last.empty else None
        frame[REVIEWED_AT] = keys.map(last[s.CREATED_AT]) if not last.empty else None
        frame[REVIEW_STATUS] = frame[REVIEWED_BY].notna().map({True: REVIEWED, False: UNREVIEWED})
        rejected = keys.isin(last.index[last[s.DECISION] == "reject"]) if not last.empty else False
        frame[s.STATUS] = frame[s.STATUS].where(frame[s.STATUS].notna(), UNCODED)
        frame.loc[rejected & frame[s.THEME].isna(), s.STATUS] = REJECTED
        frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].astype(object).where(frame[s.GOOD_PRACTICE].notna(), False)
        frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].astype(bool)
        frame[THEME_NAME] = frame[s.THEME].map(self.theme_names()).fillna(frame[s.THEME])
        assigned = self._segment_topics()
        if assigned.empty:
            frame[s.TOPIC] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
            frame[s.TOPIC_LABEL] = None
        else:
            by_key = assigned.set_index(s.SEGMENT_KEY)
            frame[s.TOPIC] = keys.map(by_key[s.TOPIC]).astype("Int64")
            frame[s.TOPIC_LABEL] = keys.map(by_key[s.TOPIC_LABEL])
        return frame[SEGMENT_COLUMNS].reset_index(drop=True)

    def _resolved(self) -> pd.DataFrame:
        """Resolved codings (toolkit.coding.resolve_codings), memoised."""

        def build() -> pd.DataFrame:
            machine = self.store.table(s.CODINGS)
            human = self.store.table(s.HUMAN_CODINGS)
            resolved = resolve_codings(machine, human)
            if resolved.empty:
                return _empty([s.SEGMENT_KEY, s.THEME, s.POLARITY, s.CONFIDENCE, s.RANK, s.GOOD_PRACTICE, s.STATUS,
                               s.CODER, REVIEWED_BY])
            resolved[s.CONFIDENCE] = pd.to_numeric(resolved[s.CONFIDENCE], errors="coerce")
            resolved[s.RANK] = pd.to_numeric(resolved[s.RANK], errors="coerce").fillna(1).astype(int)
            return resolved

        return self._cached("resolved", build)

    def _last_decisions(self) -> pd.DataFrame:
        """The latest human decision per segment (any coder), indexed by segment key."""

        def build() -> pd.DataFrame:
            human = self.store.table(s.HUMAN_CODINGS)
            if human.empty:
                return _empty(DECISION_COLUMNS).set_index(s.SEGMENT_KEY)
            ordered = human.sort_values([s.CREATED_AT, s.CODING_ID], kind="stable")
            return ordered.drop_duplicates(s.SEGMENT_KEY, keep="last").set_index(s.SEGMENT_KEY)

        return self._cached("last_decisions", build)

    def _segment_topics(self) -> pd.DataFrame:
        def build() -> pd.DataFrame:
            assigned = self.store.table(s.SEGMENT_TOPICS)
            if assigned.empty:
                return _empty([s.SEGMENT_KEY, s.TOPIC, s.TOPIC_LABEL, s.PROBABILITY, s.ASSIGNED_BY])
            labels = self.store.table(s.TOPICS)[[s.TOPIC, s.TOPIC_LABEL]]
            merged = assigned.merge(labels, on=s.TOPIC, how="left")
            merged[s.TOPIC_LABEL] = merged[s.TOPIC_LABEL].fillna(
                merged[s.TOPIC].map(lambda t: "Outliers" if t == s.OUTLIER_TOPIC else f"Topic {t}")
            )
            return merged

        return self._cached("segment_topics", build)

    def codings(self) -> pd.DataFrame:
        """The codings a reader should see: human decisions over machine ones, one row per segment × theme.

        Built with :func:`toolkit.coding.resolve_codings`; rejected codings are gone, and
        each row carries its segment's place, organisation type, role and participant.

        Examples
        --------
        >>> study.codings().groupby("polarity").size()  # doctest: +SKIP
        """
        resolved = self._resolved()
        segments = self.segments()
        if resolved.empty or segments.empty:
            return _empty(CODING_COLUMNS)
        meta = segments[[s.SEGMENT_KEY, s.PLACE, s.ORGANISATION_TYPE, s.ROLE, PARTICIPANT, SOURCE_KIND, s.PATH]]
        frame = resolved.merge(meta, on=s.SEGMENT_KEY, how="inner")
        frame[THEME_NAME] = frame[s.THEME].map(self.theme_names()).fillna(frame[s.THEME])
        frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].astype(object).where(frame[s.GOOD_PRACTICE].notna(), False)
        frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].astype(bool)
        for col in CODING_COLUMNS:
            if col not in frame.columns:
                frame[col] = None
        return frame[CODING_COLUMNS].reset_index(drop=True)

    def quotes(
        self,
        place: str | Sequence[str] | None = None,
        organisation_type: str | Sequence[str] | None = None,
        role: str | Sequence[str] | None = None,
        theme: str | Sequence[str] | None = None,
        polarity: str | Sequence[str] | None = None,
        topic: int | Sequence[int] | None = None,
        source: str | Sequence[str] | None = None,
        status: str | Sequence[str] | None = None,
        search: str | None = None,
    ) -> pd.DataFrame:
        """Segments narrowed by any of the filters (each a value or a list of values).

        ``theme`` matches any of a segment's codings (not only the primary one); ``source`` is a
        source path; ``status`` is a coding status (machine, accepted, recoded, rejected, uncoded)
        or a review status (reviewed, unreviewed); ``search`` is case-insensitive text.

        Examples
        --------
        >>> study.quotes(place="Fernmouth", polarity="barrier", search="consent")  # doctest: +SKIP
        """
        for wanted in [theme] if isinstance(theme, str) else list(theme or []):
            self.codebook.theme(wanted)  # an unknown theme is an error that suggests the right one
        return filter_quotes(
            self.segments(), self.codings(), place=place, organisation_type=organisation_type, role=role,
            theme=theme, polarity=polarity, topic=topic, source=source, status=status, search=search,
        )

    def segment(self, segment_key: str) -> dict[str, Any]:
        """One segment as a dict (see :meth:`segments`); raises ``InputDataError`` for an unknown key.

        Examples
        --------
        >>> study.segment("2c0c2c8f415e7260")["place"]  # doctest: +SKIP
        'Brackenford'
        """
        segments = self.segments()
        hit = segments[segments[s.SEGMENT_KEY] == segment_key]
        if hit.empty:
            raise InputDataError(
                self._store_name(), f"no evidence segment with key '{segment_key}'.",
                "Copy the key from study.segments() or the dashboard; keys change only when the study is re-segmented.",
            )
        return hit.iloc[0].to_dict()

    def context(self, segment_key: str, window: int = 2) -> pd.DataFrame:
        """The turns around a segment: ``window`` turns before and after, the segment's own turn marked.

        For a survey answer, the one answer (``is_segment`` True). Columns: see :data:`CONTEXT_COLUMNS`.

        Examples
        --------
        >>> ctx = study.context("2c0c2c8f415e7260", window=1)  # doctest: +SKIP
        >>> ctx[ctx["is_segment"]].shape[0]  # doctest: +SKIP
        1
        """
        row = self.segment(segment_key)
        turn_id = row.get(s.TURN_ID)
        if turn_id is None or pd.isna(turn_id):
            return pd.DataFrame(
                [{s.TURN_INDEX: 0, s.SPEAKER: row.get(PARTICIPANT), s.SPEAKER_ROLE: s.PARTICIPANT,
                  s.START_TIME: None, s.TEXT: row.get(s.TEXT), IS_SEGMENT: True}],
                columns=CONTEXT_COLUMNS,
            )
        turns = self._turns()
        here = turns[turns[s.SOURCE_ID] == row[s.SOURCE_ID]]
        mine = here[here[s.TURN_ID] == int(turn_id)]
        if mine.empty:
            return _empty(CONTEXT_COLUMNS)
        index = int(mine[s.TURN_INDEX].iloc[0])
        window = max(int(window), 0)
        near = here[(here[s.TURN_INDEX] >= index - window) & (here[s.TURN_INDEX] <= index + window)].copy()
        near[IS_SEGMENT] = near[s.TURN_ID] == int(turn_id)
        return near.sort_values(s.TURN_INDEX)[CONTEXT_COLUMNS].reset_index(drop=True)

    def _turns(self) -> pd.DataFrame:
        return self._cached("turns", lambda: self.store.table(s.TURNS))

    def reference(self, segment_key: str) -> str:
        """A citation for a segment: who, place, organisation type, role and where in the source.

        Examples
        --------
        >>> study.reference("2c0c2c8f415e7260")  # doctest: +SKIP
        'BK01, Brackenford, Local authority (Supporting Families programme lead), interview BK01_programme_lead.docx, characters 400-508'
        """
        return str(self.segment(segment_key)[REFERENCE])

    # ------------------------------------------------------------------ analysis tables
    def framework_matrix(self, rows: str = s.PLACE) -> pd.DataFrame:
        """The framework matrix, long: one row per (row value, theme), zero cells included.

        Columns: ``<rows>`` (place or organisation_type), ``theme``, ``theme_name``,
        ``participants`` (distinct interviewees or respondents with a coding of the theme),
        ``barrier``, ``enabler``, ``neutral`` (segment counts), ``summary`` (the latest
        researcher summary of the cell, or None) and ``segment_keys`` (the segments behind
        the cell). Use :func:`matrix_cells` for a wide table to show.

        Examples
        --------
        >>> m = study.framework_matrix("place")  # doctest: +SKIP
        >>> m.loc[m["barrier"].idxmax(), ["place", "theme", "barrier"]]  # doctest: +SKIP
        """
        if rows not in ROW_DIMENSIONS:
            raise ConfigError(f"A framework matrix's rows are one of {', '.join(ROW_DIMENSIONS)}, not '{rows}'.")
        columns = [rows, s.THEME, THEME_NAME, PARTICIPANTS, s.BARRIER, s.ENABLER, s.NEUTRAL, s.SUMMARY, SEGMENT_KEYS]
        codings = self.codings()
        values = self._row_values(rows)
        themes = list(self.theme_names())
        if codings.empty:
            themes_seen: list[str] = []
        else:
            themes_seen = [t for t in dict.fromkeys(codings[s.THEME].astype(str)) if t not in themes]
        grid = pd.MultiIndex.from_product([values, themes + themes_seen], names=[rows, s.THEME]).to_frame(index=False)
        if grid.empty:
            return _empty(columns)
        codings = codings.assign(**{rows: codings[rows].fillna(NO_VALUE).astype(str)})
        if not codings.empty:
            group = codings.groupby([rows, s.THEME])
            agg = pd.DataFrame(
                {
                    PARTICIPANTS: group[PARTICIPANT].nunique(),
                    s.BARRIER: group[s.POLARITY].agg(lambda p: int((p == s.BARRIER).sum())),
                    s.ENABLER: group[s.POLARITY].agg(lambda p: int((p == s.ENABLER).sum())),
                    s.NEUTRAL: group[s.POLARITY].agg(lambda p: int((p == s.NEUTRAL).sum())),
                    SEGMENT_KEYS: group[s.SEGMENT_KEY].agg(lambda k: list(dict.fromkeys(k))),
                }
            ).reset_index()
            grid = grid.merge(agg, on=[rows, s.THEME], how="left")
        for col in (PARTICIPANTS, s.BARRIER, s.ENABLER, s.NEUTRAL):
            grid[col] = grid[col].fillna(0).astype(int) if col in grid.columns else 0
        if SEGMENT_KEYS not in grid.columns:
            grid[SEGMENT_KEYS] = None
        grid[SEGMENT_KEYS] = [k if isinstance(k, list) else [] for k in grid[SEGMENT_KEYS]]
        summaries = self.summaries()
        summaries = summaries[summaries[s.ROW_DIMENSION] == rows]
        lookup = {(r, t): text for r, t, text in zip(summaries[s.ROW_VALUE], summaries[s.THEME], summaries[s.TEXT])}
        grid[s.SUMMARY] = [lookup.get((r, t)) for r, t in zip(grid[rows], grid[s.THEME])]
        grid[THEME_NAME] = grid[s.THEME].map(self.theme_names()).fillna(grid[s.THEME])
        return grid[columns]

    def _row_values(self, rows: str) -> list[str]:
        segments = self.segments()
        found = [str(v) for v in segments[rows].fillna(NO_VALUE).unique()] if not segments.empty else []
        if rows == s.PLACE:
            known = self.places
            return known + sorted(v for v in set(found) if v not in known)
        return sorted(set(found))

    def theme_counts(self, by: str = s.PLACE) -> pd.DataFrame:
        """Segments and participants per ``by`` value, theme and polarity (resolved codings).

        Columns: ``<by>``, ``theme``, ``theme_name``, ``polarity``, ``segments``, ``participants``,
        ``segment_keys``.

        Examples
        --------
        >>> study.theme_counts("organisation_type").head()  # doctest: +SKIP
        """
        if by not in ROW_DIMENSIONS + (s.ROLE, SOURCE_KIND):
            raise ConfigError(f"theme_counts(by=...) takes place, organisation_type, role or source_kind, not '{by}'.")
        columns = [by, s.THEME, THEME_NAME, s.POLARITY, SEGMENTS_COL, PARTICIPANTS, SEGMENT_KEYS]
        codings = self.codings()
        if codings.empty:
            return _empty(columns)
        codings = codings.assign(**{by: codings[by].fillna(NO_VALUE).astype(str),
                                    s.POLARITY: codings[s.POLARITY].fillna(s.NEUTRAL)})
        group = codings.groupby([by, s.THEME, THEME_NAME, s.POLARITY], sort=False)
        frame = pd.DataFrame(
            {
                SEGMENTS_COL: group[s.SEGMENT_KEY].nunique(),
                PARTICIPANTS: group[PARTICIPANT].nunique(),
                SEGMENT_KEYS: group[s.SEGMENT_KEY].agg(lambda k: list(dict.fromkeys(k))),
            }
        ).reset_index()
        order = {t: i for i, t in enumerate(self.theme_names())}
        frame["_o"] = frame[s.THEME].map(order).fillna(len(order))
        return frame.sort_values([by, "_o", s.POLARITY]).drop(columns="_o").reset_index(drop=True)[columns]

    def cooccurrence(self, unit: str = "segment") -> pd.DataFrame:
        """Theme × theme: how many segments (or participants) are coded with both themes.

        A square frame indexed and columned by theme id (codebook order, themes never coded
        left out); the diagonal holds each theme's own count.

        Examples
        --------
        >>> co = study.cooccurrence("participant")  # doctest: +SKIP
        >>> co.loc["trust_relationships", "it_systems_access"]  # doctest: +SKIP
        """
        if unit not in ("segment", "participant"):
            raise ConfigError(f"cooccurrence(unit=...) counts 'segment' or 'participant', not '{unit}'.")
        codings = self.codings()
        if codings.empty:
            return pd.DataFrame(dtype=int)
        key = s.SEGMENT_KEY if unit == "segment" else PARTICIPANT
        pairs = codings[[key, s.THEME]].dropna().drop_duplicates()
        onehot = pd.crosstab(pairs[key], pairs[s.THEME]).clip(upper=1)
        order = [t for t in self.theme_names() if t in onehot.columns]
        order += [t for t in onehot.columns if t not in order]
        onehot = onehot[order]
        matrix = onehot.T.dot(onehot)
        matrix.index.name = s.THEME
        matrix.columns.name = s.THEME
        return matrix.astype(int)

    def cooccurring_segments(self, theme_a: str, theme_b: str) -> list[str]:
        """The segment keys coded with both themes (the segments behind a co-occurrence cell).

        Examples
        --------
        >>> study.cooccurring_segments("trust_relationships", "it_systems_access")  # doctest: +SKIP
        """
        codings = self.codings()
        if codings.empty:
            return []
        a = set(codings.loc[codings[s.THEME] == theme_a, s.SEGMENT_KEY])
        b = set(codings.loc[codings[s.THEME] == theme_b, s.SEGMENT_KEY])
        return [k for k in dict.fromkeys(codings[s.SEGMENT_KEY]) if k in a and k in b]

    # ------------------------------------------------------------------ surveys
    def likert(self) -> pd.DataFrame:
        """Every agreement-scale answer with the respondent's place, organisation type and role.

        Examples
        --------
        >>> study.likert().groupby("place").size()  # doctest: +SKIP
        """

        def build() -> pd.DataFrame:
            answers = self.store.table(s.LIKERT_ANSWERS)
            if answers.empty:
                return _empty(LIKERT_COLUMNS)
            frame = answers.merge(self.store.table(s.RESPONDENTS), on=[s.RESPONDENT_ID, s.SOURCE_ID]).merge(
                self.store.table(s.SURVEY_QUESTIONS), on=[s.QUESTION_ID, s.SOURCE_ID]
            )
            return frame[LIKERT_COLUMNS].reset_index(drop=True)

        return self._cached("likert", build).copy()

    def likert_percentages(self) -> pd.DataFrame:
        """Per question and place: % Disagree, Neutral, Agree and the number of answers counted.

        Uses :func:`toolkit.export.report.survey_percentages` (the report's numbers).

        Examples
        --------
        >>> study.likert_percentages().head()  # doctest: +SKIP
        """
        from toolkit.export.report import survey_percentages

        return survey_percentages(self.likert())

    def text_answers(self) -> pd.DataFrame:
        """Free-text survey answers coded by theme: one row per answer segment.

        Before coding has run, one row per answer with no theme.

        Examples
        --------
        >>> study.text_answers().groupby("theme").size()  # doctest: +SKIP
        """
        segments = self.segments()
        survey = segments[segments[SOURCE_KIND] == "survey"] if not segments.empty else segments
        if not survey.empty:
            return survey[TEXT_ANSWER_COLUMNS].reset_index(drop=True)
        answers = self.store.table(s.TEXT_ANSWERS)
        if answers.empty:
            return _empty(TEXT_ANSWER_COLUMNS)
        frame = answers.merge(
            self.store.table(s.RESPONDENTS)[[s.RESPONDENT_ID, s.RESPONDENT_KEY, s.PLACE, s.ORGANISATION_TYPE, s.ROLE]],
            on=s.RESPONDENT_ID,
        ).merge(self.store.table(s.SURVEY_QUESTIONS)[[s.QUESTION_ID, s.QUESTION_TEXT]], on=s.QUESTION_ID)
        for col in TEXT_ANSWER_COLUMNS:
            if col not in frame.columns:
                frame[col] = None
        frame[s.STATUS] = UNCODED
        return frame[TEXT_ANSWER_COLUMNS].reset_index(drop=True)

    # ------------------------------------------------------------------ topics
    def topics(self) -> pd.DataFrame:
        """The topic model's topics (``keywords`` and ``representative`` as lists), outliers (-1) included.

        Examples
        --------
        >>> study.topics()[["topic", "topic_label", "candidate_new"]]  # doctest: +SKIP
        """

        def build() -> pd.DataFrame:
            frame = self.store.table(s.TOPICS)
            if frame.empty:
                return _empty(TOPIC_COLUMNS)
            for col in (s.KEYWORDS, s.REPRESENTATIVE):
                frame[col] = frame[col].map(_json_list)
            frame[s.CANDIDATE_NEW] = frame[s.CANDIDATE_NEW].fillna(False).astype(bool)
            return frame.sort_values(s.TOPIC)[TOPIC_COLUMNS].reset_index(drop=True)

        return self._cached("topics", build).copy()

    def topic_distribution(self, by: str = s.PLACE) -> pd.DataFrame:
        """Segments per ``by`` value (place, organisation_type or polarity) and topic, with each topic's share.

        Columns: ``<by>``, ``topic``, ``topic_label``, ``segments``, ``share`` (of the ``by``
        value's segments that have a topic), ``segment_keys``.

        Examples
        --------
        >>> study.topic_distribution("polarity").head()  # doctest: +SKIP
        """
        if by not in DISTRIBUTION_BY:
            raise ConfigError(f"topic_distribution(by=...) takes one of {', '.join(DISTRIBUTION_BY)}, not '{by}'.")
        columns = [by, s.TOPIC, s.TOPIC_LABEL, SEGMENTS_COL, SHARE, SEGMENT_KEYS]
        segments = self.segments()
        if segments.empty:
            return _empty(columns)
        segments = segments[segments[s.TOPIC].notna()]
        if segments.empty:
            return _empty(columns)
        segments = segments.assign(**{by: segments[by].fillna(NO_VALUE).astype(str), s.TOPIC: segments[s.TOPIC].astype(int)})
        group = segments.groupby([by, s.TOPIC, s.TOPIC_LABEL])
        frame = pd.DataFrame(
            {SEGMENTS_COL: group.size(), SEGMENT_KEYS: group[s.SEGMENT_KEY].agg(list)}
        ).reset_index()
        frame[SHARE] = frame[SEGMENTS_COL] / frame.groupby(by)[SEGMENTS_COL].transform("sum")
        return frame.sort_values([by, s.TOPIC]).reset_index(drop=True)[columns]

    # ------------------------------------------------------------------ review
    def review_queue(
        self, status: str = UNREVIEWED, theme: str | None = None, place: str | None = None
    ) -> pd.DataFrame:
        """Segments to review, in reading order: ``unreviewed`` (default), ``reviewed`` or ``all``.

        Each row holds the segment's current primary coding and who decided last.

        Examples
        --------
        >>> queue = study.review_queue(theme="trust_relationships")  # doctest: +SKIP
        """
        if status not in (*REVIEW_STATUSES, "all"):
            raise ConfigError(f"review_queue(status=...) is one of unreviewed, reviewed, all; not '{status}'.")
        return filter_quotes(
            self.segments(), self.codings(), place=place, theme=theme, status=None if status == "all" else status
        )

    def record_decision(
        self,
        segment_key: str,
        decision: str,
        coder: str,
        theme: str | None = None,
        polarity: str | None = None,
        note: str | None = None,
        good_practice: bool | None = None,
    ) -> int:
        """Record a person's decision on a segment (appended to ``human_codings``; the latest wins).

        ``accept`` keeps the machine's coding (its theme and polarity are stored with the
        decision); ``reject`` takes it away; ``recode`` and ``add`` need a codebook ``theme``
        and a ``polarity``. Returns the number of rows written (1).

        Raises
        ------
        ConfigError
            The theme is not in the codebook (the message lists the themes).
        InputDataError
            Unknown segment, decision or polarity, no coder name, or nothing to accept.

        Examples
        --------
        >>> study.record_decision("2c0c2c8f415e7260", "recode", "ana", theme="trust_relationships",
        ...                       polarity="enabler", note="about the charter")  # doctest: +SKIP
        1
        """
        return self.record_decisions([segment_key], decision, coder, theme=theme, polarity=polarity, note=note,
                                     good_practice=good_practice)

    def record_decisions(
        self,
        segment_keys: Iterable[str],
        decision: str,
        coder: str,
        theme: str | None = None,
        polarity: str | None = None,
        note: str | None = None,
        good_practice: bool | None = None,
    ) -> int:
        """Record the same decision on several segments at once (one transaction; all or nothing).

        Examples
        --------
        >>> study.record_decisions(["k1", "k2"], "accept", "ana")  # doctest: +SKIP
        2
        """
        keys = list(dict.fromkeys(segment_keys))
        where = self._store_name()
        if decision not in s.DECISIONS:
            raise InputDataError(where, f"unknown decision '{decision}'.", f"Use one of: {', '.join(s.DECISIONS)}.")
        if not coder or not str(coder).strip():
            raise InputDataError(where, "a decision needs the name of the person who made it.",
                                 "Pass coder='your name'.")
        if not keys:
            return 0
        if theme is not None:
            self.codebook.theme(theme)  # raises UnknownThemeError (a ConfigError) with the theme list
        if polarity is not None and polarity not in s.POLARITIES:
            raise InputDataError(where, f"unknown polarity '{polarity}'.", f"Use one of: {', '.join(s.POLARITIES)}.")
        if decision in ("recode", "add") and (theme is None or polarity is None):
            raise InputDataError(where, f"'{decision}' needs a theme and a polarity.",
                                 "Choose both, e.g. theme='trust_relationships', polarity='enabler'.")
        segments = self.segments().set_index(s.SEGMENT_KEY)
        missing = [k for k in keys if k not in segments.index]
        if missing:
            raise InputDataError(
                where, f"{len(missing)} unknown segment key(s): {', '.join(missing[:5])}.",
                "Copy keys from study.segments() or the dashboard; keys change when the study is re-segmented.",
            )
        rows = []
        for key in keys:
            seg = segments.loc[key]
            row_theme, row_polarity = theme, polarity
            if decision == "accept":
                row_theme = theme or _none(seg[s.THEME])
                row_polarity = polarity or _none(seg[s.POLARITY])
                if row_theme is None:
                    raise InputDataError(where, f"segment {key} has no coding to accept.",
                                         "Use 'add' with a theme and polarity instead.")
            rows.append(
                {s.SEGMENT_KEY: key, s.CODER: str(coder).strip(), s.DECISION: decision, s.THEME: row_theme,
                 s.POLARITY: row_polarity,
                 s.GOOD_PRACTICE: None if good_practice is None else bool(good_practice), s.NOTE: note or None,
                 s.TEXT: seg[s.TEXT]}
            )
        n = self.store.add_human_codings(pd.DataFrame(rows))
        log.info("recorded %d '%s' decision(s) by %s", n, decision, coder)
        return n

    def decisions(self, segment_key: str | None = None) -> pd.DataFrame:
        """Every human decision, oldest first (the history: who decided what, and when).

        Examples
        --------
        >>> study.decisions("2c0c2c8f415e7260")[["coder", "decision", "created_at"]]  # doctest: +SKIP
        """
        human = self.store.table(s.HUMAN_CODINGS)
        if human.empty:
            return _empty(DECISION_COLUMNS)
        if segment_key is not None:
            human = human[human[s.SEGMENT_KEY] == segment_key]
        return human.sort_values([s.CREATED_AT, s.CODING_ID])[DECISION_COLUMNS].reset_index(drop=True)

    def review_progress(self) -> pd.DataFrame:
        """Reviewed and unreviewed evidence segments: all, then per primary theme.

        Columns: ``theme`` ("all" first), ``segments``, ``reviewed``, ``unreviewed``, ``share``.

        Examples
        --------
        >>> study.review_progress().iloc[0].to_dict()  # doctest: +SKIP
        {'theme': 'all', 'segments': 1180, 'reviewed': 12, 'unreviewed': 1168, 'share': 0.01}
        """
        columns = [s.THEME, SEGMENTS_COL, REVIEWED, UNREVIEWED, SHARE]
        segments = self.segments()
        if segments.empty:
            return pd.DataFrame([{s.THEME: "all", SEGMENTS_COL: 0, REVIEWED: 0, UNREVIEWED: 0, SHARE: 0.0}],
                                columns=columns)
        done = segments[REVIEW_STATUS] == REVIEWED
        rows = [{s.THEME: "all", SEGMENTS_COL: len(segments), REVIEWED: int(done.sum())}]
        themes = segments[s.THEME].fillna(UNCODED)
        for theme, mask in done.groupby(themes):
            rows.append({s.THEME: theme, SEGMENTS_COL: int(mask.size), REVIEWED: int(mask.sum())})
        frame = pd.DataFrame(rows)
        frame[UNREVIEWED] = frame[SEGMENTS_COL] - frame[REVIEWED]
        frame[SHARE] = (frame[REVIEWED] / frame[SEGMENTS_COL].where(frame[SEGMENTS_COL] > 0)).fillna(0.0)
        return frame[columns]

    # ------------------------------------------------------------------ curation
    def good_practice(self, include_excluded: bool = False) -> pd.DataFrame:
        """The good-practice library: enabler segments the coder flagged, plus researchers' curation.

        A researcher's latest entry for a segment (``practices`` table) wins: it can add a
        segment, take one out (``included`` False), and give a title, theme and note.
        ``origin`` is ``coder`` or ``curated``. Excluded rows are left out unless asked for.

        Examples
        --------
        >>> study.good_practice().groupby(["theme", "place"]).size()  # doctest: +SKIP
        """
        codings = self.codings()
        segments = self.segments()
        flagged = codings[codings[s.GOOD_PRACTICE] & (codings[s.POLARITY] == s.ENABLER)] if not codings.empty else codings
        flagged = flagged.drop_duplicates(s.SEGMENT_KEY)[[s.SEGMENT_KEY, s.THEME, s.STATUS]] if not flagged.empty else (
            _empty([s.SEGMENT_KEY, s.THEME, s.STATUS]))
        flagged = flagged.assign(**{ORIGIN: "coder", s.INCLUDED: True, s.TITLE: None, s.NOTE: None, s.AUTHOR: None})
        curated = self.store.latest(s.PRACTICES, [s.SEGMENT_KEY])
        if not curated.empty:
            curated = curated.assign(**{ORIGIN: "curated", s.INCLUDED: curated[s.INCLUDED].astype(bool)})
            status = segments.set_index(s.SEGMENT_KEY)[s.STATUS] if not segments.empty else pd.Series(dtype=object)
            primary = segments.set_index(s.SEGMENT_KEY)[s.THEME] if not segments.empty else pd.Series(dtype=object)
            curated[s.THEME] = curated[s.THEME].where(curated[s.THEME].notna(), curated[s.SEGMENT_KEY].map(primary))
            curated[s.STATUS] = curated[s.SEGMENT_KEY].map(status)
            flagged = flagged[~flagged[s.SEGMENT_KEY].isin(curated[s.SEGMENT_KEY])]
            frame = pd.concat([flagged, curated[flagged.columns]], ignore_index=True)
        else:
            frame = flagged
        if frame.empty or segments.empty:
            return _empty(PRACTICE_COLUMNS)
        meta = segments[[s.SEGMENT_KEY, s.PLACE, s.ORGANISATION_TYPE, PARTICIPANT, REFERENCE, s.TEXT]]
        frame = frame.merge(meta, on=s.SEGMENT_KEY, how="inner")
        if not include_excluded:
            frame = frame[frame[s.INCLUDED].astype(bool)]
        frame[THEME_NAME] = frame[s.THEME].map(self.theme_names()).fillna(frame[s.THEME])
        order = {t: i for i, t in enumerate(self.theme_names())}
        frame = frame.assign(_o=frame[s.THEME].map(order).fillna(len(order))).sort_values(["_o", s.PLACE])
        return frame[PRACTICE_COLUMNS].reset_index(drop=True)

    def curate_practice(
        self,
        segment_key: str,
        included: bool,
        author: str,
        theme: str | None = None,
        title: str | None = None,
        note: str | None = None,
    ) -> int:
        """Put a segment in the good-practice library (or take it out), with a title and note.

        Examples
        --------
        >>> study.curate_practice("k1", True, "ana", title="Single IG contact")  # doctest: +SKIP
        """
        self.segment(segment_key)
        if theme is not None:
            self.codebook.theme(theme)
        self._need_author(author)
        return self.store.add_practice(segment_key, included=included, author=author.strip(), theme=theme,
                                       title=title or None, note=note or None)

    def add_summary(self, row_dimension: str, row_value: str, theme: str, text: str, author: str) -> int:
        """Save a researcher's summary of one framework-matrix cell (the latest one is shown).

        Examples
        --------
        >>> study.add_summary("place", "Brackenford", "trust_relationships", "Trust grew via the hub.", "ana")  # doctest: +SKIP
        """
        if row_dimension not in ROW_DIMENSIONS:
            raise ConfigError(f"A summary's row_dimension is one of {', '.join(ROW_DIMENSIONS)}, not '{row_dimension}'.")
        self.codebook.theme(theme)
        self._need_author(author)
        return self.store.add_summary(row_dimension, str(row_value), theme, str(text), author=author.strip())

    def summaries(self) -> pd.DataFrame:
        """The latest summary of every framework-matrix cell.

        Examples
        --------
        >>> study.summaries()[["row_value", "theme", "text"]]  # doctest: +SKIP
        """
        latest = self.store.latest(s.SUMMARIES, [s.ROW_DIMENSION, s.ROW_VALUE, s.THEME])
        return _empty(SUMMARY_COLUMNS) if latest.empty else latest[SUMMARY_COLUMNS]

    def add_comment(
        self,
        text: str,
        author: str,
        author_role: str,
        segment_key: str | None = None,
        theme: str | None = None,
        topic: int | None = None,
    ) -> int:
        """Save a comment (reviewers and researchers both comment) on a segment, theme or topic.

        Examples
        --------
        >>> study.add_comment("Is this about consent?", "bo", "reviewer", segment_key="k1")  # doctest: +SKIP
        """
        self._need_author(author)
        return self.store.add_comment(str(text), author=author.strip(), author_role=author_role,
                                      segment_key=segment_key, theme=theme, topic=topic)

    def comments(self, segment_key: str | None = None, theme: str | None = None) -> pd.DataFrame:
        """Comments, oldest first, optionally those on one segment or theme.

        Examples
        --------
        >>> study.comments(segment_key="k1")  # doctest: +SKIP
        """
        frame = self.store.table(s.COMMENTS)
        if frame.empty:
            return _empty(COMMENT_COLUMNS)
        if segment_key is not None:
            frame = frame[frame[s.SEGMENT_KEY] == segment_key]
        if theme is not None:
            frame = frame[frame[s.THEME] == theme]
        return frame.sort_values([s.CREATED_AT, s.COMMENT_ID])[COMMENT_COLUMNS].reset_index(drop=True)

    # ------------------------------------------------------------------ running
    def status(self) -> StudyStatus:
        """What the store holds, the latest runs, and what to run next.

        Examples
        --------
        >>> study.status().next_command  # doctest: +SKIP
        'toolkit topics interviews'
        """
        counts = self.store.counts()
        root = self._cli_path()
        status = StudyStatus(counts=counts, places=self.store.place_summary(), runs=self.store.runs_frame(limit=10))
        if counts.get(s.SOURCES, 0) == 0:
            status.next_step = "No sources yet: ingest the study's transcripts and surveys."
            status.next_command = f"toolkit ingest {root}"
        elif counts.get(s.SEGMENTS, 0) == 0:
            status.next_step = "Nothing is coded yet: segment and code the study."
            status.next_command = f"toolkit code {root}"
        elif counts.get(s.TOPICS, 0) == 0:
            status.next_step = "No topics yet: run the topic model."
            status.next_command = f"toolkit topics {root}"
        else:
            segments = self.segments()
            status.unreviewed = int((segments[REVIEW_STATUS] == UNREVIEWED).sum()) if not segments.empty else 0
            if status.unreviewed:
                status.next_step = f"{status.unreviewed} coded segments are not reviewed yet: review them."
        return status

    def run(self, stages: Sequence[str] | None = None, progress=None) -> Any:
        """Run the pipeline on this study (the only method that loads language models).

        ``stages`` None runs every stage (:func:`toolkit.pipeline.run_study`); otherwise
        a subset of :data:`toolkit.pipeline.STAGES`, run in pipeline order.

        Examples
        --------
        >>> report = study.run()  # doctest: +SKIP
        """
        from toolkit import pipeline

        self._memo.clear()
        return pipeline.run_study(self.config, store=self.store, stages=stages, progress=progress)

    def agreement(
        self, coder_a: str | None = None, coder_b: str | None = None, *, field: str = s.THEME,
        ignore_uncoded: bool = False,
    ):
        """Agreement between two coders on the segments both coded (default: the machine and the busiest human).

        Returns a :class:`toolkit.coding.CoderComparison`: ``.report`` (kappa, alpha, per theme,
        confusion) and ``.disagreements`` joined here with each segment's reference and text.

        Examples
        --------
        >>> comparison = study.agreement("machine", "gold")  # doctest: +SKIP
        >>> comparison.report.overall["kappa"]  # doctest: +SKIP
        """
        from toolkit.coding import compare_coders

        return compare_coders(self.store, coder_a, coder_b, field=field, ignore_uncoded=ignore_uncoded)

    def disagreements(self, coder_a: str, coder_b: str, *, field: str = s.THEME) -> pd.DataFrame:
        """Segments two coders labelled differently, with their reference and text.

        Examples
        --------
        >>> study.disagreements("machine", "gold").head()  # doctest: +SKIP
        """
        differ = self.agreement(coder_a, coder_b, field=field).disagreements
        meta = self.segments().set_index(s.SEGMENT_KEY)[[REFERENCE, s.TEXT]]
        return differ.join(meta, how="left")

    def copy(self, folder: str | Path) -> Study:
        """A working copy of the study in ``folder``: settings, raw files, store and topic model.

        The pseudonymisation key and the exports are left behind. The SQLite store is copied
        with SQLite's online backup, so a copy taken while someone is reviewing is consistent.
        Use it to try settings or add a second coder without touching the study itself.

        Examples
        --------
        >>> work = study.copy(tmp_path / "study")  # doctest: +SKIP
        >>> work.root != study.root  # doctest: +SKIP
        True
        """
        import shutil
        import sqlite3

        folder = Path(folder)
        if folder.exists() and any(folder.iterdir()):
            raise InputDataError(folder, "the folder is not empty", "copy the study into a new or empty folder")
        if Path(self.config.pseudonymisation.key_path).is_absolute():
            raise ConfigError(
                f"{self.config.config_path}: pseudonymisation.key_path is an absolute path, so a copy would write "
                "to the real key. Make it relative to the study folder before copying."
            )
        skip = {"store", "private", "exports"}
        shutil.copytree(self.root, folder, dirs_exist_ok=True,
                        ignore=lambda d, names: [n for n in names if Path(d) == self.root and n in skip])
        if not self.config.store.url:
            source = self.config.resolve(self.config.store.path)
            target = folder / source.relative_to(self.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
                a.backup(b)
            from toolkit.topics.stage import model_dir

            model = model_dir(self.config)
            if model.exists():
                shutil.copytree(model, folder / model.relative_to(self.root))
        return open_study(folder)

    def export(self, fmt: str, out: str | Path | None = None) -> list[Path]:
        """Write one export (xlsx, csv, parquet, qdpx, qdc, report); returns the files written.

        Examples
        --------
        >>> study.export("report", "findings.html")  # doctest: +SKIP
        [PosixPath('findings.html')]
        """
        from toolkit.export import export_study

        return export_study(self.config, self.store, fmt, out)

    # ------------------------------------------------------------------ helpers
    def _store_name(self) -> str:
        return self.config.store.path if not self.config.store.url else "project store"

    def _cli_path(self) -> str:
        try:
            return str(self.config.root.relative_to(Path.cwd()))
        except ValueError:
            return str(self.config.root)

    @staticmethod
    def _need_author(author: str) -> None:
        if not author or not str(author).strip():
            raise InputDataError("project store", "this needs the name of the person making it.",
                                 "Pass author='your name'.")


# --------------------------------------------------------------------------- pure functions on frames
def filter_quotes(
    segments: pd.DataFrame,
    codings: pd.DataFrame | None = None,
    *,
    place: str | Sequence[str] | None = None,
    organisation_type: str | Sequence[str] | None = None,
    role: str | Sequence[str] | None = None,
    theme: str | Sequence[str] | None = None,
    polarity: str | Sequence[str] | None = None,
    topic: int | Sequence[int] | None = None,
    source: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    search: str | None = None,
) -> pd.DataFrame:
    """Narrow a :meth:`Study.segments` frame in memory (what :meth:`Study.quotes` and the dashboard use).

    With ``codings`` (from :meth:`Study.codings`), ``theme`` and ``polarity`` match any of a
    segment's codings; without, only its primary coding. Empty filters are ignored.

    Examples
    --------
    >>> filter_quotes(study.segments(), study.codings(), theme="trust_relationships")  # doctest: +SKIP
    """
    frame = segments
    if frame.empty:
        return frame.copy()
    mask = pd.Series(True, index=frame.index)
    for column, wanted in ((s.PLACE, place), (s.ORGANISATION_TYPE, organisation_type), (s.ROLE, role),
                           (s.PATH, source)):
        values = _values(wanted)
        if values:
            mask &= frame[column].isin(values)
    themes, polarities = _values(theme), _values(polarity)
    if (themes or polarities) and codings is not None and not codings.empty:
        match = pd.Series(True, index=codings.index)
        if themes:
            match &= codings[s.THEME].isin(themes)
        if polarities:
            match &= codings[s.POLARITY].isin(polarities)
        mask &= frame[s.SEGMENT_KEY].isin(set(codings.loc[match, s.SEGMENT_KEY]))
    else:
        if themes:
            mask &= frame[s.THEME].isin(themes)
        if polarities:
            mask &= frame[s.POLARITY].isin(polarities)
    topics = _values(topic)
    if topics:
        mask &= frame[s.TOPIC].isin([int(t) for t in topics])
    statuses = _values(status)
    if statuses:
        review = [x for x in statuses if x in REVIEW_STATUSES]
        coding = [x for x in statuses if x not in REVIEW_STATUSES]
        if review:
            mask &= frame[REVIEW_STATUS].isin(review)
        if coding:
            mask &= frame[s.STATUS].isin(coding)
    if search and str(search).strip():
        mask &= frame[s.TEXT].str.contains(str(search).strip(), case=False, regex=False, na=False)
    return frame[mask.fillna(False)].reset_index(drop=True)


def matrix_cells(matrix: pd.DataFrame, value: str = "cell") -> pd.DataFrame:
    """A framework matrix (from :meth:`Study.framework_matrix`) as a wide table to show.

    ``value="cell"`` writes each cell as ``"3 people · 2 barrier / 1 enabler"``; any count
    column (``participants``, ``barrier``, ``enabler``, ``neutral``) gives numbers instead.
    Rows are the row values, columns the theme names.

    Examples
    --------
    >>> matrix_cells(study.framework_matrix(), "participants")  # doctest: +SKIP
    """
    if matrix.empty:
        return pd.DataFrame()
    rows = matrix.columns[0]
    frame = matrix.copy()
    if value == "cell":
        frame["_v"] = [
            f"{p} {'person' if p == 1 else 'people'} · {b} barrier / {e} enabler" if (p or b or e) else ""
            for p, b, e in zip(frame[PARTICIPANTS], frame[s.BARRIER], frame[s.ENABLER])
        ]
    else:
        frame["_v"] = frame[value]
    names = list(dict.fromkeys(frame[THEME_NAME]))
    wide = frame.pivot(index=rows, columns=THEME_NAME, values="_v")
    order = list(dict.fromkeys(frame[rows]))
    return wide.reindex(index=order, columns=names)


# --------------------------------------------------------------------------- resolving codings
# --------------------------------------------------------------------------- small helpers
def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _values(wanted: Any) -> list:
    if wanted is None:
        return []
    if isinstance(wanted, (str, int)):
        return [wanted]
    return [w for w in wanted if w is not None]


def _none(value: Any) -> Any:
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _json_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return parsed if isinstance(parsed, list) else [parsed]


def _clock(seconds: Any) -> str | None:
    value = _none(seconds)
    if value is None:
        return None
    total = int(float(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _reference(row: dict[str, Any]) -> str:
    """``BK01, Brackenford, Local authority (programme lead), interview 12:34`` (see report.quote_reference)."""
    from toolkit.export.report import quote_reference

    base = quote_reference(row)
    role = _none(row.get(s.ROLE))
    if role:
        base += f" ({role})"
    if row.get(SOURCE_KIND) == "survey":
        question = _none(row.get(s.QUESTION_TEXT))
        return base + (f", survey answer to \u201c{question}\u201d" if question else ", survey answer")
    clock = _clock(row.get(s.START_TIME))
    if clock:
        return base + f", interview {clock}"
    name = Path(str(row.get(s.PATH) or "")).name
    start, end = _none(row.get(s.START_CHAR)), _none(row.get(s.END_CHAR))
    where = f", characters {int(start)}-{int(end)}" if start is not None and end is not None else ""
    return base + (f", interview {name}{where}" if name else "")
