"""Structure is not content: introductions, logistics, times and dates, contact details, prompts and
scripted repeats never form topics or keywords (rules in toolkit/rules/topic_structure.yaml)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans

from toolkit import schema as s
from toolkit.errors import ConfigError
from toolkit.topics.model import TopicModeller
from toolkit.topics.phrases import extract_phrases
from toolkit.topics.structure import (
    find_structure,
    load_structure_rules,
    matches_kind,
    parse_structure_rules,
    structure_counts,
    structure_topic,
)

RULES = load_structure_rules()
CASES = [(kind.name, text, True) for kind in RULES.kinds for text in kind.examples] + [
    (kind.name, text, False) for kind in RULES.kinds for text in kind.counterexamples
]


@pytest.mark.parametrize("kind, text, expected", CASES, ids=[f"{k}-{'ex' if e else 'counter'}-{i}"
                                                              for i, (k, _, e) in enumerate(CASES)])
def test_every_example_and_counterexample_of_the_rules_file_holds(kind, text, expected):
    assert matches_kind(text, RULES.kind(kind), RULES) is expected


def test_the_rules_file_has_examples_for_each_kind_found_one_by_one():
    for kind in RULES.kinds:
        if not kind.repeated:
            assert kind.examples and kind.counterexamples, kind.name


def test_find_structure_names_each_kind_and_leaves_content_alone():
    texts = [
        "So I'm the school nursing team lead for the west locality.",
        "About two years ago, in March.",
        "His direct line's [PHONE_01].",
        "Thank you so much for having me.",
        "Could you start by telling me a bit about your role?",
        "The data clinic answered our consent questions within a day.",
        "I don't have time to chase.",
    ]
    assert find_structure(texts) == ["introduction", "time_date", "contact_details", "logistics", "prompt", None, None]


def test_a_segment_that_repeats_an_interviewer_prompt_is_a_prompt():
    prompt = "What got in the way of sharing with health?"
    assert find_structure([prompt, "What got in the way was consent."], prompts=[prompt]) == ["prompt", None]


def test_scripted_words_in_three_transcripts_are_boilerplate_but_not_in_survey_answers():
    advert = "Our producer edits every episode in a small studio by the sea."
    texts = [advert, advert, advert, "Consent was the sticking point for the GPs."]
    sources = ["a", "b", "c", "a"]
    assert find_structure(texts, sources=sources)[:3] == ["boilerplate"] * 3
    assert find_structure(texts, sources=sources, repeatable=[False] * 4) == [None] * 4
    assert find_structure(texts[:2] + texts[3:], sources=["a", "b", "a"]) == [None] * 3  # two copies: not enough


def test_a_cluster_of_durations_is_structure_and_a_cluster_of_content_is_not():
    durations = ["Nearly six years, give or take.", "About two years in March.", "Eleven years this autumn.",
                 "Three months, maybe.", "Since January, so a year."]
    content = ["The consent form confused families.", "Health visitors shared records with the hub.",
               "The GP practice refused without a data sharing agreement."]
    assert structure_topic(durations + content[:1]) == "time_date"
    assert structure_topic(content) is None


def test_counts_by_kind_skip_content():
    assert structure_counts(["time_date", None, "time_date", "", "introduction"]) == {"introduction": 1,
                                                                                      "time_date": 2}


def test_structure_words_never_make_keyphrases():
    texts = ["Every Monday morning the data clinic meets.", "On a Monday morning we ring the data clinic.",
             "Um, the data clinic, yeah, twenty minutes.", "Twenty minutes on a Monday morning, yeah."]
    phrases = extract_phrases(texts, stop=RULES.keyword_stop)
    assert "data clinic" in phrases.names
    for name in phrases.names:
        assert not set(name.split()) & RULES.keyword_stop, name


def test_structure_segments_form_no_topic_and_are_counted_under_minus_one():
    rng = np.random.default_rng(0)
    content = [f"consent form caldicott guardian lawful basis {i}" for i in range(20)] + [
        f"laptop network login system hub access {i}" for i in range(20)]
    intros = [f"So I'm the {r} lead for the north locality." for r in ("nursing", "safeguarding", "data", "hub")] * 3
    texts = content + intros
    X = np.vstack([np.eye(8)[[0]] + rng.normal(0, .05, (20, 8)), np.eye(8)[[1]] + rng.normal(0, .05, (20, 8)),
                   np.eye(8)[[2]] + rng.normal(0, .05, (12, 8))]).astype(np.float32)
    m = TopicModeller(clusterer=KMeans(2, n_init=4, random_state=0), min_cluster_size=5, seed=0).fit(texts, X)
    assert (m.labels_[40:] == s.OUTLIER_TOPIC).all()
    assert set(m.assigned_by_[40:]) == {"structure"} and set(m.structure_[40:]) == {"introduction"}
    assert len(set(m.labels_[:40])) == 2  # the content still forms its two topics
    words = {w for t, ws in m.topic_words_.items() if t != s.OUTLIER_TOPIC for phrase in ws for w in phrase.split()}
    assert not words & {"locality", "nursing", "safeguarding", "north"}


def test_bad_rules_files_say_what_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping with 'lexicons' and 'kinds'"):
        parse_structure_rules("version: 1\n", "mine.yaml")
    with pytest.raises(ConfigError, match="lexicon 'time'"):
        parse_structure_rules("lexicons:\n  time: [year]\nkinds: {}\n", "mine.yaml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_structure_rules(tmp_path / "missing.yaml")
