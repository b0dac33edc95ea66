"""The topic modeller on small fixtures with precomputed embeddings (no language model)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans

from toolkit import schema as s
from toolkit.errors import ConfigError, NotFittedError
from toolkit.topics.model import ThemePrototype, TopicEdit, TopicModeller

DIM = 12
WORDS = {
    0: "consent form caldicott guardian lawful basis",
    1: "laptop network login system hub access",
    2: "allotment garden volunteer picnic football club",
    3: "health visitor clinic school nurse",
}


def _corpus(sizes=(30, 30, 30), seed=0):
    """Clusters around the first axes; texts use each cluster's own words."""
    rng = np.random.default_rng(seed)
    texts, vectors, truth = [], [], []
    for c, n in enumerate(sizes):
        centre = np.zeros(DIM)
        centre[c] = 1.0
        words = WORDS[c].split()
        for i in range(n):
            vectors.append(centre + rng.normal(0, 0.08, DIM))
            texts.append(f"{words[i % len(words)]} {words[(i + 1) % len(words)]} {words[(i + 3) % len(words)]} {i}")
            truth.append(c)
    return texts, np.asarray(vectors, dtype=np.float32), np.asarray(truth)


def _theme(theme_id, axis):
    v = np.zeros(DIM, dtype=np.float32)
    v[axis] = 1.0
    return ThemePrototype(theme_id, theme_id.replace("_", " ").title(), v)


def _modeller(**kw):
    settings = dict(reducer=None, clusterer=KMeans(2, n_init=4, random_state=0), embed=None, min_cluster_size=5,
                    theme_min_similarity=0.9, seed=0)
    settings.update(kw)
    return TopicModeller(**settings)


def test_same_input_same_topics():
    texts, X, _ = _corpus()
    a = _modeller().fit(texts, X, themes=[_theme("legal_basis_consent", 0)])
    b = _modeller().fit(texts, X, themes=[_theme("legal_basis_consent", 0)])
    assert np.array_equal(a.labels_, b.labels_)
    drop = [s.KEYWORDS, s.REPRESENTATIVE, s.EVIDENCE]
    assert a.topic_info_.drop(columns=drop).equals(b.topic_info_.drop(columns=drop))
    assert a.topic_info_[s.EVIDENCE].tolist() == b.topic_info_[s.EVIDENCE].tolist()
    assert a.topic_info_[s.KEYWORDS].tolist() == b.topic_info_[s.KEYWORDS].tolist()


def test_by_default_the_codebook_is_beside_the_topics_not_seeded_into_them():
    texts, X, truth = _corpus(sizes=(30, 30, 30))
    m = _modeller(clusterer=KMeans(3, n_init=4, random_state=0)).fit(
        texts, X, themes=[_theme("legal_basis_consent", 0), _theme("it_systems_access", 1)])
    info = m.topic_info_.set_index(s.TOPIC)
    assert info[s.SEEDED_THEME].isna().all() and "theme" not in set(m.assigned_by_)
    consent = m.labels_[truth == 0][0]
    assert info.loc[consent, s.NEAREST_THEME] == "legal_basis_consent"
    assert not info.loc[consent, s.TOPIC_LABEL].endswith("(codebook)")


def test_segments_near_a_theme_are_seeded_on_request_and_far_topics_are_candidates():
    texts, X, truth = _corpus(sizes=(30, 30, 30, 30))
    m = _modeller(seed_with_themes=True).fit(texts, X, themes=[_theme("legal_basis_consent", 0), _theme("it_systems_access", 1)])
    info = m.topic_info_.set_index(s.TOPIC)
    seeded = info[info[s.SEEDED_THEME].notna()]
    assert set(seeded[s.SEEDED_THEME]) == {"legal_basis_consent", "it_systems_access"}
    # every consent-cluster segment is in the consent theme's topic
    consent_topic = seeded.index[seeded[s.SEEDED_THEME] == "legal_basis_consent"][0]
    assert set(m.labels_[truth == 0]) == {consent_topic}
    assert (m.assigned_by_[truth == 0] == "theme").all()
    assert info.loc[consent_topic, s.TOPIC_LABEL].endswith("(codebook)")
    # the allotment cluster is near no theme: clustered and flagged as a candidate new theme
    other = set(m.labels_[truth == 2])
    assert len(other) == 1
    row = info.loc[other.pop()]
    assert not isinstance(row[s.SEEDED_THEME], str) and bool(row[s.CANDIDATE_NEW])
    assert row[s.THEME_AFFINITY] < 0.5 and "far_from_every_theme" in row[s.EVIDENCE]["reasons"]
    words = " ".join(row[s.KEYWORDS]).split()
    assert words and set(words) <= {"allotment", "garden", "volunteer", "picnic", "football", "club"}, row[s.KEYWORDS]


def test_nearest_theme_is_reported_for_clustered_topics():
    texts, X, truth = _corpus()
    # the theme is close to the IT cluster but under the seeding threshold
    proto = np.zeros(DIM, dtype=np.float32)
    proto[1], proto[5] = 0.8, 0.6
    m = _modeller(seed_with_themes=True, theme_min_similarity=0.95, clusterer=KMeans(3, n_init=4, random_state=0)).fit(
        texts, X, themes=[ThemePrototype("it_systems_access", "IT", proto)])
    topic = m.labels_[truth == 1][0]
    row = m.topic_info_.set_index(s.TOPIC).loc[topic]
    assert row[s.NEAREST_THEME] == "it_systems_access" and row[s.THEME_SIMILARITY] > 0.7 and row[s.THEME_AFFINITY] > 1
    assert not row[s.CANDIDATE_NEW]


def test_outliers_are_reduced_or_kept_on_request():
    texts, X, _ = _corpus()
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 1, (6, DIM)).astype(np.float32)
    noise[:3] = X[:3] + 0.01  # three outliers that sit inside a cluster
    texts = texts + [f"stray remark about weather patterns {i}" for i in range(6)]
    X = np.vstack([X, noise])

    class MarkLastOutliers:
        def fit(self, Z):
            self.labels_ = KMeans(3, n_init=4, random_state=0).fit(Z).labels_.copy()
            self.labels_[-6:] = -1
            return self

    kept = _modeller(clusterer=MarkLastOutliers(), outliers="keep").fit(texts, X)
    assert (kept.labels_[-6:] == s.OUTLIER_TOPIC).all()
    assert s.OUTLIER_TOPIC in kept.topic_info_[s.TOPIC].tolist()
    reduced = _modeller(clusterer=MarkLastOutliers(), outliers="reduce", outlier_threshold=0.6).fit(texts, X)
    assert (reduced.labels_[-6:-3] != s.OUTLIER_TOPIC).all()
    assert (reduced.assigned_by_[-6:-3] == "outlier_reduced").all()
    # noise far from every topic stays visible as an outlier
    assert (reduced.labels_[-3:] == s.OUTLIER_TOPIC).sum() >= 1


def test_edits_find_their_topics_by_content_after_the_data_changed():
    texts, X, truth = _corpus()
    keys = [f"seg{i}" for i in range(len(texts))]
    first = _modeller(clusterer=KMeans(3, n_init=4, random_state=0)).fit(texts, X, keys=keys)
    garden = first.labels_[truth == 2][0]
    it = first.labels_[truth == 1][0]
    members = lambda t: [k for k, lab in zip(keys, first.labels_) if lab == t]
    edits = [TopicEdit("rename", [members(garden)], label="Community activities", edit_id=1)]
    # new data: a few segments removed and the clusters renumbered by a different seed
    keep = np.ones(len(texts), bool)
    keep[[60, 61, 62, 5]] = False
    texts2 = [t for t, k in zip(texts, keep) if k]
    keys2 = [k for k, kk in zip(keys, keep) if kk]
    second = _modeller(clusterer=KMeans(3, n_init=4, random_state=7)).fit(texts2, X[keep], keys=keys2, edits=edits)
    info = second.topic_info_.set_index(s.TOPIC)
    garden2 = second.labels_[truth[keep] == 2][0]
    assert info.loc[garden2, s.TOPIC_LABEL] == "Community activities"
    assert second.edit_outcomes_[0].applied

    merged = _modeller(clusterer=KMeans(3, n_init=4, random_state=0)).fit(
        texts, X, keys=keys, edits=[TopicEdit("merge", [members(garden), members(it)], label="Both", edit_id=2)]
    )
    assert len(set(merged.labels_[(truth == 1) | (truth == 2)])) == 1
    assert merged.topic_info_.set_index(s.TOPIC).loc[merged.labels_[truth == 1][0], s.TOPIC_LABEL] == "Both"

    split = _modeller(clusterer=KMeans(3, n_init=4, random_state=0)).fit(
        texts, X, keys=keys, edits=[TopicEdit("split", [members(garden)], parts=2, edit_id=3)]
    )
    assert len(set(split.labels_[truth == 2])) == 2
    assert len(set(split.labels_)) == 4


def test_an_edit_whose_segments_are_gone_is_reported_not_applied():
    texts, X, _ = _corpus()
    keys = [f"seg{i}" for i in range(len(texts))]
    edit = TopicEdit("rename", [["gone1", "gone2"]], label="Lost", edit_id=9)
    m = _modeller().fit(texts, X, keys=keys, edits=[edit])
    assert not m.edit_outcomes_[0].applied
    assert "Lost" not in m.topic_info_[s.TOPIC_LABEL].tolist()


def test_bad_settings_and_use_before_fit():
    texts, X, _ = _corpus()
    with pytest.raises(ConfigError, match="topics.outliers"):
        _modeller(outliers="drop").fit(texts, X)
    with pytest.raises(NotFittedError):
        _modeller().assignments(["a"])
    with pytest.raises(ValueError, match="embeddings"):
        _modeller().fit(texts, X[:-1])


def test_exact_neighbours_match_a_brute_force_search():
    from sklearn.neighbors import NearestNeighbors

    from toolkit.topics.model import exact_neighbours

    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    indices, distances = exact_neighbours(X, 6, block=128)
    want_d, want_i = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X)
    assert (indices == want_i).mean() > 0.99  # ties aside
    assert np.allclose(distances, want_d, atol=1e-3)
    assert (indices[:, 0] == np.arange(700)).all()
