"""New segments join the stored topic model; a refit when asked or when the study drifted (fake embedder, offline)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd

from tests.topics.test_stage import GROUPS, _embedder, _fit
from toolkit import pipeline
from toolkit import schema as s
from toolkit.api import Study
from toolkit.cli import build_parser
from toolkit.topics import model_dir
from toolkit.topics.stage import PHRASES_FILE, Drift

FERNMOUTH = GROUPS["Fernmouth"].split()


def _add_interview(store, name: str, texts: list[str]) -> list[str]:
    """A new source with these segments, and a coding run after it (as `toolkit run` leaves a study)."""
    keys = [f"{name}{i:03d}" for i in range(len(texts))]
    with store.transaction() as conn:
        source_id = store.insert_source(
            conn, {s.PATH: f"Fernmouth/{name}.txt", s.PLACE: "Fernmouth", s.KIND: "transcript", s.FORMAT: "txt",
                   s.CONTENT_HASH: name.ljust(64, "x"), s.PARTICIPANT_ID: name})
        rows = [{s.SEGMENT_KEY: k, s.SOURCE_ID: source_id, s.SEGMENT_INDEX: i, s.START_CHAR: i * 50,
                 s.END_CHAR: i * 50 + len(t), s.TEXT: t, s.SPEAKER_ROLE: s.PARTICIPANT, s.IS_EVIDENCE: True,
                 s.LEMMAS: t} for i, (k, t) in enumerate(zip(keys, texts))]
        store.replace_segments_of(conn, [source_id], pd.DataFrame(rows), run_id="run1", segmented_with="x")
    with pipeline._Run(store, "code", "coded"):
        pass
    return keys


def _run_topics(config, store, force: bool = False):
    return pipeline._topics(config, store, force=force, embedder=_embedder(store))


def _assigned(store) -> pd.Series:
    table = store.table(s.SEGMENT_TOPICS)
    return table.set_index(s.SEGMENT_KEY)[s.TOPIC]


def _on_topic(rng, n: int) -> list[str]:
    return [" ".join(rng.choice(FERNMOUTH, size=5)) for _ in range(n)]


def test_new_segments_join_and_old_segments_keep_their_topics(study):
    config, store = study
    first = _fit(config, store)
    assert first.mode == "refit"
    before = _assigned(store)
    consent_topic = int(before["Fe000"])
    keys = _add_interview(store, "FE02", _on_topic(np.random.default_rng(1), 5))
    assert pipeline.topics_are_stale(config, store)
    report = _run_topics(config, store)
    assert report.mode == "joined" and report.joined == 5
    after = _assigned(store)
    assert after[before.index].equals(before)  # old assignments kept, numbers included
    assert (after[keys] == consent_topic).all()
    rows = store.table(s.SEGMENT_TOPICS).set_index(s.SEGMENT_KEY)
    assert set(rows.loc[keys, s.ASSIGNED_BY]) == {"joined"}
    topics = store.table(s.TOPICS).set_index(s.TOPIC)
    assert topics[s.SIZE].sum() == 65 and topics.loc[consent_topic, s.SIZE] == (before == consent_topic).sum() + 5
    # the saved model holds the same assignments as the store
    saved = json.loads((model_dir(config) / "topics.json").read_text())
    assert len(saved["topics"]) == 65 and (model_dir(config) / PHRASES_FILE).is_file()
    runs = store.runs_frame()
    summary = json.loads(runs[runs[s.STAGE] == "topics"].iloc[0][s.SUMMARY])
    assert summary["mode"] == "joined" and summary["drift"]["added"] == 5 and summary["drift"]["fitted_segments"] == 60


def test_a_join_with_nothing_to_do_is_not_run(study):
    config, store = study
    _fit(config, store)
    assert not pipeline.topics_are_stale(config, store)
    assert _run_topics(config, store) is None


def test_growth_over_the_threshold_refits(study):
    config, store = study
    _fit(config, store)
    _add_interview(store, "FE02", _on_topic(np.random.default_rng(1), 8))  # 8 / 60: joins
    assert _run_topics(config, store).mode == "joined"
    _add_interview(store, "FE03", _on_topic(np.random.default_rng(2), 6))  # 14 / 60 > 0.2: refits
    report = _run_topics(config, store)
    assert report.mode == "refit" and "refit_growth" in report.reason
    assert report.drift["added"] == 0 and report.drift["fitted_segments"] == 74


def test_new_segments_near_no_topic_refit(study):
    config, store = study
    _fit(config, store)
    vocab = ["zebra", "quasar", "nebula", "violin", "tundra", "glacier", "comet", "sonata"]
    rng = np.random.default_rng(3)
    _add_interview(store, "FE02", [" ".join(rng.choice(vocab, size=5)) for _ in range(6)])
    report = _run_topics(config, store)
    assert report.mode == "refit" and "refit_outlier_share" in report.reason
    # with a higher threshold the same segments join as outliers
    _add_interview(store, "FE03", [" ".join(rng.choice(vocab, size=5)) for _ in range(4)])
    lenient = dataclasses.replace(config, topics=dataclasses.replace(config.topics, refit_outlier_share=1.0))
    report = _run_topics(lenient, store)
    assert report.mode == "joined" and report.drift["new_outliers"] == 4
    assert (_assigned(store)[[f"FE03{i:03d}" for i in range(4)]] == s.OUTLIER_TOPIC).all()


def test_refit_when_asked(study):
    config, store = study
    _fit(config, store)
    _add_interview(store, "FE02", _on_topic(np.random.default_rng(1), 3))
    report = _run_topics(config, store, force=True)
    assert report.mode == "refit" and "asked" in report.reason
    assert build_parser().parse_args(["topics", "x", "--refit"]).force


def test_edits_survive_a_join(study, monkeypatch):
    config, store = study
    _fit(config, store)
    original = pipeline.fit_and_store_topics
    monkeypatch.setattr(pipeline, "fit_and_store_topics",
                        lambda c, st, **kw: original(c, st, embedder=_embedder(st), **kw))
    garden = int(_assigned(store)["Ho000"])
    Study(config, store).rename_topic(garden, name="Community life", author="ana")
    consent = int(_assigned(store)["Fe000"])
    network = int(_assigned(store)["Br000"])
    Study(config, store).merge_topics([consent, network], author="ana", name="Systems and consent")
    assert _run_topics(config, store) is None  # the merge fitted again with the edits
    merged = int(_assigned(store)["Fe000"])
    keys = _add_interview(store, "FE02", _on_topic(np.random.default_rng(1), 4))
    report = _run_topics(config, store)
    assert report.mode == "joined"
    topics = store.table(s.TOPICS).set_index(s.TOPIC)
    after = _assigned(store)
    assert (after[keys] == merged).all() and after["Br000"] == merged
    assert topics.loc[merged, s.TOPIC_LABEL] == "Systems and consent"
    assert topics.loc[int(after["Ho000"]), s.TOPIC_LABEL] == "Community life"


def test_drift_figures():
    drift = Drift(fitted_segments=100, added=15, removed=10, new_content=10, new_outliers=5)
    options = type("Options", (), {"refit_growth": 0.2, "refit_outlier_share": 0.4})
    assert drift.growth == 0.25 and "refit_growth" in drift.too_far(options, min_content=5)
    drift = Drift(fitted_segments=100, added=5, new_content=10, new_outliers=5)
    assert "refit_outlier_share" in drift.too_far(options, min_content=5)
    assert drift.too_far(options, min_content=20) == ""  # too few new segments to judge
