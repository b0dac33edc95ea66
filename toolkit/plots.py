"""Plotly figures built from the frames of :mod:`toolkit.api`.

Plain functions, ``fig = plot_xxx(frame)``, that never read the store. Colours come
from the Okabe–Ito palette, which stays distinguishable with the common kinds of
colour blindness; barrier and enabler are always the same two colours
(:data:`POLARITY_COLOURS`), here, in the dashboard and in the findings report.
Every figure's hover text names its numbers. An empty frame gives a figure that
says there is nothing to show, never an error.

>>> from toolkit.api import open_study
>>> from toolkit.plots import plot_polarity_bars
>>> study = open_study("interviews")  # doctest: +SKIP
>>> plot_polarity_bars(study.theme_counts(by="place")).show()  # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from toolkit import schema as s

__all__ = [
    "OKABE_ITO",
    "POLARITY_COLOURS",
    "plot_cooccurrence",
    "plot_likert",
    "plot_polarity_bars",
    "plot_theme_heatmap",
    "plot_topic_distribution",
    "plot_topic_map",
]

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
"""Okabe & Ito (2008), the colour-blind-safe qualitative palette."""
QUALITATIVE = [OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "reddish_purple", "sky_blue", "vermillion",
                                      "yellow", "black")]
GREY = "#BBBBBB"
POLARITY_COLOURS = {s.BARRIER: OKABE_ITO["vermillion"], s.ENABLER: OKABE_ITO["blue"], s.NEUTRAL: GREY}
"""Barrier vermillion, enabler blue, neutral grey: the same everywhere (the report's survey colours too)."""
LIKERT_COLOURS = {"Disagree": OKABE_ITO["vermillion"], "Neutral": GREY, "Agree": OKABE_ITO["blue"]}
SEQUENTIAL = [[0.0, "#F7FBFF"], [0.5, "#6BAED6"], [1.0, "#08306B"]]
"""Light to dark blue for counts (reads in greyscale too)."""
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 13}

_THEME_NAME = "theme_name"
_SEGMENTS = "segments"
_PARTICIPANTS = "participants"
_INTERVIEWEES = "interviewees"
_RESPONDENTS = "survey_respondents"
_SHARE = "share"


def _wrap(text: object, width: int = 28) -> str:
    return "<br>".join(textwrap.wrap(str(text), width)) or str(text)


def _short(text: object, width: int = 18) -> str:
    """``text`` cut at a word boundary to at most ``width`` characters, with an ellipsis when cut."""
    return textwrap.shorten(str(text), width, placeholder="…")


def _top_labels(fig: go.Figure, labels: list[str], extra: int = 0) -> go.Figure:
    """Room above the plot for column labels shown on top (``side="top"``) under the title."""
    lines = max((str(label).count("<br>") + 1 for label in labels), default=1)
    fig.update_layout(margin={"t": 60 + 16 * lines + extra}, title={"y": 0.99, "yanchor": "top"})
    return fig


def _symmetric_ticks(limit: float, per_side: int = 3) -> list[float]:
    """Round whole-number ticks from ``-limit`` to ``limit`` (e.g. -40, -20, 0, 20, 40), about ``per_side`` a side."""
    if limit <= 0:
        return [0]
    raw = limit / per_side
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    step = max(1, max(m * magnitude for m in (1, 2, 5) if m * magnitude <= raw))  # counts: whole numbers
    n = int(limit // step)
    return [k * step for k in range(-n, n + 1)]


def _layout(fig: go.Figure, title: str, height: int | None = None) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0}, font=FONT, template="plotly_white",
                      margin={"l": 10, "r": 10, "t": 60, "b": 10}, legend_title_text="")
    if height:
        fig.update_layout(height=height)
    return fig


def empty_figure(message: str = "Nothing to show yet.") -> go.Figure:
    """A blank figure that says why it is blank.

    Examples
    --------
    >>> empty_figure("No topics yet").layout.annotations[0].text
    'No topics yet'
    """
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", height=250)


def plot_polarity_bars(counts: pd.DataFrame, by: str = s.PLACE, value: str = _SEGMENTS) -> go.Figure:
    """Barrier vs enabler bars per theme, one panel per place (or other ``by``): barriers left, enablers right.

    ``counts`` is :meth:`toolkit.api.Study.theme_counts`; ``value`` is ``segments`` or ``participants``.

    Examples
    --------
    >>> fig = plot_polarity_bars(study.theme_counts(by="place"))  # doctest: +SKIP
    """
    if counts is None or counts.empty:
        return empty_figure("No coded segments yet.")
    from plotly.subplots import make_subplots

    frame = counts[counts[s.POLARITY].isin([s.BARRIER, s.ENABLER])]
    if frame.empty:
        return empty_figure("No barrier or enabler codings yet.")
    groups = list(dict.fromkeys(frame[by].astype(str)))
    themes = list(dict.fromkeys(counts[_THEME_NAME].astype(str)))[::-1]
    fig = make_subplots(rows=1, cols=len(groups), shared_yaxes=True, subplot_titles=groups,
                        horizontal_spacing=0.02)
    for i, group in enumerate(groups, start=1):
        here = frame[frame[by].astype(str) == group]
        for polarity in (s.BARRIER, s.ENABLER):
            rows = here[here[s.POLARITY] == polarity].set_index(_THEME_NAME)[value].reindex(themes).fillna(0)
            sign = -1 if polarity == s.BARRIER else 1
            fig.add_trace(
                go.Bar(
                    x=sign * rows.values, y=[_wrap(t, 40) for t in themes], orientation="h", name=polarity.capitalize(),
                    marker_color=POLARITY_COLOURS[polarity], legendgroup=polarity, showlegend=i == 1,
                    customdata=list(zip(rows.values.astype(int), [group] * len(rows), themes)),
                    hovertemplate=f"%{{customdata[2]}}<br>%{{customdata[1]}}: %{{customdata[0]}} {polarity} "
                    f"{value}<extra></extra>",
                ),
                row=1, col=i,
            )
    # One x scale for every panel (bars compare across places), symmetric around zero, ticks without signs.
    limit = max(float(frame[value].abs().max()), 1.0)
    ticks = _symmetric_ticks(limit, per_side=2)
    fig.update_layout(barmode="relative", bargap=0.25)
    fig.update_xaxes(zeroline=True, zerolinecolor="#444", range=[-limit * 1.08, limit * 1.08], tickvals=ticks,
                     ticktext=[f"{abs(v):g}" for v in ticks], title_text=None)
    # The same fixed range on every panel, not `matches`: with shared y axes, plotly.js then drew only part of y.
    fig.add_annotation(text=f"← barrier {value} · enabler {value} →", x=0.5, y=0, xref="paper", yref="paper",
                       yanchor="top", yshift=-26, showarrow=False, font={"size": 13})
    _layout(fig, f"Barriers and enablers by {by.replace('_', ' ')}", height=max(350, 34 * len(themes) + 150))
    fig.update_layout(margin={"b": 60})  # room for the one axis title under the panels
    return fig


def plot_theme_heatmap(matrix: pd.DataFrame, value: str = _PARTICIPANTS) -> go.Figure:
    """Heat map of a framework matrix (:meth:`toolkit.api.Study.framework_matrix`): themes × row values.

    Themes are the heat map's rows (their names read across) and the places (or other row
    values) its columns.

    ``value`` is ``participants``, ``interviewees``, ``survey_respondents``, ``barrier``, ``enabler``
    or ``neutral``; the hover text gives the people (interviewees and survey respondents apart) and
    the segments of the cell.

    Examples
    --------
    >>> fig = plot_theme_heatmap(study.framework_matrix(rows="place"), "participants")  # doctest: +SKIP
    """
    if matrix is None or matrix.empty:
        return empty_figure("No framework matrix yet: code the study first.")
    rows = matrix.columns[0]
    order_rows = list(dict.fromkeys(matrix[rows].astype(str)))
    order_themes = list(dict.fromkeys(matrix[_THEME_NAME].astype(str)))

    def wide(col: str) -> pd.DataFrame:
        return matrix.pivot(index=rows, columns=_THEME_NAME, values=col).reindex(index=order_rows, columns=order_themes)

    z = wide(value).fillna(0).T  # themes as rows: their long names read across, the few row values fit on top
    people = [c for c in (_INTERVIEWEES, _RESPONDENTS) if c in matrix.columns] or [_PARTICIPANTS]
    counts = [*people, s.BARRIER, s.ENABLER, s.NEUTRAL]
    extra = [wide(c).fillna(0).astype(int).T.values for c in counts]
    custom = [[[extra[k][i][j] for k in range(len(counts))] + [order_themes[i], order_rows[j]]
               for j in range(len(order_rows))] for i in range(len(order_themes))]
    n = len(counts)
    lines = "".join(f"<br>{c.replace('_', ' ')}: %{{customdata[{k}]}}" for k, c in enumerate(people))
    lines += "".join(f"<br>{p} segments: %{{customdata[{len(people) + k}]}}"
                     for k, p in enumerate((s.BARRIER, s.ENABLER, s.NEUTRAL)))
    fig = go.Figure(
        go.Heatmap(
            z=z.values, x=(columns := [_wrap(r, 13) for r in order_rows]), y=[_wrap(t, 45) for t in order_themes],
            colorscale=SEQUENTIAL, text=z.values.astype(int), texttemplate="%{text}", customdata=custom,
            colorbar={"title": value.replace("_", " ")}, xgap=2, ygap=2,
            hovertemplate=f"%{{customdata[{n + 1}]}} · %{{customdata[{n}]}}{lines}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top", tickangle=0)
    _layout(fig, f"{value.replace('_', ' ').capitalize()} per theme and {rows.replace('_', ' ')}",
            height=max(300, 44 * len(order_themes) + 160))
    return _top_labels(fig, columns)


def plot_cooccurrence(matrix: pd.DataFrame, names: dict[str, str] | None = None, unit: str = "segments") -> go.Figure:
    """Heat map of theme co-occurrence (:meth:`toolkit.api.Study.cooccurrence`).

    Examples
    --------
    >>> fig = plot_cooccurrence(study.cooccurrence(), study.theme_names())  # doctest: +SKIP
    """
    if matrix is None or matrix.empty:
        return empty_figure("No theme co-occurrence yet: code the study first.")
    labels = [(names or {}).get(t, t) for t in matrix.index]
    custom = [[[a, b] for b in labels] for a in labels]
    fig = go.Figure(
        go.Heatmap(
            z=matrix.values, x=[_short(t, 28) for t in labels], y=[_wrap(t, 45) for t in labels],
            colorscale=SEQUENTIAL, text=matrix.values, texttemplate="%{text}", colorbar={"title": unit},
            customdata=custom, xgap=1, ygap=1,
            hovertemplate=f"%{{customdata[0]}}<br>and %{{customdata[1]}}<br>%{{z}} {unit} coded with both<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-35)
    return _layout(fig, f"Themes coded together ({unit})", height=max(400, 40 * len(labels) + 230))


def plot_likert(percentages: pd.DataFrame, width: int = 60) -> go.Figure:
    """Diverging stacked bars of agreement per question and place: disagree left, agree right, neutral split.

    ``percentages`` is :meth:`toolkit.api.Study.likert_percentages` (Disagree, Neutral, Agree
    in %, and n per question and place).

    Examples
    --------
    >>> fig = plot_likert(study.likert_percentages())  # doctest: +SKIP
    """
    if percentages is not None and "n" in percentages.columns:
        percentages = percentages[percentages["n"] > 0]  # a place whose every answer is off the scale has no bar
    if percentages is None or percentages.empty:
        return empty_figure("No survey agreement-scale answers in this study.")
    frame = percentages.copy()
    frame["_y"] = [f"{_wrap(q, width)}<br><b>{p}</b>" for q, p in zip(frame[s.QUESTION_TEXT], frame[s.PLACE])]
    frame = frame.iloc[::-1]
    fig = go.Figure()
    neutral_half = frame["Neutral"].fillna(0) / 2
    # relative bars stack outwards from zero in trace order: neutral halves first, then the ends
    parts = (
        ("Neutral", -neutral_half, False),
        ("Disagree", -frame["Disagree"].fillna(0), True),
        ("Neutral", neutral_half, True),
        ("Agree", frame["Agree"].fillna(0), True),
    )
    for label, values, legend in parts:
        custom = list(zip(frame[label].fillna(0).round(0).astype(int), frame["n"].astype(int), frame[s.PLACE]))
        fig.add_trace(
            go.Bar(
                y=frame["_y"], x=values, orientation="h", name=label, marker_color=LIKERT_COLOURS[label],
                showlegend=legend, legendgroup=label, customdata=custom,
                hovertemplate=f"%{{customdata[2]}}: %{{customdata[0]}}% {label.lower()} (n=%{{customdata[1]}})"
                "<extra></extra>",
            )
        )
    fig.update_layout(barmode="relative", bargap=0.3, legend={"orientation": "h", "y": -0.08, "traceorder": "normal"})
    fig.update_xaxes(range=[-100, 100], tickvals=[-100, -50, 0, 50, 100], ticktext=["100%", "50%", "0", "50%", "100%"],
                     zeroline=True, zerolinecolor="#444", title_text="← disagree · % of answers · agree →")
    return _layout(fig, "Survey agreement by place", height=max(350, 48 * len(frame) + 150))


def plot_topic_map(topics: pd.DataFrame, labelled: int = 10) -> go.Figure:
    """Bubble map of topics (:meth:`toolkit.api.Study.topics`): position x, y; area by size.

    Candidate new themes (far from every codebook theme) are orange diamonds; the others blue
    circles; outliers (-1) are left off the map. Only the ``labelled`` largest topics and the
    candidate new themes carry a label on the map; every bubble names itself on hover.

    Examples
    --------
    >>> fig = plot_topic_map(study.topics())  # doctest: +SKIP
    """
    if topics is None or topics.empty:
        return empty_figure("No topics yet: run the topics stage.")
    frame = topics[(topics[s.TOPIC] != s.OUTLIER_TOPIC) & topics[s.MAP_X].notna() & topics[s.MAP_Y].notna()]
    if frame.empty:
        return empty_figure("No topic has a map position yet.")
    largest = _labelled_topics(frame, labelled)
    fig = go.Figure()
    biggest = max(float(frame[s.SIZE].max()), 1.0)
    for candidate, group in frame.groupby(frame[s.CANDIDATE_NEW].astype(bool)):
        keywords = [", ".join(map(str, k[:6])) if isinstance(k, list) else "" for k in group[s.KEYWORDS]]
        similarity = pd.to_numeric(group[s.THEME_SIMILARITY], errors="coerce").fillna(0).round(2)
        text = [_wrap(_short(label, 36), 18) if topic in largest else ""
                for topic, label in zip(group[s.TOPIC], group[s.TOPIC_LABEL])]
        fig.add_trace(
            go.Scatter(
                x=group[s.MAP_X], y=group[s.MAP_Y], mode="markers+text", text=text,
                textposition="top center", textfont={"size": 11, "color": "#9A5B00" if candidate else "#333"},
                name="Candidate new theme" if candidate else "Near a codebook theme",
                marker={"size": group[s.SIZE].astype(float), "sizemode": "area", "sizeref": 2.0 * biggest / 60**2,
                        "sizemin": 10 if candidate else 6,
                        "color": OKABE_ITO["orange"] if candidate else OKABE_ITO["blue"],
                        "symbol": "diamond" if candidate else "circle",
                        "line": {"width": 2 if candidate else 1, "color": "#000" if candidate else "#333"},
                        "opacity": 0.95 if candidate else 0.7},
                customdata=list(zip(group[s.TOPIC], group[s.SIZE], keywords, group[s.NEAREST_THEME].fillna("-"),
                                    similarity, group[s.TOPIC_LABEL])),
                hovertemplate="Topic %{customdata[0]}: %{customdata[5]}<br>%{customdata[1]} segments<br>keywords: "
                "%{customdata[2]}<br>nearest theme: %{customdata[3]} (similarity %{customdata[4]})<extra></extra>",
            )
        )
    def padded(values: pd.Series, low: float, high: float) -> list[float]:  # room for the labels and big bubbles
        lo, hi = float(values.min()), float(values.max())
        span = (hi - lo) or 1.0
        return [lo - low * span, hi + high * span]

    fig.update_xaxes(visible=False, range=padded(frame[s.MAP_X], 0.08, 0.08))
    fig.update_yaxes(visible=False, range=padded(frame[s.MAP_Y], 0.08, 0.16))
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    title = "Topic map (closer topics are more alike; bubble area = segments)"
    if len(frame) > len(largest):
        title += "<br><sup>Labels on the candidate new themes and the largest topics that have room; "\
                 "hover for the others</sup>"
    return _layout(fig, title, height=600)


def _labelled_topics(frame: pd.DataFrame, most: int, gap: tuple[float, float] = (0.16, 0.2)) -> set:
    """Topics to label on the map: every candidate new theme, then the largest topics, skipping any within
    ``gap`` (a share of the map's width, height) of one already labelled; at most ``most`` besides candidates."""
    x, y = frame[s.MAP_X].astype(float), frame[s.MAP_Y].astype(float)
    x = (x - x.min()) / ((x.max() - x.min()) or 1.0)
    y = (y - y.min()) / ((y.max() - y.min()) or 1.0)
    order = frame.assign(_x=x, _y=y, _c=frame[s.CANDIDATE_NEW].astype(bool)).sort_values(
        ["_c", s.SIZE], ascending=False)
    placed: list[tuple[float, float]] = []
    chosen: set = set()
    others = 0
    markers = list(zip(order["_x"], order["_y"]))
    for topic, cx, cy, candidate in zip(order[s.TOPIC], order["_x"], order["_y"], order["_c"]):
        if not candidate and others >= most:
            break
        crowded = any(abs(cx - px) < gap[0] and abs(cy - py) < gap[1] for px, py in placed) or any(
            abs(cx - mx) < gap[0] / 2 and 0 < my - cy < gap[1] for mx, my in markers)  # another bubble under the label
        if not candidate and crowded:
            continue
        placed.append((cx, cy))
        chosen.add(topic)
        others += not candidate
    return chosen


def plot_topic_distribution(distribution: pd.DataFrame, by: str = s.PLACE,
                            candidates: Iterable[int] = ()) -> go.Figure:
    """Heat map of topics × places (or other ``by`` values): each topic's share of the place's segments, in %.

    Each column adds up to 100 %. ``distribution`` is :meth:`toolkit.api.Study.topic_distribution`;
    topics in ``candidates`` (candidate new themes) are marked ◆ in their label. Outliers come last.

    Examples
    --------
    >>> fig = plot_topic_distribution(study.topic_distribution(by="place"))  # doctest: +SKIP
    """
    if distribution is None or distribution.empty:
        return empty_figure("No topics yet: run the topics stage.")
    marked = {int(c) for c in candidates}
    topics = distribution[[s.TOPIC, s.TOPIC_LABEL]].drop_duplicates(s.TOPIC)
    topics = topics.assign(_last=topics[s.TOPIC] == s.OUTLIER_TOPIC).sort_values(["_last", s.TOPIC])
    order = list(topics[s.TOPIC])
    labels = dict(zip(topics[s.TOPIC], topics[s.TOPIC_LABEL].astype(str)))
    columns = list(dict.fromkeys(distribution[by].astype(str)))
    frame = distribution.assign(**{by: distribution[by].astype(str)})
    share = frame.pivot_table(index=s.TOPIC, columns=by, values=_SHARE, aggfunc="sum").reindex(
        index=order, columns=columns).fillna(0) * 100
    counts = frame.pivot_table(index=s.TOPIC, columns=by, values=_SEGMENTS, aggfunc="sum").reindex(
        index=order, columns=columns).fillna(0).astype(int)
    names = [("◆ " if t in marked else "") + f"{t}: {_short(labels[t], 40)}" for t in order]
    custom = [[[counts.iat[i, j], labels[t], columns[j]] for j in range(len(columns))] for i, t in enumerate(order)]
    fig = go.Figure(
        go.Heatmap(
            z=share.values, x=(x_labels := [_wrap(c, 13) for c in columns]), y=names, colorscale=SEQUENTIAL, zmin=0,
            text=share.values, texttemplate="%{text:.0f}%", customdata=custom, xgap=2, ygap=1,
            colorbar={"title": "% of the<br>segments"},
            hovertemplate="%{customdata[2]} · %{customdata[1]}<br>%{customdata[0]} segments "
            "(%{z:.1f}% of the segments with a topic)<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", tickfont={"size": 12})
    fig.update_xaxes(side="top", tickangle=0)
    title = f"Topics by {by.replace('_', ' ')} (% of each column's segments)"
    if marked:
        title += "<br><sup>◆ candidate new theme</sup>"
    _layout(fig, title, height=max(300, 24 * len(order) + 170))
    return _top_labels(fig, x_labels, extra=20 if marked else 0)
