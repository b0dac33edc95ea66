"""Place as a dimension: the topics and keyphrases over-represented in each place, with passages that show it."""

from __future__ import annotations

import numpy as np

from toolkit import api
from toolkit import schema as s
from toolkit.analysis import topics as columns
from toolkit.api import Study
from toolkit.topics.places import distinctive, log_odds_z

from .test_stage import GROUPS, _fit, study  # noqa: F401  (the fixture: each place talks about its own things)


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
