"""Calibration: out-of-fold maps, the calibration error, and that evaluation never scores training units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.coding.calibration import Calibrator, expected_calibration_error, reliability_table
from toolkit.coding.evaluate import as_training, cross_validate, score_codings
from toolkit.errors import NotFittedError


def test_ece_by_hand():
    # bin 0.9-1.0: five units at 0.9, four right -> |0.9 - 0.8| = 0.1; bin 0.2-0.3: five at 0.3, one right -> 0.1
    confidence = [0.9] * 5 + [0.3] * 5
    correct = [1, 1, 1, 1, 0] + [1, 0, 0, 0, 0]
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.1)
    table = reliability_table(confidence, correct)
    assert table["n"].tolist() == [5, 5] and table["accuracy"].tolist() == [0.2, 0.8]


def test_a_perfectly_calibrated_score_has_no_error():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20000)
    assert expected_calibration_error(p, rng.uniform(size=p.size) < p) < 0.02


def test_calibrator_platt_for_few_rows_isotonic_for_many():
    rng = np.random.default_rng(1)
    raw = rng.uniform(size=400)
    right = (rng.uniform(size=400) < raw**2).astype(int)  # a score that overstates how often it is right
    few = Calibrator().fit(raw[:60], right[:60])
    many = Calibrator().fit(raw, right)
    assert few.kind_ == "platt" and many.kind_ == "isotonic"
    before = expected_calibration_error(raw, right)
    after = expected_calibration_error(many.predict(raw), right)
    assert after < before / 2
    with pytest.raises(NotFittedError):
        Calibrator().predict(raw)


def test_a_calibrator_with_one_outcome_is_a_constant():
    cal = Calibrator().fit(np.array([0.2, 0.9]), np.array([1, 1]))
    assert cal.kind_ == "constant" and cal.predict(np.array([0.0]))[0] == 1.0


class Spy:
    """A stand-in coder factory that records what it was trained on."""

    def __init__(self):
        self.seen: list[set] = []

    def __call__(self, training):
        self.seen.append(set() if training is None else set(training[s.TEXT]))
        return self

    def predict(self, frame):
        n = len(frame)
        return pd.DataFrame({"index": range(n), s.THEME: ["a"] * n, s.POLARITY: [s.BARRIER] * n,
                             s.CONFIDENCE: [0.5] * n, s.RANK: [1] * n,
                             s.EVIDENCE: [{"best_theme": "a", "polarity_confidence": 0.5}] * n})


def test_cross_validation_never_trains_on_the_unit_it_scores():
    gold = pd.DataFrame({
        s.TEXT: ["one", "two", "three", "four", "two"],  # "two" also occurs in another interview
        s.THEME: ["a", "none", "a", "b", "a"],
        s.POLARITY: [s.BARRIER, s.NEUTRAL, s.ENABLER, s.BARRIER, s.BARRIER],
        "source": ["x", "x", "y", "y", "z"],
    })
    spy = Spy()
    coded, timing = cross_validate(gold, spy, group="source")
    assert timing["groups"] == 3 and len(coded) == 5
    for value, seen in zip(["x", "y", "z"], spy.seen):
        assert not seen & set(gold.loc[gold["source"] == value, s.TEXT])
    figures = score_codings(gold, coded)
    assert figures["theme_accuracy"] == pytest.approx(3 / 5)


def test_gold_none_becomes_a_unit_reviewed_without_a_theme():
    gold = pd.DataFrame({s.TEXT: ["a", "b"], s.THEME: ["none", "trust"], s.POLARITY: [s.NEUTRAL, s.BARRIER]})
    training = as_training(gold)
    assert training.loc[0, s.THEME] is None and training.loc[1, s.THEME] == "trust"
