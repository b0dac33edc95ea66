"""The dashboard's charts as Vega-Lite specs, built from the read model's (already counted) frames.

The same charts as :mod:`toolkit.plots` (which notebooks and the report use): the same numbers,
colours (Okabe–Ito; barrier vermillion, enabler blue), order and hover text. The dashboard draws
them with Vega-Lite rather than Plotly because the browser has to load and compile Plotly's
4.7 MB script on every new page load before the first chart shows (about 3 s of a first paint on
a busy 2-core machine; Vega-Lite's script: about 0.6 s). Each spec carries only the counted cells
(a few hundred values at most), never one row per segment. Layout only: no store reads here.

Every function returns a spec (``dict``), or a ``str`` saying why there is nothing to draw;
:func:`show` puts either on the page.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Iterable

import pandas as pd

from toolkit import schema as s
from toolkit.plots import LIKERT_COLOURS, OKABE_ITO, POLARITY_COLOURS, SEQUENTIAL, _labelled_topics, _symmetric_ticks

FONT = "Arial, Helvetica, sans-serif"
BLUES = [colour for _, colour in SEQUENTIAL]
_CONFIG = {"font": FONT, "axis": {"labelFontSize": 12, "titleFontSize": 13}, "title": {"fontSize": 15, "anchor": "start"},
           "legend": {"labelFontSize": 12}, "view": {"stroke": None}}
_LINES = "split(datum.label, '\\n')"
"""An axis label expression that breaks a label on new lines (labels are wrapped in Python)."""


@functools.lru_cache(maxsize=4096)
def _wrap(text: object, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


@functools.lru_cache(maxsize=4096)
def _short(text: object, width: int) -> str:
    return textwrap.shorten(str(text), width, placeholder="…")


def _quote(text: str) -> str:
    """``text`` as a string literal in a Vega expression."""
    import json

    return json.dumps(text)


def _spec(title: str, body: dict, subtitle: str | None = None) -> dict:
    heading = {"text": title} | ({"subtitle": subtitle} if subtitle else {})
    return {"title": heading, "config": _CONFIG,
            "autosize": {"type": "fit-x", "contains": "padding"}} | body


def show(chart: dict | str) -> None:
    """Draw a spec (full width), or say why there is no chart."""
    import streamlit as st

    if isinstance(chart, str):
        st.info(chart)
    else:
        st.vega_lite_chart(spec=chart, width="stretch", theme=None)


# --------------------------------------------------------------------------- barriers and enablers
def polarity_bars(counts: pd.DataFrame, by: str = s.PLACE, value: str = "segments") -> dict | str:
    """Barrier vs enabler bars per theme, one panel per place: barriers left, enablers right (:func:`toolkit.plots.plot_polarity_bars`)."""
    if counts is None or counts.empty:
        return "No coded segments yet."
    frame = counts[counts[s.POLARITY].isin([s.BARRIER, s.ENABLER])]
    if frame.empty:
        return "No barrier or enabler codings yet."
    groups = list(dict.fromkeys(frame[by].astype(str)))
    themes = list(dict.fromkeys(counts["theme_name"].astype(str)))
    records = [
        {"group": str(g), "theme": str(t), "polarity": p, "x": (-1 if p == s.BARRIER else 1) * float(v),
         "what": f"{int(v)} {p} {value}"}
        for g, t, p, v in zip(frame[by], frame["theme_name"], frame[s.POLARITY], frame[value].fillna(0))
    ]
    limit = max(float(frame[value].abs().max()), 1.0)
    ticks = _symmetric_ticks(limit, per_side=2)
    height = max(200, 30 * len(themes))
    bars = {
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "theme", "type": "nominal", "sort": themes, "title": None,
                  "axis": {"labelLimit": 300, "labelExpr": _LINES}},
            "x": {"field": "x", "type": "quantitative", "title": None,
                  "scale": {"domain": [-limit * 1.08, limit * 1.08]},
                  "axis": {"values": ticks, "labelExpr": "abs(datum.value)", "grid": True}},
            "color": {"field": "polarity", "type": "nominal", "title": None,
                      "scale": {"domain": [s.BARRIER, s.ENABLER],
                                "range": [POLARITY_COLOURS[s.BARRIER], POLARITY_COLOURS[s.ENABLER]]},
                      "legend": {"orient": "top", "labelExpr": "upper(slice(datum.label, 0, 1)) + slice(datum.label, 1)"}},
            "tooltip": [{"field": "theme", "title": "theme"}, {"field": "group", "title": by.replace("_", " ")},
                        {"field": "what", "title": "count"}],
        },
    }
    zero = {"mark": {"type": "rule", "color": "#444"}, "encoding": {"x": {"datum": 0}}}
    data = {"values": [{**r, "theme": _wrap(r["theme"], 40)} for r in records]}
    bars["encoding"]["y"]["sort"] = [_wrap(t, 40) for t in themes]
    return _spec(f"Barriers and enablers by {by.replace('_', ' ')}", {
        "data": data,
        "facet": {"column": {"field": "group", "type": "nominal", "sort": groups, "title": None,
                             "header": {"labelFontSize": 13, "labelFontWeight": "bold"}}},
        "spec": {"width": max(120, 720 // max(len(groups), 1)), "height": height, "layer": [bars, zero]},
        "resolve": {"scale": {"x": "shared", "y": "shared"}},
    }, subtitle=f"← barrier {value} · enabler {value} →") | {"autosize": {"type": "pad"}}


# --------------------------------------------------------------------------- heat maps
HEAT_MAP_AT_ONCE = 60
"""Columns up to which a page draws a framework heat map with the page; more are drawn when the reader asks."""


def _heat(records: list[dict], x: dict, y: dict, *, value: str, text: str, legend: str, tooltip: list[dict],
          height: int, zmax: float, zmin: float | None = None, columns: int = 0) -> dict:
    """A heat map layer: coloured cells, their numbers written in them unless there are too many columns to read
    (then the hover text gives them)."""
    colour = {"field": value, "type": "quantitative", "title": legend,
              "scale": {"range": BLUES, **({"domain": [zmin, max(zmax, zmin + 1)]} if zmin is not None else {})}}
    return {
        "data": {"values": records},
        "height": height,
        "encoding": {"x": x, "y": y, "tooltip": tooltip},
        "layer": [
            {"mark": {"type": "rect", "stroke": "white", "strokeWidth": 2 if columns <= 30 else 0.5},
             "encoding": {"color": colour}},
            *([] if columns > 30 else [
                {"mark": {"type": "text", "fontSize": 11},
                 "encoding": {"text": {"field": text},
                              "color": {"condition": {"test": f"datum['{value}'] > {zmax / 2}", "value": "white"},
                                        "value": "#222"}}}]),
        ],
    }


def theme_heatmap(matrix: pd.DataFrame, value: str = "participants") -> dict | str:
    """Heat map of a framework matrix: themes (rows) × places or other row values (:func:`toolkit.plots.plot_theme_heatmap`)."""
    if matrix is None or matrix.empty:
        return "No framework matrix yet: code the study first."
    rows = matrix.columns[0]
    order_rows = list(dict.fromkeys(matrix[rows].astype(str)))
    order_themes = list(dict.fromkeys(matrix["theme_name"].astype(str)))
    people = [c for c in ("interviewees", "survey_respondents") if c in matrix.columns] or ["participants"]
    counts = [*people, s.BARRIER, s.ENABLER, s.NEUTRAL]
    frame = matrix.assign(**{c: pd.to_numeric(matrix[c], errors="coerce").fillna(0).astype(int) for c in {*counts, value}})
    # With cases as rows the map has thousands of cells: each record holds only its own values (the theme's
    # name as an index into the list of names, spelt out by the browser) to keep the spec small.
    index = {name: i for i, name in enumerate(order_themes)}
    names = "[" + ", ".join(_quote(_wrap(name, 45)) for name in order_themes) + "]"
    records = [
        {"row": str(r[rows]), "t": index[str(r["theme_name"])], "z": r[value], **{c: r[c] for c in counts}}
        for r in frame[[rows, "theme_name", *dict.fromkeys([*counts, value])]].to_dict("records")
    ]
    tooltip = [{"field": "theme_name", "title": "theme"}, {"field": "row", "title": rows.replace("_", " ")},
               *({"field": c, "title": c.replace("_", " ")} for c in people),
               *({"field": p, "title": f"{p} segments"} for p in (s.BARRIER, s.ENABLER, s.NEUTRAL))]
    many = len(order_rows) > 12
    column = "row"
    if not many:  # a few columns: labels across, wrapped
        column = "column"
        for r in records:
            r["column"] = _wrap(r["row"], 13)
    x = {"field": column, "type": "nominal", "sort": [v if many else _wrap(v, 13) for v in order_rows], "title": None,
         "axis": {"orient": "top", "labelAngle": -90 if many else 0, "labelLimit": 160, "labelExpr": _LINES}}
    y = {"field": "theme", "type": "nominal", "sort": [_wrap(t, 45) for t in order_themes], "title": None,
         "axis": {"labelExpr": _LINES, "labelLimit": 320}}
    zmax = float(frame[value].max()) if len(frame) else 1.0
    body = _heat(records, x, y, value="z", text="z", legend=value.replace("_", " "), tooltip=tooltip,
                 height=max(200, 40 * len(order_themes)), zmax=zmax, columns=len(order_rows))
    body["transform"] = [{"calculate": f"{names}[datum.t]", "as": "theme"},
                         {"calculate": "replace(datum.theme, regexp('\\\\n', 'g'), ' ')", "as": "theme_name"}]
    return _spec(f"{value.replace('_', ' ').capitalize()} per theme and {rows.replace('_', ' ')}", body)


def cooccurrence(matrix: pd.DataFrame, names: dict[str, str] | None = None, unit: str = "segments") -> dict | str:
    """Heat map of theme co-occurrence (:func:`toolkit.plots.plot_cooccurrence`)."""
    if matrix is None or matrix.empty:
        return "No theme co-occurrence yet: code the study first."
    label = {t: (names or {}).get(t, t) for t in matrix.index}
    records = [{"a": label[a], "b": label[b], "x": _short(label[b], 28), "y": _wrap(label[a], 45), "n": int(n)}
               for a, row in matrix.iterrows() for b, n in row.items()]
    x = {"field": "x", "type": "nominal", "sort": [_short(label[t], 28) for t in matrix.columns], "title": None,
         "axis": {"labelAngle": -35, "labelLimit": 200}}
    y = {"field": "y", "type": "nominal", "sort": [_wrap(label[t], 45) for t in matrix.index], "title": None,
         "axis": {"labelExpr": _LINES, "labelLimit": 320}}
    tooltip = [{"field": "a", "title": "theme"}, {"field": "b", "title": "and"},
               {"field": "n", "title": f"{unit} coded with both"}]
    zmax = float(matrix.values.max()) if matrix.size else 1.0
    return _spec(f"Themes coded together ({unit})",
                 _heat(records, x, y, value="n", text="n", legend=unit, tooltip=tooltip,
                       height=max(250, 36 * len(matrix.index)), zmax=zmax))


def topic_distribution(distribution: pd.DataFrame, by: str = s.PLACE, candidates: Iterable[int] = ()) -> dict | str:
    """Heat map of topics × places (or other ``by``): each topic's share of the column's segments, in %
    (:func:`toolkit.plots.plot_topic_distribution`; candidate new themes marked ◆, outliers last)."""
    if distribution is None or distribution.empty:
        return "No topics yet: run the topics stage."
    marked = {int(c) for c in candidates}
    topics = distribution[[s.TOPIC, s.TOPIC_LABEL]].drop_duplicates(s.TOPIC)
    topics = topics.assign(_last=topics[s.TOPIC] == s.OUTLIER_TOPIC).sort_values(["_last", s.TOPIC])
    order = list(topics[s.TOPIC])
    labels = dict(zip(topics[s.TOPIC], topics[s.TOPIC_LABEL].astype(str)))
    columns = list(dict.fromkeys(distribution[by].astype(str)))
    frame = distribution.assign(**{by: distribution[by].astype(str)})
    share = frame.pivot_table(index=s.TOPIC, columns=by, values="share", aggfunc="sum").reindex(
        index=order, columns=columns).fillna(0) * 100
    counts = frame.pivot_table(index=s.TOPIC, columns=by, values="segments", aggfunc="sum").reindex(
        index=order, columns=columns).fillna(0).astype(int)
    names = {t: ("◆ " if t in marked else "") + f"{t}: {_short(labels[t], 40)}" for t in order}
    many = len(columns) > 12
    column = (lambda v: v) if many else (lambda v: _wrap(v, 13))
    records = [{"topic": names[t], "label": labels[t], "column": c, "x": column(c),
                "share": round(float(share.at[t, c]), 1), "text": f"{share.at[t, c]:.0f}%",
                "segments": int(counts.at[t, c])}
               for t in order for c in columns]
    x = {"field": "x", "type": "nominal", "sort": [column(c) for c in columns], "title": None,
         "axis": {"orient": "top", "labelAngle": -90 if many else 0, "labelLimit": 160, "labelExpr": _LINES}}
    y = {"field": "topic", "type": "nominal", "sort": [names[t] for t in order], "title": None,
         "axis": {"labelLimit": 340}}
    tooltip = [{"field": "column", "title": by.replace("_", " ")}, {"field": "label", "title": "topic"},
               {"field": "segments", "title": "segments"},
               {"field": "share", "title": "% of the segments with a topic"}]
    title = f"Topics by {by.replace('_', ' ')} (% of each column's segments)"
    return _spec(title, _heat(records, x, y, value="share", text="text", legend="% of the segments", tooltip=tooltip,
                              height=max(200, 24 * len(order)), zmax=float(share.values.max()) if share.size else 1.0,
                              zmin=0.0, columns=len(columns)), subtitle="◆ candidate new theme" if marked else None)


# --------------------------------------------------------------------------- surveys
def likert(percentages: pd.DataFrame, width: int = 60) -> dict | str:
    """Diverging stacked bars of agreement per question and place: disagree left, agree right, neutral split
    (:func:`toolkit.plots.plot_likert`)."""
    if percentages is not None and "n" in percentages.columns:
        percentages = percentages[percentages["n"] > 0]
    if percentages is None or percentages.empty:
        return "No survey agreement-scale answers in this study."
    records, order = [], []
    for row in percentages.to_dict("records"):
        y = f"{_wrap(row[s.QUESTION_TEXT], width)}\n{row[s.PLACE]}"
        order.append(y)
        d, n_, a = (0.0 if pd.isna(row.get(k)) else float(row[k]) for k in ("Disagree", "Neutral", "Agree"))
        for label, x0, x1, pct in (("Disagree", -n_ / 2 - d, -n_ / 2, d), ("Neutral", -n_ / 2, n_ / 2, n_),
                                   ("Agree", n_ / 2, n_ / 2 + a, a)):
            records.append({"y": y, "label": label, "x0": x0, "x1": x1, "place": row[s.PLACE], "n": int(row["n"]),
                            "what": f"{round(pct):.0f}% {label.lower()} (n={int(row['n'])})"})
    body = {
        "data": {"values": records},
        "height": max(150, 44 * len(order)),
        "layer": [
            {"mark": {"type": "bar"},
             "encoding": {
                 "y": {"field": "y", "type": "nominal", "sort": order, "title": None,
                       "axis": {"labelExpr": _LINES, "labelLimit": 420}},
                 "x": {"field": "x0", "type": "quantitative", "scale": {"domain": [-100, 100]},
                       "title": "← disagree · % of answers · agree →",
                       "axis": {"values": [-100, -50, 0, 50, 100], "labelExpr": "abs(datum.value) + '%'"}},
                 "x2": {"field": "x1"},
                 "color": {"field": "label", "type": "nominal", "title": None,
                           "scale": {"domain": list(LIKERT_COLOURS), "range": list(LIKERT_COLOURS.values())},
                           "legend": {"orient": "bottom"}},
                 "tooltip": [{"field": "place", "title": "place"}, {"field": "what", "title": "answers"}]}},
            {"mark": {"type": "rule", "color": "#444"}, "encoding": {"x": {"datum": 0, "axis": None}}},
        ],
    }
    return _spec("Survey agreement by place", body)


# --------------------------------------------------------------------------- topics
def topic_map(topics: pd.DataFrame, labelled: int = 10) -> dict | str:
    """Bubble map of topics: position x, y; area by size; candidate new themes orange diamonds
    (:func:`toolkit.plots.plot_topic_map`; outliers left off, labels on candidates and the largest topics)."""
    if topics is None or topics.empty:
        return "No topics yet: run the topics stage."
    frame = topics[(topics[s.TOPIC] != s.OUTLIER_TOPIC) & topics[s.MAP_X].notna() & topics[s.MAP_Y].notna()]
    if frame.empty:
        return "No topic has a map position yet."
    largest = _labelled_topics(frame, labelled)
    candidate = frame[s.CANDIDATE_NEW].astype(bool)
    similarity = pd.to_numeric(frame[s.THEME_SIMILARITY], errors="coerce").fillna(0).round(2)
    records = [
        {"x": float(x), "y": float(y), "size": int(n), "topic": int(t), "name": str(label),
         "kind": "Candidate new theme" if c else "Near a codebook theme",
         "keywords": ", ".join(map(str, k[:6])) if isinstance(k, list) else "",
         "nearest": near if isinstance(near, str) else "-", "similarity": float(sim),
         "text": _short(label, 36) if t in largest else ""}
        for x, y, n, t, label, c, k, near, sim in zip(
            frame[s.MAP_X], frame[s.MAP_Y], frame[s.SIZE], frame[s.TOPIC], frame[s.TOPIC_LABEL], candidate,
            frame[s.KEYWORDS], frame[s.NEAREST_THEME], similarity)
    ]

    def padded(values: pd.Series, low: float, high: float) -> list[float]:
        lo, hi = float(values.min()), float(values.max())
        span = (hi - lo) or 1.0
        return [lo - low * span, hi + high * span]

    kinds = ["Near a codebook theme", "Candidate new theme"]
    x = {"field": "x", "type": "quantitative", "axis": None, "scale": {"domain": padded(frame[s.MAP_X], 0.08, 0.08)}}
    y = {"field": "y", "type": "quantitative", "axis": None, "scale": {"domain": padded(frame[s.MAP_Y], 0.08, 0.16)}}
    tooltip = [{"field": "topic", "title": "topic"}, {"field": "name", "title": "label"},
               {"field": "size", "title": "segments"}, {"field": "keywords", "title": "keywords"},
               {"field": "nearest", "title": "nearest theme"}, {"field": "similarity", "title": "similarity"}]
    body = {
        "data": {"values": records},
        "height": 540,
        "encoding": {"x": x, "y": y},
        "layer": [
            {"mark": {"type": "point", "filled": True, "opacity": 0.8, "stroke": "#333", "strokeWidth": 1},
             "encoding": {
                 "size": {"field": "size", "type": "quantitative", "legend": None,  # area, 60 px across at most
                          "scale": {"domain": [0, float(frame[s.SIZE].max()) or 1.0], "range": [36, 2827]}},
                 "color": {"field": "kind", "type": "nominal", "title": None,
                           "scale": {"domain": kinds, "range": [OKABE_ITO["blue"], OKABE_ITO["orange"]]},
                           "legend": {"orient": "top"}},
                 "shape": {"field": "kind", "type": "nominal", "scale": {"domain": kinds, "range": ["circle", "diamond"]}},
                 "tooltip": tooltip}},
            {"mark": {"type": "text", "dy": -14, "fontSize": 11, "baseline": "bottom"},
             "encoding": {"text": {"field": "text"},
                          "color": {"condition": {"test": "datum.kind == 'Candidate new theme'", "value": "#9A5B00"},
                                    "value": "#333"}}},
        ],
    }
    subtitle = ("Labels on the candidate new themes and the largest topics that have room; hover for the others"
                if len(frame) > len(largest) else None)
    return _spec("Topic map (closer topics are more alike; bubble area = segments)", body, subtitle=subtitle)
