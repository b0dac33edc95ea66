"""Topics as a reader meets them, and how each place's (or polarity's) segments spread over them."""

from __future__ import annotations

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import check_option, empty, flag, json_list, label
from toolkit.analysis.columns import (
    DISTRIBUTION_BY,
    NO_VALUE,
    SEGMENT_KEYS,
    SEGMENTS_COL,
    SHARE,
    TOPIC_COLUMNS,
    UNCODED,
)

__all__ = ["distribution_table", "topic_distribution", "topics_frame"]


def topics_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The ``topics`` table with ``keywords`` and ``representative`` as lists, sorted by topic (outliers first)."""
    if table is None or table.empty:
        return empty(TOPIC_COLUMNS)
    frame = table.copy()
    for col in (s.KEYWORDS, s.REPRESENTATIVE):
        frame[col] = frame[col].map(json_list)
    frame[s.CANDIDATE_NEW] = flag(frame[s.CANDIDATE_NEW])
    return frame.sort_values(s.TOPIC)[TOPIC_COLUMNS].reset_index(drop=True)


def topic_distribution(segments: pd.DataFrame, *, by: str = s.PLACE) -> pd.DataFrame:
    """Segments per ``by`` value and topic, with each topic's share of the ``by`` value's segments.

    ``segments`` is :func:`toolkit.analysis.segments.evidence_segments`; ``by`` is place,
    organisation_type, role or polarity (the primary coding's; ``uncoded`` where there is none).
    Segments without a topic are left out. Columns: ``<by>``, ``topic``, ``topic_label``,
    ``segments``, ``share``, ``segment_keys``.

    Examples
    --------
    >>> topic_distribution(study.segments(), by="polarity").head()  # doctest: +SKIP
    """
    check_option(by, DISTRIBUTION_BY, "topic_distribution(by=...) is")
    columns = [by, s.TOPIC, s.TOPIC_LABEL, SEGMENTS_COL, SHARE, SEGMENT_KEYS]
    if segments.empty:
        return empty(columns)
    segments = segments[segments[s.TOPIC].notna()]
    if segments.empty:
        return empty(columns)
    missing = UNCODED if by == s.POLARITY else NO_VALUE
    segments = segments.assign(**{by: label(segments[by], missing), s.TOPIC: segments[s.TOPIC].astype(int)})
    group = segments.groupby([by, s.TOPIC, s.TOPIC_LABEL])
    frame = pd.DataFrame({SEGMENTS_COL: group.size(), SEGMENT_KEYS: group[s.SEGMENT_KEY].agg(list)}).reset_index()
    frame[SHARE] = frame[SEGMENTS_COL] / frame.groupby(by)[SEGMENTS_COL].transform("sum")
    return frame.sort_values([by, s.TOPIC]).reset_index(drop=True)[columns]


def distribution_table(distribution: pd.DataFrame, *, by: str, share: bool = False) -> pd.DataFrame:
    """:func:`topic_distribution` as a table to print: one row per topic (``"3: label"``), one column per ``by`` value.

    ``share=True`` gives each column's proportions instead of counts.
    """
    if distribution.empty:
        return pd.DataFrame()
    frame = distribution.assign(_row=[f"{t}: {lab}" for t, lab in zip(distribution[s.TOPIC],
                                                                      distribution[s.TOPIC_LABEL])])
    table = frame.pivot_table(index=[s.TOPIC, "_row"], columns=by, values=SHARE if share else SEGMENTS_COL,
                              aggfunc="sum", fill_value=0)
    table.index = table.index.get_level_values("_row")
    table.index.name = s.TOPIC
    table.columns.name = by
    return table.round(4) if share else table.astype(int)
