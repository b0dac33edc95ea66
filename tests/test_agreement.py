"""Agreement statistics against hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from toolkit.agreement import (
    AgreementError,
    agreement_report,
    classification_report_frame,
    cohen_kappa,
    confusion_table,
    krippendorff_alpha,
    percent_agreement,
)


def test_cohen_kappa_two_by_two():
    # a=20 (yes,yes) b=5 (yes,no) c=10 (no,yes) d=15 (no,no), n=50
    # po = 35/50 = 0.70; A says yes 25/50, B says yes 30/50; pe = .5*.6 + .5*.4 = 0.50
    # kappa = (0.70 - 0.50) / 0.50 = 0.40
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.40)
    assert percent_agreement(a, b) == pytest.approx(0.70)


def test_cohen_kappa_three_categories():
    # table rows A, cols B over (x, y, z): [[4,1,0],[1,3,1],[0,0,5]], n=15
    # po = 12/15 = 0.8; A marginals 5,5,5; B marginals 5,4,6
    # pe = (5*5 + 5*4 + 5*6)/225 = 75/225 = 1/3; kappa = (0.8 - 1/3)/(2/3) = 0.7
    pairs = [("x", "x")] * 4 + [("x", "y")] + [("y", "x")] + [("y", "y")] * 3 + [("y", "z")] + [("z", "z")] * 5
    a, b = zip(*pairs)
    assert cohen_kappa(a, b) == pytest.approx(0.7)


def test_kappa_degenerate_cases():
    assert cohen_kappa(["x"] * 5, ["x"] * 5) == 1.0
    assert math.isnan(cohen_kappa([], []))


def test_krippendorff_canonical_example():
    # Krippendorff (2011), nominal reliability data: 4 observers x 12 units, missing values; alpha = 0.743
    nan = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    ).T
    assert krippendorff_alpha(data) == pytest.approx(0.743, abs=0.001)


def test_krippendorff_two_coders_by_hand():
    # units (a,a), (b,b), (a,b): coincidences o_aa=2, o_bb=2, o_ab=o_ba=1; n_a=n_b=3, n=6
    # Do = 2 (off-diagonal mass), De = (3*3*2)/(6-1) = 3.6; alpha = 1 - 2/3.6 = 0.444...
    assert krippendorff_alpha([["a", "a"], ["b", "b"], ["a", "b"]]) == pytest.approx(1 - 2 / 3.6)
    assert krippendorff_alpha([["a", "a"], ["a", "a"]]) == 1.0
    assert krippendorff_alpha([["a", None], ["b", "b"], ["a", "a"]]) == 1.0


def test_confusion_table_totals():
    table = confusion_table(["x", "x", "y"], ["x", "y", "y"])
    assert table.loc["x", "x"] == 1 and table.loc["x", "y"] == 1 and table.loc["total", "total"] == 3


def codings():
    # unit 1: A trust+it, B trust; unit 2: A agreements, B agreements; unit 3: A uncoded, B it; unit 4: both uncoded
    rows = [
        (1, "A", "trust", True), (1, "A", "it", False), (1, "B", "trust", True),
        (2, "A", "agreements", True), (2, "B", "agreements", True),
        (3, "A", None, True), (3, "B", "it", True),
        (4, "A", None, True), (4, "B", None, True),
        (5, "B", "trust", True),  # only B saw unit 5: not compared
    ]
    return pd.DataFrame(rows, columns=["unit_id", "coder", "theme", "primary"])


def test_agreement_report_multilabel_per_theme():
    report = agreement_report(codings(), "A", "B")
    assert report.overall["units"] == 4
    # primary labels: A = trust, agreements, uncoded, uncoded; B = trust, agreements, it, uncoded -> 3/4 agree
    assert report.overall["percent_agreement"] == pytest.approx(0.75)
    it = report.per_theme.loc["it"]
    # 'it' present: A on unit 1, B on unit 3 -> agree on units 2 and 4 only
    assert it["percent_agreement"] == pytest.approx(0.5)
    assert report.per_theme.loc["trust", "percent_agreement"] == 1.0
    assert "Cohen's kappa" in report.to_text()


def test_ignore_uncoded_drops_units_either_coder_left_uncoded():
    report = agreement_report(codings(), "A", "B", ignore_uncoded=True)
    assert report.overall["units"] == 2 and report.overall["percent_agreement"] == 1.0


def test_unknown_coder_names_the_coders_there():
    with pytest.raises(AgreementError, match=r"No codings by 'C'. Coders in the store: A, B"):
        agreement_report(codings(), "A", "C")


def test_classification_report_matches_sklearn():
    from sklearn.metrics import f1_score

    gold = ["a", "a", "b", "c", "c", "c"]
    pred = ["a", "b", "b", "c", "a", "c"]
    table = classification_report_frame(gold, pred)
    assert table.loc["macro avg", "f1"] == pytest.approx(f1_score(gold, pred, average="macro"))
    assert table.loc["b", "support"] == 1
