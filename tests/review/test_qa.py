"""Quality-assurance samples: intervals against hand-worked examples, the sample's size and seed, blind review."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.analysis.validation import (
    NONE_STRATUM,
    qa_pending,
    qa_results,
    qa_sample_size,
    weighted_interval,
    wilson_interval,
)
from toolkit.errors import InputDataError
from toolkit.review.qa import draw_qa_sample, plan_qa_sample, record_qa_coding


# --------------------------------------------------------------------------- intervals, by hand
def test_wilson_interval_matches_a_hand_worked_example():
    """8 right of 10, z = 1.959964: z² = 3.841459; z²/n = 0.384146; centre = (0.8 + 0.192073) / 1.384146 = 0.716740;
    half = 1.959964 / 1.384146 × sqrt(0.8 × 0.2 / 10 + 3.841459 / 400) = 1.416010 × 0.160011 = 0.226578;
    so 0.4902 to 0.9433."""
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.716740 - 0.226578, abs=1e-5)
    assert high == pytest.approx(0.716740 + 0.226578, abs=1e-5)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    # 0 of 5: centre = half = (z²/10) / (1 + z²/5) = 0.384146 / 1.768292 = 0.217241; upper = 0.434482
    assert wilson_interval(0, 5) == pytest.approx((0.0, 0.434482), abs=1e-5)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_wilson_interval_agrees_with_statsmodels_when_it_is_installed():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for k, n in ((8, 10), (0, 5), (37, 40), (1, 3)):
        assert wilson_interval(k, n) == pytest.approx(proportion.proportion_confint(k, n, method="wilson"))


def test_a_weighted_proportion_uses_kish_effective_size():
    """Hits 1, 1, 0 with weights 1, 1, 2: p = 2/4 = 0.5; n_eff = 4² / (1 + 1 + 4) = 2.667; Wilson(1.333, 2.667)."""
    estimate = weighted_interval([True, True, False], [1, 1, 2])
    assert estimate.value == 0.5 and estimate.n == 3
    assert estimate.n_eff == pytest.approx(16 / 6)
    assert (estimate.low, estimate.high) == pytest.approx(wilson_interval(0.5 * 16 / 6, 16 / 6))
    equal = weighted_interval([True] * 8 + [False] * 2)
    assert (equal.low, equal.high) == pytest.approx(wilson_interval(8, 10))


def test_the_sample_size_is_the_smallest_that_meets_the_target_width():
    n = qa_sample_size(100_000, target_width=0.2)
    low, high = wilson_interval(0.5 * n, n)
    below_low, below_high = wilson_interval(0.5 * (n - 1), n - 1)
    assert high - low <= 0.2 < below_high - below_low
    assert qa_sample_size(100_000, target_width=0.2, expected=0.9) < n  # an accurate coder needs fewer
    assert qa_sample_size(5, target_width=0.1) == 5  # a small stratum is sampled whole
    assert qa_sample_size(0, target_width=0.2) == 0
    with pytest.raises(InputDataError, match="not between 0 and 1"):
        qa_sample_size(10, target_width=1.5)


def test_precision_recall_and_kappa_of_a_stratified_sample_by_hand():
    """Strata (population): t1 (100), t2 (50), none (200). Coded blind:
    t1: 4 items, 3 coded t1 by the person, 1 coded t2  -> precision t1 = 3/4, each weight 100/4 = 25;
    t2: 2 items, 1 coded t2, 1 coded t1                -> weight 25 each;
    none: 4 items, 3 no theme, 1 coded t1              -> weight 50 each.
    Recall t1: the person's t1 items: 3 (t1, w 25, found), 1 (t2, w 25, missed), 1 (none, w 50, missed)
    = 75 / 150 = 0.5, n_eff = 150² / (3·625 + 625 + 2500) = 4.5.
    Estimated t1 passages: 100·3/4 + 50·1/2 + 200·1/4 = 150."""
    strata = ["t1"] * 4 + ["t2"] * 2 + [NONE_STRATUM] * 4
    human = ["t1", "t1", "t1", "t2", "t2", "t1", None, None, None, "t1"]
    machine_pol = [s.BARRIER, s.BARRIER, s.ENABLER, s.BARRIER, s.ENABLER, s.BARRIER, None, None, None, None]
    human_pol = [s.BARRIER, s.ENABLER, s.ENABLER, s.BARRIER, s.ENABLER, s.BARRIER, None, None, None, s.ENABLER]
    keys = [f"k{i}" for i in range(10)]
    sample = {s.SAMPLE_ID: "qa-x", s.CREATED_AT: "2026", s.TARGET_WIDTH: 0.2, s.SETTINGS: json.dumps({
        "strata": {"t1": {"population": 100}, "t2": {"population": 50}, NONE_STRATUM: {"population": 200}},
        "machine": {str(i + 1): [p, 0.95] for i, p in enumerate(machine_pol)}, "run_id": "r1"})}
    items = pd.DataFrame({s.SAMPLE_ID: "qa-x", s.SEGMENT_KEY: keys, s.STRATUM: strata, s.POSITION: range(1, 11),
                          s.ANCHOR: "attached"})
    codings = pd.DataFrame({
        s.CODING_ID: range(10), s.SEGMENT_KEY: keys, s.CODER: "ana", s.CONTEXT: "qa:qa-x",
        s.DECISION: ["recode" if t else "reject" for t in human], s.THEME: human, s.POLARITY: human_pol,
        s.CREATED_AT: [f"2026-01-{i + 1:02d}" for i in range(10)]})
    result = qa_results(sample, items, codings, themes=["t1", "t2", "t3"])
    themes = result.themes.set_index(s.THEME)
    p = themes.loc["t1", "precision"]
    assert (p.value, p.n) == (0.75, 4) and (p.low, p.high) == pytest.approx(wilson_interval(3, 4))
    r = themes.loc["t1", "recall"]
    assert r.value == pytest.approx(0.5) and r.n_eff == pytest.approx(4.5)
    assert (r.low, r.high) == pytest.approx(wilson_interval(2.25, 4.5))
    assert themes.loc["t1", "estimated"] == pytest.approx(150.0)
    assert themes.loc["t2", "precision"].value == 0.5 and not themes.loc["t3", "precision"].known
    # accuracy over all strata, weighted: right = 3·25 (t1) + 1·25 (t2) + 3·50 (none) = 250 of 350
    assert result.theme_accuracy.value == pytest.approx(250 / 350)
    assert result.uncoded_right.value == pytest.approx(0.75)
    # kappa, weighted confusion (machine rows × person columns; t1, t2, none), total 350:
    # t1: [75, 25, 0]; t2: [25, 25, 0]; none: [50, 0, 150]  -> p_o = 250/350
    # machine margins 100, 50, 200; person margins 150, 50, 150
    # p_e = (100·150 + 50·50 + 200·150) / 350² = 47500 / 122500
    p_o, p_e = 250 / 350, 47500 / 122500
    assert result.theme_kappa == pytest.approx((p_o - p_e) / (1 - p_e))
    # polarity on the 6 items both coded with a theme: machine says barrier on k0, k1, k3, k5 (weights 25 each),
    # the person agrees on k0, k3, k5: precision of barrier = 75 / 100
    barrier = result.polarity.set_index(s.POLARITY).loc[s.BARRIER, "precision"]
    assert barrier.value == pytest.approx(0.75) and barrier.n == 4
    assert (result.coded, result.planned, result.coders, result.run_id) == (10, 10, ["ana"], "r1")


# --------------------------------------------------------------------------- drawing and storing a sample
def test_the_plan_sizes_each_stratum_for_the_target_width(loop_study):
    plan = plan_qa_sample(loop_study.segments(), target_width=0.3).set_index(s.STRATUM)
    assert plan.loc[NONE_STRATUM, "population"] == 4 and plan.loc["agreements_protocols", "population"] == 3
    assert (plan["size"] <= plan["population"]).all() and (plan["size"] >= 1).all()


def test_a_sample_is_fixed_by_its_seed_stored_and_anchored(loop_study):
    # the same seed on the same study draws the same segments; other seeds, others (on copies: drawing writes)
    drawn = {seed: _keys_of(loop_study, seed) for seed in (7, 1, 2, 3)}
    context = loop_study.review_context()
    segments = loop_study.segments()
    first = draw_qa_sample(context, segments, target_width=0.6, seed=7, author="ana", run_id="run-1")
    items = loop_study.store.table(s.QA_ITEMS)
    mine = items[items[s.SAMPLE_ID] == first].sort_values(s.POSITION)
    assert set(mine[s.SEGMENT_KEY]) == drawn[7]
    assert any(drawn[seed] != drawn[7] for seed in (1, 2, 3))
    plan = plan_qa_sample(segments, target_width=0.6).set_index(s.STRATUM)
    assert mine.groupby(s.STRATUM).size().to_dict() == plan["size"].to_dict()
    assert mine[s.SOURCE_UID].notna().all() and mine[s.ANCHOR_TEXT].notna().all()
    text = segments.set_index(s.SEGMENT_KEY)[s.TEXT]
    assert (mine[s.ANCHOR_TEXT].to_numpy() == mine[s.SEGMENT_KEY].map(text).to_numpy()).all()
    sample = loop_study.store.table(s.QA_SAMPLES).set_index(s.SAMPLE_ID).loc[first]
    settings = json.loads(sample[s.SETTINGS])
    assert sample[s.SEED] == 7 and settings["run_id"] == "run-1"
    assert settings["strata"][NONE_STRATUM]["population"] == 4
    # the machine's polarity at drawing time is kept per item (the stratum is its theme)
    machine = segments.set_index(s.SEGMENT_KEY)[s.POLARITY]
    for row in mine.itertuples():
        expected = None if row.stratum == NONE_STRATUM else machine[row.segment_key]
        assert settings["machine"][str(row.position)][0] == expected
    # the strata are shuffled together: the order does not give the machine's theme away
    assert mine[s.STRATUM].tolist() != sorted(mine[s.STRATUM].tolist())
    with pytest.raises(InputDataError, match="already drawn"):
        draw_qa_sample(context, segments, target_width=0.6, seed=7, author="ana")


def _keys_of(study, seed: int) -> set[str]:
    """The keys a seed draws, on a copy of the study."""
    import shutil
    import tempfile
    from pathlib import Path

    from toolkit.api import open_study

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "copy"
        shutil.copytree(study.root, folder)
        copy = open_study(folder)
        sample = draw_qa_sample(copy.review_context(), copy.segments(), target_width=0.6, seed=seed, author="ana")
        items = copy.store.table(s.QA_ITEMS)
        keys = set(items.loc[items[s.SAMPLE_ID] == sample, s.SEGMENT_KEY])
        copy.store.close()
        return keys


def test_nothing_to_sample_is_a_clear_error(loop_study):
    context = loop_study.review_context()
    keys = loop_study.segments()[s.SEGMENT_KEY].tolist()
    loop_study.record_decisions(keys, decision="reject", coder="ana")
    with pytest.raises(InputDataError, match="nothing to sample"):
        draw_qa_sample(context, loop_study.segments(), seed=1, author="ana")


# --------------------------------------------------------------------------- blind review
def test_qa_items_are_reviewed_blind_and_kept_out_of_the_queue(loop_study):
    context = loop_study.review_context()
    sample = draw_qa_sample(context, loop_study.segments(), target_width=0.6, seed=3, author="ana")
    items = loop_study.store.table(s.QA_ITEMS)
    pending = qa_pending(items, loop_study.store.table(s.HUMAN_CODINGS), sample)
    # what the reviewer is handed says nothing of the machine's coding
    assert list(pending.columns) == [s.SEGMENT_KEY, s.POSITION]
    session = loop_study.review_session()
    assert not set(pending[s.SEGMENT_KEY]) & set(session.queue(k=0)[s.SEGMENT_KEY])

    key = pending[s.SEGMENT_KEY].iloc[0]
    record_qa_coding(context, sample, key, coder="ana", theme="trust_relationships", polarity=s.BARRIER)
    second = pending[s.SEGMENT_KEY].iloc[1]
    record_qa_coding(context, sample, second, coder="ana", theme=None)
    saved = loop_study.store.table(s.HUMAN_CODINGS).sort_values(s.CODING_ID)
    shown = saved[[s.SEGMENT_KEY, s.DECISION, s.THEME, s.CONTEXT, s.BLIND]].astype(object)
    assert shown.where(shown.notna(), None).values.tolist() == [
        [key, "recode", "trust_relationships", f"qa:{sample}", True],
        [second, "reject", None, f"qa:{sample}", True]]
    left = qa_pending(loop_study.store.table(s.QA_ITEMS), saved, sample)
    assert len(left) == len(pending) - 2 and key not in set(left[s.SEGMENT_KEY])
    # the figures follow the codings as they arrive
    summary = loop_study.validation()
    assert summary.qa.sample_id == sample and summary.qa.coded == 2
    with pytest.raises(InputDataError, match="is not in QA sample"):
        record_qa_coding(context, sample, "not-a-key", coder="ana", theme=None)
    with pytest.raises(InputDataError, match="no QA sample 'qa-none'"):
        record_qa_coding(context, "qa-none", key, coder="ana", theme=None)
    with pytest.raises(InputDataError, match="Did you mean 'trust_relationships'"):
        record_qa_coding(context, sample, left[s.SEGMENT_KEY].iloc[0], coder="ana", theme="trust_relatinships",
                         polarity=s.BARRIER)
