"""The topics stage against a real (temporary) store, with a fake embedder: fast and offline."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.api import Study
from toolkit.config import StudyConfig, TopicOptions
from toolkit.embed import CachedEmbedder
from toolkit.errors import InputDataError
from toolkit.store import Store
from toolkit.topics import (
    NoSegmentsError,
    model_dir,
    model_topics,
    topics_are_stale,
)

GROUPS = {
    "Brackenford": "laptop network login system hub access password server",
    "Fernmouth": "consent caldicott guardian lawful basis form signature notice",
    "Hollowmere": "allotment garden volunteer picnic football club festival choir",
}


def fake_encoder(texts):
    """Bag of hashed words in 256 dimensions: texts sharing words are close."""
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
    return out + 1e-3


class CountingEncoder:
    def __init__(self):
        self.calls = 0

    def __call__(self, texts):
        self.calls += len(texts)
        return fake_encoder(texts)


@pytest.fixture
def study(tmp_path):
    config = StudyConfig.default(tmp_path)
    config = dataclasses.replace(
        config,
        topics=TopicOptions(reducer="none", clusterer="kmeans", n_clusters=3, min_cluster_size=3, seed_with_codebook=False),
    )
    store = Store(config.store_url)
    rng = np.random.default_rng(0)
    with store.transaction() as conn:
        rows = []
        for sid, (place, words) in enumerate(GROUPS.items(), start=1):
            source_id = store.insert_source(
                conn,
                {s.PATH: f"{place}/{place[:2].upper()}01.txt", s.PLACE: place, s.KIND: "transcript", s.FORMAT: "txt",
                 s.CONTENT_HASH: str(sid) * 64, s.PARTICIPANT_ID: f"{place[:2].upper()}01"},
            )
            vocab = words.split()
            for i in range(20):
                text = " ".join(rng.choice(vocab, size=5))
                rows.append(
                    {s.SEGMENT_KEY: f"{place[:2]}{i:03d}", s.SOURCE_ID: source_id, s.SEGMENT_INDEX: i,
                     s.START_CHAR: i * 50, s.END_CHAR: i * 50 + len(text), s.TEXT: text,
                     s.SPEAKER_ROLE: s.PARTICIPANT, s.IS_EVIDENCE: True, s.LEMMAS: text}
                )
        store.replace_segments(conn, pd.DataFrame(rows), "run0")
    return config, store


def _embedder(store, encoder=None):
    return CachedEmbedder(store, model="fake", encoder=encoder or CountingEncoder())


def _fit(config, store, **kw):
    return model_topics(config, store, embedder=_embedder(store), **kw)


def test_topics_are_stored_for_every_segment_with_a_safe_model(study):
    config, store = study
    report = _fit(config, store)
    topics, assigned = store.table(s.TOPICS), store.table(s.SEGMENT_TOPICS)
    assert report.segments == 60 and len(assigned) == 60
    assert set(assigned[s.TOPIC]) <= set(topics[s.TOPIC])
    assert topics[s.SIZE].sum() == 60
    # each place's segments form one topic: the clusters follow the vocabularies
    by_place = Study(config, store).topic_distribution(by=s.PLACE)
    assert (by_place.groupby(s.TOPIC)[s.PLACE].nunique() == 1).all()
    runs = store.runs_frame()
    assert runs.iloc[0][s.STAGE] == "topics" and runs.iloc[0][s.STATUS] == "ok"
    folder = model_dir(config)
    assert (folder / "topics.json").exists() and (folder / "ctfidf.safetensors").exists()
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pickle", ".bin", ".joblib")]


def test_a_rerun_reuses_cached_embeddings_and_gives_the_same_topics(study):
    config, store = study
    _fit(config, store)
    first = store.table(s.SEGMENT_TOPICS)[[s.SEGMENT_KEY, s.TOPIC]]
    encoder = CountingEncoder()
    report = model_topics(config, store, embedder=_embedder(store, encoder))
    assert encoder.calls == 0 and report.embeddings_computed == 0
    assert store.table(s.SEGMENT_TOPICS)[[s.SEGMENT_KEY, s.TOPIC]].equals(first)


def test_staleness_follows_edits_and_settings(study):
    config, store = study
    assert topics_are_stale(config, store)
    _fit(config, store)
    assert not topics_are_stale(config, store)
    changed = dataclasses.replace(config, topics=dataclasses.replace(config.topics, n_clusters=2))
    assert topics_are_stale(changed, store)
    Study(config, store).rename_topic(0, name="Something", author="ana")
    assert topics_are_stale(config, store)


def test_a_renamed_topic_keeps_its_name_when_refitted(study):
    config, store = study
    _fit(config, store)
    assigned = store.table(s.SEGMENT_TOPICS)
    garden_topic = int(assigned.loc[assigned[s.SEGMENT_KEY] == "Ho000", s.TOPIC].iloc[0])
    Study(config, store).rename_topic(garden_topic, name="Community life", author="ana")
    assert "Community life" in store.table(s.TOPICS)[s.TOPIC_LABEL].tolist()
    # refit with other settings: topic numbers may change, the name follows the segments
    other = dataclasses.replace(config, seed=7)
    _fit(other, store)
    topics, assigned = store.table(s.TOPICS), store.table(s.SEGMENT_TOPICS)
    now = int(assigned.loc[assigned[s.SEGMENT_KEY] == "Ho000", s.TOPIC].iloc[0])
    assert topics.set_index(s.TOPIC).loc[now, s.TOPIC_LABEL] == "Community life"
    edits = store.table(s.TOPIC_EDITS)
    assert edits.iloc[0][s.AUTHOR] == "ana" and edits.iloc[0][s.ACTION] == "rename"


def test_merge_and_split_are_replayed(study, monkeypatch):
    config, store = study
    _fit(config, store)
    from toolkit import pipeline

    original = pipeline.fit_and_store_topics
    monkeypatch.setattr(pipeline, "fit_and_store_topics",
                        lambda c, st, **kw: original(c, st, embedder=_embedder(st), **kw))
    study = Study(config, store)
    n = (store.table(s.TOPICS)[s.TOPIC] >= 0).sum()
    study.merge_topics([0, 1], author="ana", name="Merged")
    topics = store.table(s.TOPICS)
    assert (topics[s.TOPIC] >= 0).sum() == n - 1
    assert "Merged" in topics[s.TOPIC_LABEL].tolist()
    study.split_topic(0, parts=2, author="ana")
    assert (store.table(s.TOPICS)[s.TOPIC] >= 0).sum() == n
    assert len(store.table(s.TOPIC_EDITS)) == 2


def test_edit_errors_are_clear(study):
    config, store = study
    _fit(config, store)
    study = Study(config, store)
    with pytest.raises(InputDataError, match="outliers"):
        study.rename_topic(-1, name="x", author="ana")
    with pytest.raises(InputDataError, match="no topic 99"):
        study.rename_topic(99, name="x", author="ana")
    with pytest.raises(InputDataError, match="empty"):
        study.rename_topic(0, name="  ", author="ana")
    with pytest.raises(InputDataError, match="at least two"):
        study.merge_topics([0, 0], author="ana")


def test_no_segments_says_what_to_run(tmp_path):
    config = StudyConfig.default(tmp_path)
    with pytest.raises(NoSegmentsError, match="toolkit run"):
        model_topics(config, Store(config.store_url), embedder=CachedEmbedder(None, model="fake", encoder=fake_encoder))
