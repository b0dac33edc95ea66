"""Plotly figures built from the frames of :mod:`toolkit.api`.

Plain functions, ``fig = plot_xxx(frame)``, that never read the store. Colours come
from the Okabe–Ito palette, which stays distinguishable with the common kinds of
colour blindness; barrier and enabler are always the same two colours
(:data:`POLARITY_COLOURS`), here, in the dashboard and in the findings report.
Every figure's hover text names its numbers. An empty frame gives a figure that
says there is nothing to show, never an error.

>>> from toolkit.api import open_study
>>> from toolkit.plots import plot_polarity_bars
>>> study = open_study()  # doctest: +SKIP
>>> plot_polarity_bars(study.theme_counts("place")).show()  # doctest: +SKIP
"""

from __future__ import annotations

import textwrap

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
_SHARE = "share"


def _wrap(text: object, width: int = 28) -> str:
    return "<br>".join(textwrap.wrap(str(text), width)) or str(text)


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
    >>> fig = plot_polarity_bars(study.theme_counts("place"))  # doctest: +SKIP
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
    fig.update_layout(barmode="relative", bargap=0.25)
    fig.update_xaxes(zeroline=True, zerolinecolor="#444", tickformat="d", title_text=f"← barrier · {value} · enabler →")
    return _layout(fig, f"Barriers and enablers by {by.replace('_', ' ')}", height=max(350, 34 * len(themes) + 120))


def plot_theme_heatmap(matrix: pd.DataFrame, value: str = _PARTICIPANTS) -> go.Figure:
    """Heat map of a framework matrix (:meth:`toolkit.api.Study.framework_matrix`): rows × themes.

    ``value`` is ``participants``, ``barrier``, ``enabler`` or ``neutral``; the hover text
    gives all of them for the cell.

    Examples
    --------
    >>> fig = plot_theme_heatmap(study.framework_matrix("place"), "participants")  # doctest: +SKIP
    """
    if matrix is None or matrix.empty:
        return empty_figure("No framework matrix yet: code the study first.")
    rows = matrix.columns[0]
    order_rows = list(dict.fromkeys(matrix[rows].astype(str)))
    order_themes = list(dict.fromkeys(matrix[_THEME_NAME].astype(str)))

    def wide(col: str) -> pd.DataFrame:
        return matrix.pivot(index=rows, columns=_THEME_NAME, values=col).reindex(index=order_rows, columns=order_themes)

    z = wide(value).fillna(0)
    extra = [wide(c).fillna(0).astype(int).values for c in (_PARTICIPANTS, s.BARRIER, s.ENABLER, s.NEUTRAL)]
    custom = [[[extra[k][i][j] for k in range(4)] for j in range(len(order_themes))] for i in range(len(order_rows))]
    fig = go.Figure(
        go.Heatmap(
            z=z.values, x=[_wrap(t, 18) for t in order_themes], y=order_rows, colorscale=SEQUENTIAL,
            text=z.values.astype(int), texttemplate="%{text}", customdata=custom,
            colorbar={"title": value},
            hovertemplate="%{y} · %{x}<br>participants: %{customdata[0]}<br>barrier segments: %{customdata[1]}"
            "<br>enabler segments: %{customdata[2]}<br>neutral segments: %{customdata[3]}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, f"{value.capitalize()} per {rows.replace('_', ' ')} and theme",
                   height=max(300, 45 * len(order_rows) + 200))


def plot_cooccurrence(matrix: pd.DataFrame, names: dict[str, str] | None = None, unit: str = "segments") -> go.Figure:
    """Heat map of theme co-occurrence (:meth:`toolkit.api.Study.cooccurrence`).

    Examples
    --------
    >>> fig = plot_cooccurrence(study.cooccurrence(), study.theme_names())  # doctest: +SKIP
    """
    if matrix is None or matrix.empty:
        return empty_figure("No theme co-occurrence yet: code the study first.")
    labels = [(names or {}).get(t, t) for t in matrix.index]
    fig = go.Figure(
        go.Heatmap(
            z=matrix.values, x=[_wrap(t, 18) for t in labels], y=[_wrap(t, 30) for t in labels],
            colorscale=SEQUENTIAL, text=matrix.values, texttemplate="%{text}", colorbar={"title": unit},
            hovertemplate=f"%{{y}}<br>and %{{x}}<br>%{{z}} {unit} coded with both<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, f"Themes coded together ({unit})", height=max(400, 40 * len(labels) + 200))


def plot_likert(percentages: pd.DataFrame, width: int = 60) -> go.Figure:
    """Diverging stacked bars of agreement per question and place: disagree left, agree right, neutral split.

    ``percentages`` is :meth:`toolkit.api.Study.likert_percentages` (Disagree, Neutral, Agree
    in %, and n per question and place).

    Examples
    --------
    >>> fig = plot_likert(study.likert_percentages())  # doctest: +SKIP
    """
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


def plot_topic_map(topics: pd.DataFrame) -> go.Figure:
    """Bubble map of topics (:meth:`toolkit.api.Study.topics`): position x, y; area by size.

    Candidate new themes (far from every codebook theme) are orange diamonds; the others blue
    circles; outliers (-1) are left off the map.

    Examples
    --------
    >>> fig = plot_topic_map(study.topics())  # doctest: +SKIP
    """
    if topics is None or topics.empty:
        return empty_figure("No topics yet: run the topics stage.")
    frame = topics[(topics[s.TOPIC] != s.OUTLIER_TOPIC) & topics[s.MAP_X].notna() & topics[s.MAP_Y].notna()]
    if frame.empty:
        return empty_figure("No topic has a map position yet.")
    fig = go.Figure()
    biggest = max(float(frame[s.SIZE].max()), 1.0)
    for candidate, group in frame.groupby(frame[s.CANDIDATE_NEW].astype(bool)):
        keywords = [", ".join(map(str, k[:6])) if isinstance(k, list) else "" for k in group[s.KEYWORDS]]
        similarity = pd.to_numeric(group[s.THEME_SIMILARITY], errors="coerce").fillna(0).round(2)
        fig.add_trace(
            go.Scatter(
                x=group[s.MAP_X], y=group[s.MAP_Y], mode="markers+text", text=[_wrap(t, 20) for t in group[s.TOPIC_LABEL]],
                textposition="top center", name="Candidate new theme" if candidate else "Near a codebook theme",
                marker={"size": group[s.SIZE].astype(float), "sizemode": "area", "sizeref": 2.0 * biggest / 60**2,
                        "sizemin": 6, "color": OKABE_ITO["orange"] if candidate else OKABE_ITO["blue"],
                        "symbol": "diamond" if candidate else "circle", "line": {"width": 1, "color": "#333"},
                        "opacity": 0.8},
                customdata=list(zip(group[s.TOPIC], group[s.SIZE], keywords, group[s.NEAREST_THEME].fillna("-"),
                                    similarity)),
                hovertemplate="Topic %{customdata[0]}: %{text}<br>%{customdata[1]} segments<br>keywords: "
                "%{customdata[2]}<br>nearest theme: %{customdata[3]} (similarity %{customdata[4]})<extra></extra>",
            )
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "Topic map (closer topics are more alike; bubble area = segments)", height=550)


def plot_topic_distribution(distribution: pd.DataFrame, by: str = s.PLACE) -> go.Figure:
    """Stacked bars: each place's (or other ``by`` value's) segments split by topic, in %.

    ``distribution`` is :meth:`toolkit.api.Study.topic_distribution`.

    Examples
    --------
    >>> fig = plot_topic_distribution(study.topic_distribution("place"))  # doctest: +SKIP
    """
    if distribution is None or distribution.empty:
        return empty_figure("No topics yet: run the topics stage.")
    fig = go.Figure()
    topics = distribution[[s.TOPIC, s.TOPIC_LABEL]].drop_duplicates(s.TOPIC).sort_values(s.TOPIC)
    for i, (topic, label) in enumerate(zip(topics[s.TOPIC], topics[s.TOPIC_LABEL])):
        rows = distribution[distribution[s.TOPIC] == topic]
        colour = GREY if topic == s.OUTLIER_TOPIC else QUALITATIVE[i % len(QUALITATIVE)]
        fig.add_trace(
            go.Bar(
                x=rows[by].astype(str), y=100 * rows[_SHARE], name=f"{topic}: {label}", marker_color=colour,
                customdata=list(zip(rows[_SEGMENTS], [label] * len(rows))),
                hovertemplate="%{x}<br>%{customdata[1]}: %{customdata[0]} segments (%{y:.0f}%)<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="% of segments", range=[0, 100])
    return _layout(fig, f"Topics by {by.replace('_', ' ')}", height=450)
