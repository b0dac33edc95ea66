"""Confidence you can check: calibration maps fitted on cross-validated scores, and how well they hold.

A confidence of 0.8 should be right 8 times in 10. The coder's raw scores are not probabilities,
so each is mapped to one by a calibrator fitted on out-of-fold predictions (never on the rows
that trained the model): isotonic regression when there are enough rows, else Platt scaling
(a logistic curve). :func:`expected_calibration_error` and :func:`reliability_table` measure the result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ISOTONIC_MIN_ROWS = 150
"""Fewer out-of-fold rows than this: Platt scaling (two parameters) instead of isotonic regression."""


class Calibrator:
    """Map raw scores (one column or several) to the probability of being right.

    Settings in ``__init__``; ``fit`` returns ``self``; learned state ends in ``_``.

    Examples
    --------
    >>> cal = Calibrator().fit(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1]))
    >>> bool(cal.predict(np.array([0.95]))[0] > 0.5)
    True
    """

    def __init__(self, *, isotonic_min_rows: int = ISOTONIC_MIN_ROWS, seed: int = 42):
        self.isotonic_min_rows = isotonic_min_rows
        self.seed = seed

    def fit(self, scores: np.ndarray, correct: np.ndarray) -> Calibrator:
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(scores, dtype=float)
        x = x.reshape(len(x), -1)
        y = np.asarray(correct, dtype=int)
        self.n_ = len(y)
        self.constant_ = float(y.mean()) if len(y) else 0.5
        if len(y) == 0 or y.min() == y.max():
            self.kind_ = "constant"
        elif x.shape[1] == 1 and len(y) >= self.isotonic_min_rows:
            self.kind_ = "isotonic"
            self.model_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(x[:, 0], y)
        else:
            self.kind_ = "platt"
            self.model_ = LogisticRegression(C=1.0, random_state=self.seed).fit(x, y)
        return self

    def predict(self, scores: np.ndarray) -> np.ndarray:
        if not hasattr(self, "kind_"):
            from toolkit.errors import NotFittedError

            raise NotFittedError("Calibrator is not fitted yet: call fit() first.")
        x = np.asarray(scores, dtype=float)
        x = x.reshape(len(x), -1)
        if self.kind_ == "constant":
            return np.full(len(x), self.constant_)
        if self.kind_ == "isotonic":
            return self.model_.predict(x[:, 0])
        return self.model_.predict_proba(x)[:, 1]


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy, averaged over equal-width bins.

    Examples
    --------
    >>> expected_calibration_error([0.9, 0.9, 0.9, 0.9, 0.9], [1, 1, 1, 1, 0])
    0.1
    """
    table = reliability_table(confidence, correct, bins)
    if table.empty:
        return float("nan")
    n = table["n"].sum()
    return round(float((table["n"] * (table["confidence"] - table["accuracy"]).abs()).sum() / n), 10)


def reliability_table(confidence, correct, bins: int = 10) -> pd.DataFrame:
    """Per confidence bin: how many, mean confidence, and how many were right (the reliability diagram's data)."""
    c = np.asarray(confidence, dtype=float)
    y = np.asarray(correct, dtype=float)
    keep = ~np.isnan(c)
    c, y = c[keep], y[keep]
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(c, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = index == b
        if m.any():
            rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(m.sum()),
                         "confidence": float(c[m].mean()), "accuracy": float(y[m].mean())})
    return pd.DataFrame(rows, columns=["bin", "n", "confidence", "accuracy"])
