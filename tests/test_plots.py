"""Figures from the API's frames: the right numbers, on the right side, in the same colours everywhere."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.dashboard.conftest import build_tiny_study
from toolkit import api, plots
from toolkit import schema as s


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> api.Study:
    return api.open_study(build_tiny_study(tmp_path_factory.mktemp("plots") / "study"))


def test_barriers_go_left_enablers_right_in_their_fixed_colours(study):
    fig = plots.plot_polarity_bars(study.theme_counts("place"))
    by_name = {}
    for trace in fig.data:
        by_name.setdefault(trace.name.lower(), []).append(trace)
    assert set(by_name) == {s.BARRIER, s.ENABLER}
    assert all(t.marker.color == plots.POLARITY_COLOURS[s.BARRIER] for t in by_name[s.BARRIER])
    assert all(t.marker.color == plots.POLARITY_COLOURS[s.ENABLER] for t in by_name[s.ENABLER])
    assert all(x <= 0 for t in by_name[s.BARRIER] for x in t.x) and all(x >= 0 for t in by_name[s.ENABLER] for x in t.x)
    # Brackenford is the first panel: one barrier segment on IT systems, hover names the count
    names = study.theme_names()
    brack = by_name[s.BARRIER][0]
    i = [c[2] for c in brack.customdata].index(names["it_systems_access"])
    assert (brack.x[i], brack.customdata[i][0], brack.customdata[i][1]) == (-1, 1, "Brackenford")
    assert "barrier" in brack.hovertemplate


def test_heat_map_puts_each_number_in_its_cell(study):
    matrix = study.framework_matrix("place")
    fig = plots.plot_theme_heatmap(matrix, api.PARTICIPANTS)
    heat = fig.data[0]
    assert list(heat.y) == ["Brackenford", "Fernmouth"]
    col = list(matrix[api.THEME_NAME].drop_duplicates()).index(study.theme_names()["trust_relationships"])
    assert heat.z[1][col] == 2  # Fernmouth × trust: two participants
    assert list(heat.customdata[1][col]) == [2, 1, 1, 0]  # participants, barrier, enabler, neutral


def test_cooccurrence_is_labelled_with_theme_names(study):
    co = study.cooccurrence()
    fig = plots.plot_cooccurrence(co, study.theme_names())
    assert fig.data[0].z.tolist() == co.values.tolist()
    assert all("_" not in label for label in fig.data[0].y)


def test_likert_diverges_around_zero_with_neutral_split():
    pct = pd.DataFrame([{s.QUESTION_TEXT: "We trust each other", s.PLACE: "Fernmouth", "Disagree": 50.0,
                         "Neutral": 20.0, "Agree": 30.0, "n": 10}])
    fig = plots.plot_likert(pct)
    traces = [(t.name, float(t.x[0])) for t in fig.data]
    assert traces == [("Neutral", -10.0), ("Disagree", -50.0), ("Neutral", 10.0), ("Agree", 30.0)]
    assert {t.name: t.marker.color for t in fig.data}["Disagree"] == plots.POLARITY_COLOURS[s.BARRIER]
    assert {t.name: t.marker.color for t in fig.data}["Agree"] == plots.POLARITY_COLOURS[s.ENABLER]
    assert sum(t.showlegend for t in fig.data) == 3


def test_topic_map_leaves_out_outliers_and_marks_candidate_themes(study):
    fig = plots.plot_topic_map(study.topics())
    shown = {int(c[0]) for trace in fig.data for c in trace.customdata}
    assert shown == {0, 1}
    candidate = [t for t in fig.data if t.name == "Candidate new theme"]
    assert len(candidate) == 1 and [int(c[0]) for c in candidate[0].customdata] == [1]


def test_topic_distribution_stacks_to_100_percent(study):
    fig = plots.plot_topic_distribution(study.topic_distribution("place"))
    totals: dict[str, float] = {}
    for trace in fig.data:
        for x, y in zip(trace.x, trace.y):
            totals[x] = totals.get(x, 0) + y
    assert {k: round(v, 6) for k, v in totals.items()} == {"Brackenford": 100.0, "Fernmouth": 100.0}
    outliers = [t for t in fig.data if t.name.startswith("-1")]
    assert outliers and outliers[0].marker.color == plots.GREY


@pytest.mark.parametrize(
    "make",
    [plots.plot_polarity_bars, plots.plot_theme_heatmap, plots.plot_cooccurrence, plots.plot_likert,
     plots.plot_topic_map, plots.plot_topic_distribution],
)
def test_an_empty_frame_gives_a_figure_that_says_so(make):
    fig = make(pd.DataFrame())
    assert not fig.data and fig.layout.annotations[0].text
