"""The review queue: its order, its spread, retraining on a decision, filters, bulk acceptance, missed evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.analysis import ranking
from toolkit.errors import InputDataError, NotFittedError


def _live(rows):
    """A prediction frame from (key, theme, polarity, theme confidence, polarity confidence) rows."""
    frame = pd.DataFrame(rows, columns=[s.SEGMENT_KEY, s.THEME, s.POLARITY, ranking.THEME_CONFIDENCE,
                                        ranking.POLARITY_CONFIDENCE])
    for column in ranking.PREDICTION_COLUMNS:
        if column not in frame:
            frame[column] = False if column in (ranking.CUE_CONFLICT, ranking.PATTERN_CONFLICT) else None
    frame[ranking.BEST_THEME] = frame[s.THEME]
    return frame[ranking.PREDICTION_COLUMNS]


# --------------------------------------------------------------------------- the order (pure)
def test_the_segment_the_coder_is_least_sure_of_comes_first():
    live = _live([("sure", "t1", s.BARRIER, 0.98, 0.97), ("unsure", "t1", s.BARRIER, 0.52, 0.97),
                  ("sure_none", None, None, 0.03, None), ("unsure_polarity", "t2", s.ENABLER, 0.98, 0.4)])
    scored = ranking.priority(live).sort_values(ranking.PRIORITY, ascending=False)
    assert scored[s.SEGMENT_KEY].tolist() == ["unsure", "unsure_polarity", "sure", "sure_none"]
    assert "unsure of the theme (confidence 0.52)" in scored.iloc[0][ranking.REASONS]
    assert "barrier or enabler" in scored.iloc[1][ranking.REASONS]


def test_disagreeing_evidence_and_a_changed_reading_raise_the_priority():
    live = _live([("calm", "t1", s.BARRIER, 0.9, 0.9), ("cues", "t1", s.BARRIER, 0.9, 0.9),
                  ("moved", "t2", s.BARRIER, 0.9, 0.9)])
    live.loc[1, ranking.CUE_CONFLICT] = True
    stored = _live([("calm", "t1", s.BARRIER, 0.9, 0.9), ("cues", "t1", s.BARRIER, 0.9, 0.9),
                    ("moved", "t1", s.BARRIER, 0.9, 0.9)])
    scored = ranking.priority(live, stored).set_index(s.SEGMENT_KEY)
    assert scored.loc["cues", ranking.PRIORITY] > scored.loc["calm", ranking.PRIORITY]
    assert scored.loc["moved", ranking.PRIORITY] > scored.loc["cues", ranking.PRIORITY]
    assert scored.loc["moved", ranking.CHANGED] == 1.0 and scored.loc["calm", ranking.CHANGED] == 0.0
    assert "cue words and the polarity model disagree" in scored.loc["cues", ranking.REASONS]
    assert "now reads it as t2" in scored.loc["moved", ranking.REASONS]


def test_evidence_of_either_coder_version_is_read():
    old = {"polarity": {"probability": 0.6, "cue_score": 1.0, "model": {"barrier": 0.8, "enabler": 0.2}},
           "fired": ["similarity", "pattern"], "model": 0.1, "patterns": ["portal"]}
    new = {"polarity_confidence": 0.7, "cues": ["-scared"], "polarity": {"probabilities": {"barrier": 0.2,
                                                                                           "enabler": 0.8}}}
    raw = pd.DataFrame({s.SEGMENT_KEY: ["o", "n"], s.THEME: ["t1", "t2"], s.POLARITY: [s.BARRIER, s.ENABLER],
                        s.CONFIDENCE: [0.9, 0.8], s.RANK: [1, 1], s.EVIDENCE: [old, '{"junk": 1}']})
    raw.at[1, s.EVIDENCE] = new
    frame = ranking.prediction_frame(raw).set_index(s.SEGMENT_KEY)
    assert frame.loc["o", ranking.POLARITY_CONFIDENCE] == 0.6 and frame.loc["n", ranking.POLARITY_CONFIDENCE] == 0.7
    assert frame.loc["o", ranking.CUE_CONFLICT] and frame.loc["n", ranking.CUE_CONFLICT]  # cues against the model
    assert frame.loc["o", ranking.PATTERN_CONFLICT] and not frame.loc["n", ranking.PATTERN_CONFLICT]


def test_the_queue_is_spread_over_meanings_and_places():
    frame = pd.DataFrame({s.SEGMENT_KEY: ["a", "a_twin", "b", "c"], ranking.PRIORITY: [0.9, 0.89, 0.8, 0.7],
                          ranking.BEST_THEME: ["t1", "t1", "t2", "t1"], s.PLACE: ["P", "P", "Q", "P"]})
    vectors = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    order = ranking.diversify(frame, vectors, k=4)[s.SEGMENT_KEY].tolist()
    assert order[0] == "a" and order[1] == "b"  # the twin of "a" waits, though it scores higher than "b"
    assert ranking.diversify(frame, vectors, k=0)[s.SEGMENT_KEY].tolist() == ["a", "a_twin", "b", "c"]
    # a segment just like the one reviewed last is not next
    after = ranking.diversify(frame, vectors, recent=vectors[:1], recent_groups=[("t1", "P")], k=4)
    assert after[s.SEGMENT_KEY].iloc[0] == "b"


# --------------------------------------------------------------------------- the session on a study
def test_the_queue_of_a_study_ranks_unreviewed_segments_with_reasons(loop_study):
    session = loop_study.review_session()
    queue = session.queue(k=5)
    assert len(queue) == 16 and queue[s.SEGMENT_KEY].is_unique
    assert queue[ranking.REASONS].map(bool).all()
    # past the spread-out head the queue follows priority
    tail = queue.iloc[5:][ranking.PRIORITY].to_numpy()
    assert (np.diff(tail) <= 1e-12).all()
    # the surest, already-handled kinds of segment come last: the highest priority is in the head
    assert queue[ranking.PRIORITY].iloc[:5].max() == queue[ranking.PRIORITY].max()


def test_a_decision_retrains_the_coder_and_re_ranks(loop_study):
    session = loop_study.review_session()
    first = session.queue(k=5)
    assert session.trained_on == 0
    key = first[s.SEGMENT_KEY].iloc[0]
    probe = pd.DataFrame({s.SEGMENT_KEY: ["p"], s.TEXT: ["Totally unrelated sentence about zebra crossings."]})
    before = session.learner.predict(probe)
    result = session.decide([key], "recode", coder="ana", theme="leadership_commitment", polarity=s.BARRIER)
    assert result.stored == 1 and result.trained_on == 1 and session.trained_on == 1
    assert result.seconds > 0
    after = session.queue(k=5)
    assert key not in set(after[s.SEGMENT_KEY])  # reviewed: out of the queue
    assert len(after) == len(first) - 1
    # the coder learnt from the decision: a segment just like it now reads as the reviewer's theme
    twin = pd.DataFrame({s.SEGMENT_KEY: ["twin"], s.TEXT: [first[s.TEXT].iloc[0]]})
    assert session.learner.predict(twin)[s.THEME].iloc[0] == "leadership_commitment"
    assert session.learner.predict(probe)[ranking.THEME_CONFIDENCE].iloc[0] != pytest.approx(
        before[ranking.THEME_CONFIDENCE].iloc[0])
    stored = loop_study.store.table(s.HUMAN_CODINGS)
    assert stored[[s.SEGMENT_KEY, s.CODER, s.DECISION, s.CONTEXT, s.BLIND]].values.tolist() == [
        [key, "ana", "recode", "review", False]]


def test_a_decision_made_elsewhere_is_learnt_on_the_next_read(loop_study):
    session = loop_study.review_session()
    session.queue()
    loop_study.record_decision("c3", decision="add", coder="bo", theme="benefit_to_families", polarity=s.ENABLER)
    session.queue()
    assert session.trained_on == 1


def test_an_unchanged_store_is_known_from_its_change_tokens_without_reading_the_codings(loop_study, monkeypatch):
    from toolkit.api import open_study

    session = loop_study.review_session()
    first = session.queue(k=5)
    read = []
    table = type(loop_study.store).table
    monkeypatch.setattr(type(loop_study.store), "table",
                        lambda self, name, **kw: read.append(name) or table(self, name, **kw))
    assert session.queue(k=5)[s.SEGMENT_KEY].tolist() == first[s.SEGMENT_KEY].tolist()
    session.missed(k=5)
    assert not {s.HUMAN_CODINGS, s.CODINGS} & set(read)  # every page run asks; nothing changed, nothing read
    # a decision written by another process (another open store) renews the token: the next read learns it
    open_study(loop_study.config.root).record_decision("c3", decision="add", coder="bo",
                                                       theme="benefit_to_families", polarity=s.ENABLER)
    assert session.refresh() is True and session.trained_on == 1
    assert s.HUMAN_CODINGS in read


def test_filters_by_theme_place_source_and_status(loop_study):
    session = loop_study.review_session()
    fern = session.queue(place="Fernmouth", k=0)
    assert set(fern[s.PLACE]) == {"Fernmouth"} and len(fern) == 7
    one = session.queue(source="Brackenford/BK01_programme_lead.txt", k=0)
    assert len(one) == 9
    uncoded = session.queue(status="uncoded", k=0)
    assert set(uncoded[s.SEGMENT_KEY]) == {"c3", "d3", "e3", "f1"}
    themed = session.queue(theme="it_systems_access", k=0)
    assert {"b1", "b2", "b3"} <= set(themed[s.SEGMENT_KEY])
    assert ((themed[s.THEME] == "it_systems_access") | (themed["suggested_theme"] == "it_systems_access")).all()
    session.decide(["a1"], "accept", coder="ana")
    assert session.queue(status="reviewed", k=0)[s.SEGMENT_KEY].tolist() == ["a1"]
    with pytest.raises(InputDataError, match="unknown status 'done'"):
        session.queue(status="done")
    with pytest.raises(Exception, match="Did you mean 'trust_relationships'"):
        session.queue(theme="trust_relatinships")


def test_bulk_accept_takes_only_the_surest_codings_of_one_theme(loop_study):
    session = loop_study.review_session()
    candidates = session.bulk_candidates("it_systems_access", min_confidence=0.9)
    live = session.queue(theme="it_systems_access", k=0).set_index(s.SEGMENT_KEY)
    expected = {k for k in ("b1", "b2") if live.loc[k, "suggested_theme"] == "it_systems_access"}
    assert set(candidates[s.SEGMENT_KEY]) == expected  # b3 (0.49) is not sure enough
    result = session.bulk_accept("it_systems_access", min_confidence=0.9, coder="ana")
    saved = loop_study.store.table(s.HUMAN_CODINGS)
    assert result.stored == len(expected) == len(saved)
    assert set(saved[s.DECISION]) <= {"accept"} and set(saved[s.THEME]) <= {"it_systems_access"}


def test_missed_evidence_lists_uncoded_segments_most_codable_first(loop_study):
    session = loop_study.review_session()
    missed = session.missed(k=10)
    assert set(missed[s.SEGMENT_KEY]) == {"c3", "d3", "e3", "f1"}
    assert missed[ranking.CODABILITY].is_monotonic_decreasing
    assert missed["suggested_theme"].notna().all()
    session.decide(["e3"], "add", coder="ana", theme="ig_capacity_advice", polarity=s.BARRIER)
    assert "e3" not in set(session.missed()[s.SEGMENT_KEY])


def test_find_passages_like_this_one(loop_study):
    session = loop_study.review_session()
    like = session.similar(segment_key="b1", k=3)
    assert "b1" not in set(like[s.SEGMENT_KEY]) and like["similarity"].is_monotonic_decreasing
    quote = session.similar(text="The systems don't talk to each other", k=1)
    assert quote[s.SEGMENT_KEY].iloc[0] == "b1"
    with pytest.raises(InputDataError, match="needs a segment or some text"):
        session.similar(text="  ")
    with pytest.raises(InputDataError, match="no evidence segment with key 'nope'"):
        session.similar(segment_key="nope")


def test_a_learner_used_before_fit_says_so(loop_study):
    from toolkit.review.learner import Learner

    learner = Learner.for_study(loop_study.config, loop_study.store)
    with pytest.raises(NotFittedError, match="call fit"):
        learner.predict(pd.DataFrame({s.SEGMENT_KEY: ["x"], s.TEXT: ["x"]}))


def test_the_learner_reads_each_segment_in_context_as_the_coding_stage_does(loop_study):
    from toolkit.review.learner import CONTEXT, coder_units

    units = coder_units(loop_study.store).set_index(s.SEGMENT_KEY)
    assert set(CONTEXT) <= set(units.columns) and len(units) == 16
    # the sentence before, in the same turn; the first sentence of a turn has none
    assert units.loc["b2", "previous"] == "But the systems don't talk to each other."
    assert units.loc["b1", "previous"] is None
    # a follow-on ("That ...") is read with the claim it completes: the same words after other claims read differently
    session = loop_study.review_session()
    session.queue()
    follow_on = "That makes it much easier."
    claims = ["Our IG lead answers the same day.", "GPs are scared of the GMC."]
    read = session.learner.predict(pd.DataFrame({s.SEGMENT_KEY: ["x", "y"], s.TEXT: [follow_on] * 2,
                                                 "previous": claims}))
    alone = session.learner.predict(pd.DataFrame({s.SEGMENT_KEY: ["z"], s.TEXT: [follow_on]}))
    confidences = {*read[ranking.THEME_CONFIDENCE].round(6), *alone[ranking.THEME_CONFIDENCE].round(6)}
    assert len(confidences) == 3


# --------------------------------------------------------------------------- starting from the stored codings
def _coded_with_the_decisions_so_far(study) -> None:
    """Record a coding run that learnt from the study's current decisions, as ``toolkit code`` would."""
    from toolkit.coding import training_frame
    from toolkit.coding.stage import coding_embedder
    from toolkit.pipeline import code_settings_hash

    store = study.store
    fingerprint = code_settings_hash(study.config, training_frame(store.table(s.HUMAN_CODINGS)),
                                     coding_embedder(study.config).model, study.codebook)
    run_id = store.start_run("code", config_hash=fingerprint)
    # the coding stage gives a segment it leaves without a theme a row of its own (theme None)
    seen = store.coded_segment_keys(s.MACHINE_CODER)
    missing = [k for k in store.segment_keys(evidence_only=True) if k not in seen]
    rows = pd.DataFrame({s.SEGMENT_KEY: missing, s.THEME: None, s.POLARITY: None, s.CONFIDENCE: 0.05, s.RANK: 1,
                         s.GOOD_PRACTICE: False, s.EVIDENCE: None})
    with store.transaction() as conn:
        store.replace_machine_codings_of(conn, rows, coder=s.MACHINE_CODER, run_id=run_id, segment_keys=missing)
    store.finish_run(run_id, "ok", {})


def test_a_queue_whose_stored_codings_are_current_starts_from_them_and_refits_at_the_first_decision(loop_study):
    from toolkit.pipeline import codings_are_current

    assert not codings_are_current(loop_study.config, loop_study.store)  # the hand-built run learnt from nothing known
    _coded_with_the_decisions_so_far(loop_study)
    assert codings_are_current(loop_study.config, loop_study.store)
    session = loop_study.review_session()
    queue = session.queue(k=0)
    assert not hasattr(session.learner, "coder_")  # nothing fitted, nothing predicted
    assert len(queue) == 16 and session.trained_on == 0
    assert (queue["suggested_theme"].fillna("") == queue[s.THEME].fillna("")).all()
    assert set(session.missed(k=10)[s.SEGMENT_KEY]) == {"c3", "d3", "e3", "f1"}  # the threshold from the settings
    result = session.decide([queue[s.SEGMENT_KEY].iloc[0]], "accept", coder="ana")
    assert hasattr(session.learner, "coder_") and result.trained_on == 1 and session.trained_on == 1


def test_a_decision_since_the_last_coding_run_or_a_missing_coding_means_a_refit(loop_study):
    from toolkit.pipeline import codings_are_current

    _coded_with_the_decisions_so_far(loop_study)
    loop_study.record_decision("c3", decision="add", coder="bo", theme="benefit_to_families", polarity=s.ENABLER)
    assert not codings_are_current(loop_study.config, loop_study.store)
    session = loop_study.review_session()
    session.queue()
    assert hasattr(session.learner, "coder_") and session.trained_on == 1
    # every decision learnt, but a segment without a machine coding (a new interview not coded yet)
    _coded_with_the_decisions_so_far(loop_study)
    assert codings_are_current(loop_study.config, loop_study.store)
    with loop_study.store.transaction() as conn:
        loop_study.store.replace_machine_codings_of(conn, pd.DataFrame(columns=[s.SEGMENT_KEY, s.THEME]),
                                                    coder=s.MACHINE_CODER, run_id="r", segment_keys=["b1"])
    assert not codings_are_current(loop_study.config, loop_study.store)


def test_the_spacy_pipeline_of_a_learner_loads_at_its_first_use():
    from toolkit.review.learner import DocCache

    class Pipeline:
        pipe_names = ("tagger",)

        def pipe(self, texts, **kwargs):
            return (text.upper() for text in texts)

    loads = []
    cache = DocCache(load=lambda: loads.append(1) or Pipeline())
    assert loads == []
    assert cache.pipe_names == ("tagger",) and loads == [1]
    assert list(cache.pipe(["a", "b", "a"])) == ["A", "B", "A"] and loads == [1]
    with pytest.raises(ValueError, match="needs a spaCy pipeline"):
        DocCache()


def test_preparing_the_coder_ahead_of_the_first_decision_leaves_the_queue_readable(loop_study):
    _coded_with_the_decisions_so_far(loop_study)
    session = loop_study.review_session()
    before = session.queue(k=0)
    with session._fitting:  # as while the warm-up fits: the queue is still read, from the stored codings
        assert session.queue(k=0)[s.SEGMENT_KEY].tolist() == before[s.SEGMENT_KEY].tolist()
    with session._fitting:  # the warm-up waits for the lock: a second call finds it under way
        thread = session.prepare()
        assert session.prepare() is thread and thread.is_alive()
    thread.join(60)
    assert hasattr(session.learner, "coder_") and session.last_update["prepare_seconds"] >= 0
    assert session.prepare() is None  # fitted already: nothing to start
    after = session.queue(k=0)
    assert after[s.SEGMENT_KEY].tolist() == before[s.SEGMENT_KEY].tolist()  # a warm-up changes nothing shown
    assert session.decide(["a1"], "accept", coder="ana").trained_on == 1
    session.prepare(background=False)  # already fitted: nothing to do, no error


def test_the_warm_up_gives_way_between_steps_and_holds_no_lock_while_it_waits(loop_study, monkeypatch):
    import threading

    from toolkit.review import queue as queue_module
    from toolkit.review.learner import coder_units

    monkeypatch.setattr(queue_module, "PREPARE_STEP", 3)  # the hand-built study has a few segments: several steps
    _coded_with_the_decisions_so_far(loop_study)
    session = loop_study.review_session()
    before = session.queue(k=0)
    paused, release, waiting = [], threading.Event(), threading.Event()

    def pause():
        paused.append(session._fitting.locked())
        if len(paused) == 2:  # after the fit, before the first reading: a page is being drawn
            waiting.set()
            release.wait(30)

    thread = session.prepare(pause=pause)
    assert waiting.wait(30)
    # while the warm-up waits, nothing is locked: a decision refits at once and the queue is read
    assert session.decide(["a1"], "accept", coder="ana").trained_on == 1
    decided = session.queue(k=0)[s.SEGMENT_KEY].tolist()
    assert "a1" not in decided and len(decided) == len(before) - 1
    release.set()
    thread.join(60)
    units = len(coder_units(loop_study.store))
    assert len(paused) == 1 + -(-units // 3) and not any(paused)  # before the fit and each step; never locked
    assert session.queue(k=0)[s.SEGMENT_KEY].tolist() == decided  # the warm-up changed nothing shown
