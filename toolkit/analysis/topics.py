"""Topics as a reader meets them: beside the codebook, candidate new themes, and what is distinctive of each place.

Every figure a person sees about topics is computed here (the dashboard, the CLI and the notebooks
call these functions through :class:`toolkit.api.Study`); the topics stage stores what the model
measured (keyphrases, affinities, evidence, stability) and these functions shape it for reading.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import check_option, empty, ensure, flag, json_list, label, none
from toolkit.analysis.columns import (
    DISTRIBUTION_BY,
    NO_VALUE,
    SEGMENT_KEYS,
    SEGMENTS_COL,
    SHARE,
    TOPIC_COLUMNS,
    UNCODED,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "PLACE_VIEW_COLUMNS",
    "candidate_themes",
    "distribution_table",
    "place_view",
    "relation_to_codebook",
    "topic_distribution",
    "topics_frame",
]

RELATION = "relation"
"""How a topic stands to the codebook, in words (:func:`relation_to_codebook`)."""
REASONS = "reasons"
STUDY_UNCODED_SHARE = "study_uncoded_share"
UNCODED_Z = "uncoded_z"
DISTINCTIVE_PLACES = "distinctive_places"
STABILITY_LABEL = "stability_label"
KIND = "kind"
ITEM = "item"
Z = "z"
SHARE_HERE = "share_here"
SHARE_ELSEWHERE = "share_elsewhere"
CANDIDATE_COLUMNS = [
    s.TOPIC, s.TOPIC_LABEL, s.SIZE, s.CANDIDATE_KIND, s.CANDIDATE_PARENT, REASONS, s.UNCODED_SHARE,
    STUDY_UNCODED_SHARE, UNCODED_Z, s.NEAREST_THEME, s.THEME_AFFINITY, DISTINCTIVE_PLACES, s.KEYWORDS,
    s.REPRESENTATIVE, s.STABILITY, STABILITY_LABEL,
]
"""One row per candidate new theme, with its evidence."""
PLACE_VIEW_COLUMNS = [s.PLACE, KIND, ITEM, s.TOPIC, Z, SEGMENTS_COL, SHARE_HERE, SHARE_ELSEWHERE, SEGMENT_KEYS]
"""One row per topic or keyphrase distinctive of a place (``kind``: ``topic`` or ``keyphrase``)."""
REASON_TEXT = {
    "mostly_uncoded": "the codebook leaves most of its segments uncoded ({uncoded:.0%}, against {study:.0%} in the "
                      "study; z = {z:.1f})",
    "far_from_every_theme": "no theme stands out for it (its nearest, {theme}, only {affinity:+.2f} standard "
                            "deviations from the study's average)",
}


def topics_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The ``topics`` table with lists and the evidence parsed, sorted by topic (outliers first).

    Topics fitted before the evidence was stored (an older store) read with those columns empty.
    """
    if table is None or table.empty:
        return empty(TOPIC_COLUMNS)
    frame = ensure(table.copy(), TOPIC_COLUMNS)
    for col in (s.KEYWORDS, s.REPRESENTATIVE):
        frame[col] = frame[col].map(json_list)
    frame[s.EVIDENCE] = frame[s.EVIDENCE].map(_json_dict)
    frame[s.CANDIDATE_NEW] = flag(frame[s.CANDIDATE_NEW])
    return frame.sort_values(s.TOPIC)[TOPIC_COLUMNS].reset_index(drop=True)


def _json_dict(value) -> dict:
    if isinstance(value, dict):
        return value
    if none(value) is None:
        return {}
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def relation_to_codebook(row, theme_names: dict[str, str] | None = None) -> str:
    """How one topic (a row of :func:`topics_frame`) stands to the codebook, in one sentence.

    Examples
    --------
    >>> relation_to_codebook({"topic": 3, "restates_theme": "legal_basis_consent", "candidate_new": False,
    ...     "evidence": {"adds": {"theme_share": 0.4, "other_topics": [{"topic": 5, "share": 0.3}]}}})
    'restates legal_basis_consent (holds 40% of its coded segments; the theme is also in topic 5)'
    """
    names = theme_names or {}
    get = (lambda k: row.get(k)) if isinstance(row, dict) else (lambda k: row[k] if k in row else None)
    if get(s.TOPIC) == s.OUTLIER_TOPIC:
        return "not a topic"
    evidence = get(s.EVIDENCE) or {}
    seeded = none(get(s.SEEDED_THEME))
    if seeded:
        return f"seeded from {names.get(seeded, seeded)}"
    restates = none(get(s.RESTATES_THEME))
    if restates:
        adds = evidence.get("adds") or {}
        others = [str(o["topic"]) for o in adds.get("other_topics", []) if o.get("share", 0) >= 0.1]
        where = f"; the theme is also in topic{'s' if len(others) > 1 else ''} {', '.join(others)}" if others else ""
        share = adds.get("theme_share")
        part = f"holds {share:.0%} of its coded segments" if isinstance(share, (int, float)) else "most segments coded so"
        return f"restates {names.get(restates, restates)} ({part}{where})"
    if bool(get(s.CANDIDATE_NEW)):
        kind = none(get(s.CANDIDATE_KIND))
        parent = none(get(s.CANDIDATE_PARENT))
        if kind == "sub_theme" and parent:
            return f"candidate sub-theme of {names.get(parent, parent)}"
        return "candidate new theme"
    nearest = none(get(s.NEAREST_THEME))
    return f"near {names.get(nearest, nearest)}" if nearest else ""


def candidate_themes(topics: pd.DataFrame, theme_names: dict[str, str] | None = None) -> pd.DataFrame:
    """The candidate new themes among :func:`topics_frame`'s topics, each with its evidence.

    ``reasons`` says in words why the topic is a candidate (relative to this study: its uncoded share
    against the study's, its affinity to its nearest theme); ``distinctive_places`` lists the places
    it is over-represented in (log-odds z >= 1.96); ``representative`` holds the passages' keys.
    """
    from toolkit.topics.stability import stability_label

    if topics is None or topics.empty:
        return empty(CANDIDATE_COLUMNS)
    names = theme_names or {}
    rows = []
    for row in topics[topics[s.CANDIDATE_NEW] & (topics[s.TOPIC] != s.OUTLIER_TOPIC)].to_dict("records"):
        evidence = row.get(s.EVIDENCE) or {}
        nearest = none(row.get(s.NEAREST_THEME))
        reasons = [REASON_TEXT.get(r, r).format(uncoded=evidence.get("uncoded_share", 0.0),
                                               study=evidence.get("study_uncoded_share", 0.0),
                                               z=evidence.get("uncoded_z", 0.0),
                                               theme=names.get(nearest, nearest), affinity=none(row.get(s.THEME_AFFINITY)) or 0.0)
                   for r in evidence.get("reasons", [])]
        stability = none(row.get(s.STABILITY))
        rows.append({
            s.TOPIC: int(row[s.TOPIC]), s.TOPIC_LABEL: row[s.TOPIC_LABEL], s.SIZE: int(row[s.SIZE]),
            s.CANDIDATE_KIND: none(row.get(s.CANDIDATE_KIND)) or "theme", s.CANDIDATE_PARENT: none(row.get(s.CANDIDATE_PARENT)),
            REASONS: reasons, s.UNCODED_SHARE: none(row.get(s.UNCODED_SHARE)),
            STUDY_UNCODED_SHARE: evidence.get("study_uncoded_share"), UNCODED_Z: evidence.get("uncoded_z"),
            s.NEAREST_THEME: nearest, s.THEME_AFFINITY: none(row.get(s.THEME_AFFINITY)),
            DISTINCTIVE_PLACES: [p["place"] for p in evidence.get("distinctive_places", [])],
            s.KEYWORDS: row[s.KEYWORDS], s.REPRESENTATIVE: row[s.REPRESENTATIVE],
            s.STABILITY: stability, STABILITY_LABEL: stability_label(stability),
        })
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS) if rows else empty(CANDIDATE_COLUMNS)


def place_view(segments: pd.DataFrame, assigned: pd.DataFrame, topics: pd.DataFrame, *, by: str = s.PLACE,
               z_min: float = 1.96, min_count: int = 2, top: int = 15, passages: int = 3) -> pd.DataFrame:
    """What is distinctive of each place (or organisation type, role): topics and keyphrases over-represented there.

    Log-odds ratios with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008; see
    :mod:`toolkit.topics.places`): each place against all the others, over the topics its segments
    fall in and over the keyphrases its segments hold. Only items with ``z >= z_min`` and at least
    ``min_count`` segments there are kept, ``top`` of each kind per place, best first, each with up
    to ``passages`` segment keys that show it (the most central to the topic first). A keyphrase
    inside one already listed for the place ("worker" after "key worker"), or holding one, is left
    out. ``share_here`` and ``share_elsewhere`` are shares of segments (of the place's, of the others').

    Parameters
    ----------
    segments : :func:`toolkit.analysis.segments.evidence_segments` (``place`` and the other dimensions).
    assigned : the ``segment_topics`` table (each segment's topic, probability and keyphrases).
    topics : :func:`topics_frame` (topic labels).
    """
    from toolkit.topics.places import log_odds_z

    check_option(by, DISTRIBUTION_BY, "place_view(by=...) is")
    if segments is None or segments.empty or assigned is None or assigned.empty or by not in segments:
        return empty(PLACE_VIEW_COLUMNS)
    assigned = ensure(assigned.copy(), [s.PHRASES, s.PROBABILITY])
    frame = segments[[s.SEGMENT_KEY, by]].merge(
        assigned[[s.SEGMENT_KEY, s.TOPIC, s.PROBABILITY, s.PHRASES]], on=s.SEGMENT_KEY, how="inner")
    frame = frame[frame[by].notna()]
    groups = sorted(frame[by].astype(str).unique().tolist())
    if len(groups) < 2:
        return empty(PLACE_VIEW_COLUMNS)
    frame = frame.assign(**{by: frame[by].astype(str), s.TOPIC: frame[s.TOPIC].astype(int),
                            "_p": pd.to_numeric(frame[s.PROBABILITY], errors="coerce").fillna(0.0),
                            "_phrases": frame[s.PHRASES].map(lambda v: sorted(set(json_list(v))))})
    frame = frame.sort_values("_p", ascending=False, kind="stable")
    labels = dict(zip(topics[s.TOPIC], topics[s.TOPIC_LABEL])) if topics is not None and not topics.empty else {}
    rows = []
    in_topic = frame[frame[s.TOPIC] != s.OUTLIER_TOPIC]
    topic_ids = sorted(in_topic[s.TOPIC].unique().tolist())
    sizes = frame.groupby(by).size().reindex(groups, fill_value=0).to_numpy()
    if topic_ids:
        counts = pd.crosstab(in_topic[by], in_topic[s.TOPIC]).reindex(index=groups, columns=topic_ids, fill_value=0)
        rows += _distinctive_rows(counts, log_odds_z(counts.to_numpy()), "topic", z_min, min_count, top,
                                  lambda g, t: in_topic[(in_topic[by] == g) & (in_topic[s.TOPIC] == t)][s.SEGMENT_KEY],
                                  lambda t: labels.get(t, f"Topic {t}"), sizes, passages)
    exploded = frame[[by, s.SEGMENT_KEY, "_phrases"]].explode("_phrases").dropna(subset=["_phrases"])
    if not exploded.empty:
        phrase_counts = pd.crosstab(exploded[by], exploded["_phrases"]).reindex(index=groups, fill_value=0)
        keep = phrase_counts.columns[phrase_counts.sum(axis=0) >= min_count]
        phrase_counts = phrase_counts[keep]
        if phrase_counts.shape[1]:
            rows += _distinctive_rows(phrase_counts, log_odds_z(phrase_counts.to_numpy()), "keyphrase", z_min,
                                      min_count, top,
                                      lambda g, p: exploded[(exploded[by] == g) & (exploded["_phrases"] == p)][s.SEGMENT_KEY],
                                      lambda p: p, sizes, passages)
    if not rows:
        return empty([by if c == s.PLACE else c for c in PLACE_VIEW_COLUMNS])
    out = pd.DataFrame(rows)
    out = out.rename(columns={s.PLACE: by}) if by != s.PLACE else out
    return out.sort_values([by, KIND, Z], ascending=[True, False, False], kind="stable").reset_index(drop=True)


def _distinctive_rows(counts: pd.DataFrame, z: np.ndarray, kind: str, z_min: float, min_count: int, top: int,
                      members, name, sizes: np.ndarray, passages: int) -> list[dict]:
    from toolkit.topics.phrases import contains_run

    rows = []
    all_items = counts.sum(axis=0).to_numpy()
    total = float(sizes.sum()) or 1.0
    for g, group in enumerate(counts.index):
        shown: list[list[str]] = []
        for j in np.argsort(-z[g], kind="stable"):
            if len(shown) >= top or z[g, j] < z_min:
                break
            if counts.iat[g, j] < min_count:
                continue
            item = counts.columns[j]
            if kind == "keyphrase":
                words = str(item).lower().split()
                if any(contains_run(words, other) or contains_run(other, words) for other in shown):
                    continue
                shown.append(words)
            else:
                shown.append([str(item)])
            here = counts.iat[g, j] / (sizes[g] or 1)
            elsewhere = (all_items[j] - counts.iat[g, j]) / ((total - sizes[g]) or 1)
            rows.append({s.PLACE: group, KIND: kind, ITEM: name(item), s.TOPIC: int(item) if kind == "topic" else None,
                         Z: round(float(z[g, j]), 2), SEGMENTS_COL: int(counts.iat[g, j]),
                         SHARE_HERE: round(float(here), 4), SHARE_ELSEWHERE: round(float(elsewhere), 4),
                         SEGMENT_KEYS: members(group, item).head(passages).tolist()})
    return rows


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
