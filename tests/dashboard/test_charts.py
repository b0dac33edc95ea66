"""The dashboard's Vega-Lite charts carry the counted cells the read model gives them, never one row per segment."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboards import charts
from toolkit import schema as s


def values(spec: dict) -> list[dict]:
    return spec["data"]["values"]


def test_empty_frames_say_why_there_is_no_chart():
    assert charts.polarity_bars(pd.DataFrame()) == "No coded segments yet."
    assert charts.theme_heatmap(pd.DataFrame()).startswith("No framework matrix yet")
    assert charts.cooccurrence(pd.DataFrame()).startswith("No theme co-occurrence yet")
    assert charts.likert(pd.DataFrame()).startswith("No survey agreement-scale answers")
    assert charts.topic_map(pd.DataFrame()).startswith("No topics yet")
    assert charts.topic_distribution(pd.DataFrame()).startswith("No topics yet")


def test_polarity_bars_put_barriers_left_and_enablers_right_with_their_counts():
    counts = pd.DataFrame({
        s.PLACE: ["Brackenford", "Brackenford", "Fernmouth", "Fernmouth"],
        "theme_name": ["Trust", "Trust", "Trust", "Trust"],
        s.POLARITY: [s.BARRIER, s.ENABLER, s.BARRIER, s.NEUTRAL],
        "segments": [3, 5, 2, 7], "participants": [1, 2, 1, 4],
    })
    spec = charts.polarity_bars(counts, value="segments")
    rows = {(r["group"], r["polarity"]): r for r in values(spec)}
    assert set(rows) == {("Brackenford", s.BARRIER), ("Brackenford", s.ENABLER), ("Fernmouth", s.BARRIER)}
    assert rows["Brackenford", s.BARRIER]["x"] == -3 and rows["Brackenford", s.ENABLER]["x"] == 5
    assert rows["Fernmouth", s.BARRIER]["what"] == "2 barrier segments"
    assert spec["facet"]["column"]["sort"] == ["Brackenford", "Fernmouth"]


def test_theme_heatmap_has_one_value_per_cell_with_people_and_segments_for_the_hover():
    matrix = pd.DataFrame({
        s.PLACE: ["Brackenford", "Brackenford", "Fernmouth", "Fernmouth"],
        s.THEME: ["t1", "t2", "t1", "t2"], "theme_name": ["Trust", "Systems", "Trust", "Systems"],
        "participants": [2, 0, 1, 3], "interviewees": [1, 0, 1, 2], "survey_respondents": [1, 0, 0, 1],
        s.BARRIER: [1, 0, 0, 4], s.ENABLER: [2, 0, 1, 0], s.NEUTRAL: [0, 0, 0, 1],
    })
    spec = charts.theme_heatmap(matrix, "participants")
    assert spec["encoding"]["y"]["sort"] == ["Trust", "Systems"]
    names = ["Trust", "Systems"]  # each record names its theme by its place in the y axis' order
    cells = {(r["row"], names[r["t"]]): r for r in values(spec)}
    assert len(cells) == 4
    assert cells["Fernmouth", "Systems"]["z"] == 3 and cells["Fernmouth", "Systems"][s.BARRIER] == 4
    assert cells["Brackenford", "Trust"]["survey_respondents"] == 1


def test_cooccurrence_and_likert_keep_the_numbers():
    co = pd.DataFrame([[4, 1], [1, 2]], index=["t1", "t2"], columns=["t1", "t2"])
    spec = charts.cooccurrence(co, {"t1": "Trust", "t2": "Systems"})
    assert sorted(r["n"] for r in values(spec)) == [1, 1, 2, 4]
    likert = pd.DataFrame({s.QUESTION_TEXT: ["Q1"], s.PLACE: ["Brackenford"], "Disagree": [20.0], "Neutral": [30.0],
                           "Agree": [50.0], "n": [10]})
    bars = {r["label"]: r for r in values(charts.likert(likert))}
    assert bars["Disagree"]["x0"] == pytest.approx(-35) and bars["Disagree"]["x1"] == pytest.approx(-15)
    assert bars["Neutral"]["x0"] == pytest.approx(-15) and bars["Agree"]["x1"] == pytest.approx(65)
    assert bars["Agree"]["what"] == "50% agree (n=10)"


def test_topic_distribution_is_a_share_per_topic_and_column_with_outliers_last():
    distribution = pd.DataFrame({
        s.TOPIC: [0, 0, -1, 1], s.TOPIC_LABEL: ["consent", "consent", "not in a topic", "systems"],
        s.PLACE: ["Brackenford", "Fernmouth", "Brackenford", "Brackenford"],
        "segments": [3, 4, 1, 2], "share": [0.5, 1.0, 1 / 6, 1 / 3],
    })
    spec = charts.topic_distribution(distribution, s.PLACE, candidates=[1])
    assert spec["encoding"]["y"]["sort"] == ["0: consent", "◆ 1: systems", "-1: not in a topic"]
    cell = next(r for r in values(spec) if r["topic"] == "0: consent" and r["column"] == "Fernmouth")
    assert cell["share"] == 100.0 and cell["segments"] == 4 and cell["text"] == "100%"
