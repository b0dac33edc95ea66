"""Place as a dimension: the topics and keyphrases over-represented in each place, with passages that show it."""

from __future__ import annotations

import numpy as np

from toolkit import api
from toolkit import schema as s
from toolkit.analysis import topics as columns
from toolkit.api import Study
from toolkit.topics.places import distinctive, log_odds_z

from .test_stage import GROUPS, _fit


def test_each_place_shows_its_own_topic_and_keyphrases_with_passages_from_there(study):
    config, store = study
    _fit(config, store)
    api_ = Study(config, store)
    view = api_.place_view()
    segments = api_.segments().set_index(s.SEGMENT_KEY)
    for place, words in GROUPS.items():
        mine = view[view[s.PLACE] == place]
        topics = mine[mine[columns.KIND] == "topic"]
        assert len(topics) == 1 and topics.iloc[0][columns.Z] >= 1.96
        assert topics.iloc[0][columns.SHARE_HERE] == 1.0 and topics.iloc[0][columns.SHARE_ELSEWHERE] == 0.0
        phrases = mine[mine[columns.KIND] == "keyphrase"][columns.ITEM]
        assert len(phrases) and all(set(str(p).lower().split()) <= set(words.split()) for p in phrases), list(phrases)
        for keys in mine[api.SEGMENT_KEYS]:
            assert keys and set(segments.loc[list(keys), s.PLACE]) == {place}


def test_log_odds_shrink_rare_items_and_mark_the_over_represented():
    z = log_odds_z(np.array([[40, 2, 20], [10, 0, 20], [10, 0, 20]]))
    assert z[0, 0] > 1.96 and z[0, 2] < 0  # "w" is a third of its talk, two thirds of the others'
    assert z[0, 1] < 1.96  # said twice, in one place only: not enough to stand out
    assert distinctive(np.array([[40, 2, 20], [10, 0, 20], [10, 0, 20]]), ["a", "b", "c"], ["x", "y", "w"])["a"][0][0] == "x"
    assert (log_odds_z(np.array([[1, 2]])) == 0).all()  # one group: nothing to compare with


def test_topics_stored_before_revision_0004_read_as_not_measured(study):
    import sqlalchemy as sa

    config, store = study
    _fit(config, store)
    with store.engine.begin() as conn:  # what a store upgraded from 0003 holds until its topics are fitted again
        conn.execute(sa.text("UPDATE topics SET label_passage = NULL, theme_affinity = NULL, uncoded_share = NULL, "
                             "restates_theme = NULL, candidate_kind = NULL, candidate_parent = NULL, evidence = NULL, "
                             "stability = NULL"))
        conn.execute(sa.text("UPDATE segment_topics SET structure = NULL, phrases = NULL"))
    api_ = Study(config, store)
    topics = api_.topics()
    assert len(topics) and topics[s.STABILITY].isna().all()
    assert api_.candidate_themes().empty
    assert all(r == "not a topic" or r.startswith("near") for r in api_.topic_relations())
    view = api_.place_view()
    assert set(view[columns.KIND]) <= {"topic"}  # no keyphrases stored: only topics can stand out
