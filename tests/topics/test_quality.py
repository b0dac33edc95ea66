"""Topic quality measures on tiny corpora whose answers can be worked out by hand."""

from __future__ import annotations

import math

import pytest

from toolkit.topics.quality import lda_baseline, npmi, npmi_coherence, tokenise, topic_diversity

# consent and form always occur together (2 of 4 documents); server never with consent;
# cloud and consent occur independently (each in half the documents, together in a quarter).
DOCS = [
    ["consent", "form", "cloud"],
    ["consent", "form"],
    ["server", "cloud"],
    ["server"],
]


def test_words_that_always_occur_together_score_one():
    result = npmi_coherence({0: ["consent", "form"]}, DOCS)
    assert result["per_topic"][0] == pytest.approx(1.0)
    assert result["n_docs"] == 4


def test_words_that_never_occur_together_score_minus_one():
    result = npmi_coherence({0: ["consent", "server"]}, DOCS)
    assert result["per_topic"][0] == -1.0


def test_a_word_missing_from_every_document_scores_minus_one():
    assert npmi_coherence({0: ["consent", "fax"]}, DOCS)["per_topic"][0] == -1.0


def test_independent_words_score_zero():
    # p(consent) = p(cloud) = 1/2, p(consent, cloud) = 1/4 = p(consent) p(cloud)
    result = npmi_coherence({0: ["consent", "cloud"]}, DOCS)
    assert result["per_topic"][0] == pytest.approx(0.0, abs=1e-12)


def test_npmi_matches_the_formula_for_a_partial_overlap():
    # form: 2 docs, cloud: 2 docs, together: 1 of 4 -> independent; server & cloud: 2, 2, 1 -> 0 as well
    # consent, form, cloud: pairs (1, 0, 0) -> mean 1/3
    result = npmi_coherence({0: ["consent", "form", "cloud"]}, DOCS)
    assert result["per_topic"][0] == pytest.approx(1 / 3)
    # a lopsided pair: p_i = 3/4, p_j = 1/4, p_ij = 1/4
    expected = math.log((1 / 4) / (3 / 4 * 1 / 4)) / -math.log(1 / 4)
    docs = [["alpha", "beta"], ["alpha"], ["alpha"], ["gamma"]]
    assert npmi_coherence({0: ["alpha", "beta"]}, docs)["per_topic"][0] == pytest.approx(expected)


def test_mean_ignores_the_outlier_topic_and_uses_only_top_n_words():
    topics = {-1: ["consent", "server"], 0: ["consent", "form", "server"], 1: ["consent", "server"]}
    result = npmi_coherence(topics, DOCS, top_n=2)
    assert set(result["per_topic"]) == {0, 1}
    assert result["per_topic"][0] == pytest.approx(1.0)  # "server" is beyond top_n
    assert result["mean"] == pytest.approx(0.0)


def test_a_topic_with_one_word_is_not_scored():
    result = npmi_coherence({0: ["consent"], 1: ["consent", "form"]}, DOCS)
    assert math.isnan(result["per_topic"][0])
    assert result["mean"] == pytest.approx(1.0)


def test_phrases_occur_where_all_their_words_do():
    assert npmi_coherence({0: ["consent form", "cloud"]}, DOCS)["per_topic"][0] == pytest.approx(0.0, abs=1e-12)


def test_no_reference_documents_is_an_error():
    with pytest.raises(ValueError, match="at least one reference document"):
        npmi_coherence({0: ["a", "b"]}, [])


def test_npmi_edge_cases():
    assert npmi(1.0, 1.0, 1.0) == 1.0
    assert npmi(0.0, 0.5, 0.0) == -1.0


def test_diversity_is_one_for_disjoint_topics_and_half_for_duplicates():
    assert topic_diversity({0: ["consent", "form"], 1: ["server", "cloud"]}) == 1.0
    assert topic_diversity({0: ["consent", "form"], 1: ["form", "consent"]}) == 0.5
    assert topic_diversity({0: ["consent", "form", "x1"], 1: ["consent", "form", "x2"]}, top_n=2) == 0.5
    assert topic_diversity({-1: ["consent", "form"], 0: ["consent", "form"]}) == 1.0


def test_diversity_of_no_topics_is_nan():
    assert math.isnan(topic_diversity({-1: ["noise"]}))


def test_tokenise_lowercases_and_drops_stop_words_short_words_and_numbers():
    assert tokenise(["The GP's systems DON'T talk to ours, 2 years on! IT dept x2"]) == [
        ["systems", "talk", "years", "dept"]
    ]
    assert tokenise(["the systems"], stop_words=["systems"]) == [["the"]]


def test_tokenise_adds_lemmas_when_given_a_pipeline():
    class Token:
        def __init__(self, text):
            self.lemma_ = {"Sharing": "share", "records": "record"}.get(text, text)
            self.is_alpha = text.isalpha()

    class Pipeline:  # stands in for a spaCy pipeline with a lemmatizer
        def pipe(self, texts, batch_size=256):
            return ([Token(w) for w in text.split()] for text in texts)

    assert tokenise(["Sharing records"], nlp=Pipeline()) == [["sharing", "records", "share", "record"]]


TEXTS = [
    "consent form signed by the family",
    "the consent form was lost again",
    "family consent form for health visitors",
    "server outage in the cloud system",
    "cloud server migration took months",
    "the server and cloud system failed",
] * 3


def test_lda_is_deterministic_with_a_seed():
    first = lda_baseline(TEXTS, 2, seed=7, top_n=3, min_df=1)
    assert first == lda_baseline(TEXTS, 2, seed=7, top_n=3, min_df=1)
    assert sorted(first) == [0, 1]
    assert all(len(words) == 3 for words in first.values())


def test_lda_separates_two_obvious_topics_without_stop_words():
    topics = lda_baseline(TEXTS, 2, seed=0, top_n=2, min_df=1)
    assert sorted(sorted(ws) for ws in topics.values()) == [["cloud", "server"], ["consent", "form"]]
    assert not any(w in {"the", "and", "was", "for"} for ws in topics.values() for w in ws)
