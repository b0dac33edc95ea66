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
    fig = plots.plot_polarity_bars(study.theme_counts(by="place"))
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
    matrix = study.framework_matrix(rows="place")
    fig = plots.plot_theme_heatmap(matrix, api.PARTICIPANTS)
    heat = fig.data[0]
    assert list(heat.x) == ["Brackenford", "Fernmouth"]  # places across, themes down
    row = list(matrix[api.THEME_NAME].drop_duplicates()).index(study.theme_names()["trust_relationships"])
    assert heat.z[row][1] == 2  # trust × Fernmouth: two participants
    # interviewees and survey respondents apart, then barrier, enabler, neutral segments
    assert list(heat.customdata[row][1][:5]) == [1, 1, 1, 1, 0]
    assert "survey respondents: " in heat.hovertemplate
    assert all("<br>" not in label or len(label) > 45 for label in heat.y)  # theme names stay on one line


def test_polarity_panels_share_one_x_scale_and_one_title(study):
    fig = plots.plot_polarity_bars(study.theme_counts(by="place"))
    axes = [a for a in fig.layout if a.startswith("xaxis")]
    assert len(axes) == 2
    assert len({tuple(fig.layout[a].range) for a in axes}) == 1  # one x scale
    assert all(not fig.layout[a].title.text for a in axes)
    assert sum("barrier" in (n.text or "") for n in fig.layout.annotations) == 1
    assert fig.layout.xaxis.range[0] == -fig.layout.xaxis.range[1]
    assert all(not str(t).startswith("-") for t in fig.layout.xaxis.ticktext)


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


def test_topic_map_labels_only_the_largest_topics_and_the_candidates(study):
    fig = plots.plot_topic_map(study.topics(), labelled=0)
    labelled = {int(c[0]) for trace in fig.data for c, text in zip(trace.customdata, trace.text) if text}
    assert labelled == {1}  # the candidate new theme keeps its label
    everything = plots.plot_topic_map(study.topics(), labelled=5)
    assert all(text for trace in everything.data for text in trace.text)
    assert all("customdata[5]" in trace.hovertemplate for trace in fig.data)  # unlabelled topics name themselves on hover


def test_topic_distribution_columns_add_up_to_100_percent(study):
    fig = plots.plot_topic_distribution(study.topic_distribution(by="place"), candidates=[1])
    heat = fig.data[0]
    assert list(heat.x) == ["Brackenford", "Fernmouth"]
    for j in range(len(heat.x)):
        assert round(sum(row[j] for row in heat.z), 6) == 100.0
    assert heat.y[-1].startswith("-1:")  # outliers last
    assert [label for label in heat.y if label.startswith("◆")] == ["◆ 1: Systems and charters"]


def test_symmetric_ticks_are_round():
    assert plots._symmetric_ticks(45, per_side=2) == [-40, -20, 0, 20, 40]
    assert plots._symmetric_ticks(3, per_side=2) == [-3, -2, -1, 0, 1, 2, 3]
    assert plots._symmetric_ticks(0.5) == [0]
