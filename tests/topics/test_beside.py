"""Topics beside the codebook: the relative candidate rule, restated themes and what they add."""

from __future__ import annotations

import numpy as np

from toolkit.topics.beside import SUB_THEME, THEME, CandidateRule, beside_codebook, theme_affinities

DIM = 10
N = 20


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _study(rng, specific: dict[int, np.ndarray]):
    """Every segment shares one strong common direction (one domain: cosines 0.7-0.9 to every theme)."""
    common = np.zeros(DIM)
    common[9] = 1.0
    vectors, topics = [], []
    for topic, direction in specific.items():
        vectors.append(_unit(common + 0.5 * direction + rng.normal(0, 0.02, (N, DIM))))
        topics += [topic] * N
    return np.vstack(vectors), np.array(topics)


def _axis(k, weight=1.0):
    v = np.zeros(DIM)
    v[k] = weight
    return v


def _themes():
    common = _axis(9)
    return _unit(np.vstack([common + 0.5 * _axis(0), common + 0.5 * _axis(1)]))


def test_a_topic_far_from_every_theme_for_this_study_is_a_candidate_though_every_cosine_is_high():
    rng = np.random.default_rng(0)
    V, topics = _study(rng, {0: _axis(0), 1: _axis(1), 2: _axis(5)})
    S, Z = theme_affinities(V, _themes(), np.ones(len(V), bool))
    out = beside_codebook(topics, S, Z, ["consent", "it_systems"], None, None, np.ones(len(V), bool))
    assert S[topics == 2].min() > 0.7  # an absolute 0.5 threshold would never fire
    assert out[2]["candidate_new"] and out[2]["evidence"]["reasons"] == ["far_from_every_theme"]
    assert out[2]["candidate_kind"] == THEME and out[2]["candidate_parent"] is None
    assert not out[0]["candidate_new"] and out[0]["nearest_theme"] == "consent"
    assert not out[1]["candidate_new"] and out[1]["nearest_theme"] == "it_systems"


def test_a_topic_the_codebook_mostly_leaves_uncoded_is_a_candidate_with_its_evidence():
    rng = np.random.default_rng(1)
    # topic 2 sits near the consent theme (so it is no "far" candidate), but the coder left it uncoded
    V, topics = _study(rng, {0: _axis(0), 1: _axis(1), 2: _axis(0) + 0.4 * _axis(6), 3: _axis(2), 4: _axis(3)})
    S, Z = theme_affinities(V, _themes(), np.ones(len(V), bool))
    coded = ((["consent"] * 18 + [None] * 2) + (["it_systems"] * 18 + [None] * 2) + (["consent"] * 2 + [None] * 18)
             + ["it_systems"] * 2 * N)
    places = ["Fernmouth" if i % N < 14 and topics[i] == 2 else ["Brackenford", "Hollowmere"][i % 2]
              for i in range(len(V))]
    out = beside_codebook(topics, S, Z, ["consent", "it_systems"], coded, places, np.ones(len(V), bool))
    row = out[2]
    assert row["candidate_new"] and "mostly_uncoded" in row["evidence"]["reasons"]
    assert row["uncoded_share"] == 0.9 and row["evidence"]["study_uncoded_share"] < 0.5
    assert row["evidence"]["uncoded_z"] >= 2
    assert [p["place"] for p in row["evidence"]["distinctive_places"]] == ["Fernmouth"]
    # close to the consent theme for this study: suggested as its sub-theme
    assert row["candidate_kind"] == SUB_THEME and row["candidate_parent"] == "consent"
    for topic in (0, 1, 3, 4):
        assert not out[topic]["candidate_new"] and out[topic]["evidence"]["reasons"] == []


def test_a_topic_that_restates_a_theme_says_so_and_shows_what_it_adds():
    rng = np.random.default_rng(2)
    V, topics = _study(rng, {0: _axis(0), 1: _axis(1), 2: _axis(0) + 0.5 * _axis(7)})
    S, Z = theme_affinities(V, _themes(), np.ones(len(V), bool))
    coded = ["consent"] * N + ["it_systems"] * N + (["consent"] * 10 + [None] * 10)
    out = beside_codebook(topics, S, Z, ["consent", "it_systems"], coded, None, np.ones(len(V), bool))
    assert out[0]["restates_theme"] == "consent" and not out[0]["candidate_new"]
    adds = out[0]["evidence"]["adds"]
    assert adds["theme_share"] == round(20 / 30, 3)
    assert adds["other_topics"] == [{"topic": 2, "share": round(10 / 30, 3)}]
    assert out[2]["restates_theme"] == "consent"  # half coded with it: restates it, so no candidate
    assert not out[2]["candidate_new"]


def test_the_rule_is_relative_to_the_study_and_its_settings():
    rng = np.random.default_rng(3)
    V, topics = _study(rng, {0: _axis(0), 1: _axis(1), 2: _axis(5)})
    S, Z = theme_affinities(V, _themes(), np.ones(len(V), bool))
    coded = [None] * len(V)  # nothing coded at all: being uncoded says nothing about a topic
    out = beside_codebook(topics, S, Z, ["consent", "it_systems"], coded, None, np.ones(len(V), bool))
    assert not any("mostly_uncoded" in r["evidence"]["reasons"] for r in out.values())
    strict = CandidateRule(max_affinity=-5.0)
    assert not beside_codebook(topics, S, Z, ["consent", "it_systems"], None, None, np.ones(len(V), bool),
                               strict)[2]["candidate_new"]
    small = CandidateRule(min_size=N + 1)
    assert not beside_codebook(topics, S, Z, ["consent", "it_systems"], None, None, np.ones(len(V), bool),
                               small)[2]["candidate_new"]


def test_without_themes_there_is_no_nearest_theme_and_no_far_candidate():
    topics = np.array([0] * 6 + [1] * 6)
    empty = np.zeros((12, 0))
    out = beside_codebook(topics, empty, empty, [], None, None, np.ones(12, bool))
    assert out[0]["nearest_theme"] is None and not out[0]["candidate_new"]
