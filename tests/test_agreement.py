"""Inter-coder agreement against examples worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from toolkit.agreement import (
    TOTAL,
    AgreementError,
    AgreementReport,
    agreement_report,
    classification_report_frame,
    cohen_kappa,
    confusion_table,
    krippendorff_alpha,
    percent_agreement,
)
from toolkit.errors import ToolkitError

nan = float("nan")


def from_table(table: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    """Two coders' label lists that reproduce a contingency table {(a_label, b_label): count}."""
    a, b = [], []
    for (x, y), count in table.items():
        a += [x] * count
        b += [y] * count
    return a, b


# --------------------------------------------------------------------------- Cohen's kappa, percent agreement
def test_kappa_two_by_two():
    # a=20 (yes,yes), b=5 (yes,no), c=10 (no,yes), d=15 (no,no); n=50
    # po = (20+15)/50 = 0.70
    # A: yes 25, no 25; B: yes 30, no 20 -> pe = 0.5*0.6 + 0.5*0.4 = 0.50
    # kappa = (0.70 - 0.50) / (1 - 0.50) = 0.40
    a, b = from_table({("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15})
    assert percent_agreement(a, b) == pytest.approx(0.70)
    assert cohen_kappa(a, b) == pytest.approx(0.40)


def test_kappa_three_categories():
    #          B: x   y   z | A total
    # A x       10   2   3  |  15
    # A y        1  12   2  |  15
    # A z        4   1  15  |  20
    # B total   15  15  20  |  50
    # po = (10+12+15)/50 = 0.74
    # pe = (15*15 + 15*15 + 20*20)/50^2 = 850/2500 = 0.34
    # kappa = (0.74 - 0.34)/(1 - 0.34) = 0.40/0.66 = 20/33
    a, b = from_table(
        {
            ("x", "x"): 10, ("x", "y"): 2, ("x", "z"): 3,
            ("y", "x"): 1, ("y", "y"): 12, ("y", "z"): 2,
            ("z", "x"): 4, ("z", "y"): 1, ("z", "z"): 15,
        }
    )  # fmt: skip
    assert percent_agreement(a, b) == pytest.approx(0.74)
    assert cohen_kappa(a, b) == pytest.approx(20 / 33)


def test_kappa_matches_sklearn_and_ignores_order_and_unused_labels():
    from sklearn.metrics import cohen_kappa_score

    a, b = from_table({("p", "p"): 7, ("p", "q"): 3, ("q", "r"): 2, ("r", "r"): 6, ("r", "p"): 1, ("q", "q"): 4})
    expected = cohen_kappa_score(a, b)
    assert cohen_kappa(a, b) == pytest.approx(expected)
    assert cohen_kappa(pd.Series(a), np.array(b)) == pytest.approx(expected)
    assert cohen_kappa(a, b, labels=["r", "q", "p", "never used"]) == pytest.approx(expected)
    assert cohen_kappa(b, a) == pytest.approx(expected)  # kappa is symmetric in the two coders


def test_kappa_perfect_and_worse_than_chance():
    assert cohen_kappa(["x", "y", "x"], ["x", "y", "x"]) == 1.0
    # complete disagreement on a balanced 2x2: po = 0, pe = 0.5 -> kappa = -1
    assert cohen_kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)


def test_kappa_degenerate_cases():
    # both coders used one category for every unit: pe = 1, 0/0 -> 1.0 (observed agreement is perfect)
    assert cohen_kappa(["x"] * 5, ["x"] * 5) == 1.0
    assert cohen_kappa([0, 0, 0], [0, 0, 0], labels=[0, 1]) == 1.0
    # nothing to compare
    assert math.isnan(cohen_kappa([], []))
    assert math.isnan(percent_agreement([], []))


def test_kappa_refuses_missing_labels_and_misaligned_input():
    with pytest.raises(AgreementError, match=r"1 of 3 units have a missing label \(positions 1\).*krippendorff_alpha"):
        cohen_kappa(["x", None, "y"], ["x", "y", "y"])
    with pytest.raises(AgreementError, match="a has 2 labels, b has 3"):
        percent_agreement(["x", "y"], ["x", "y", "y"])
    with pytest.raises(AgreementError, match=r"Labels \['z'\] are not among the categories given"):
        cohen_kappa(["x", "z"], ["x", "y"], labels=["x", "y"])
    with pytest.raises(AgreementError, match="single string"):
        cohen_kappa("xy", "xy")


def test_agreement_error_is_a_toolkit_error_and_a_value_error():
    with pytest.raises(ToolkitError):
        cohen_kappa(["x"], [])
    with pytest.raises(ValueError):
        cohen_kappa(["x"], [])


# --------------------------------------------------------------------------- Krippendorff's alpha
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units with
# missing values. Written there with observers in rows; here transposed to units in rows.
CANONICAL = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],  # observer A
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],  # observer B
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],  # observer C
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],  # observer D
    ]
).T


def test_alpha_canonical_example_nominal():
    # Unit 12 has one value and is not pairable; 40 pairable values remain.
    # Margins of the coincidence matrix: n_1=9, n_2=13, n_3=10, n_4=5, n_5=3 (n=40), off-diagonal mass 8
    # (unit 2: 1.0 + unit 6: 4.0 + unit 8: 1.0 + ... as in the paper's table).
    # alpha = 1 - (n-1) * 8 / (40^2 - (81+169+100+25+9)) = 1 - 39*8/1216 = 113/152 = 0.743
    alpha = krippendorff_alpha(CANONICAL)
    assert alpha == pytest.approx(113 / 152)
    assert round(alpha, 3) == 0.743


@pytest.mark.parametrize(("level", "published"), [("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_alpha_canonical_example_other_levels(level, published):
    # the values Krippendorff (2011) reports for the same data
    assert round(krippendorff_alpha(CANONICAL, level), 3) == published


def test_alpha_accepts_dataframes_with_none_and_string_labels():
    frame = pd.DataFrame(CANONICAL, columns=list("ABCD")).astype(object)
    frame = frame.where(frame.notna(), None)
    assert krippendorff_alpha(frame) == pytest.approx(113 / 152)
    labels = frame.map(lambda v: None if v is None else f"code {int(v)}")
    assert krippendorff_alpha(labels) == pytest.approx(113 / 152)


def test_alpha_two_coders_with_missing_value_by_hand():
    # unit:  1    2    3    4     5    6
    # A:     a    a    b    b     c    a
    # B:     a    b    b    -     c    c
    # Unit 4 has one value: not pairable. 5 units x 2 = 10 pairable values:
    # n_a = 4, n_b = 3, n_c = 3. Disagreeing units 2 (a,b) and 6 (a,c): off-diagonal coincidences
    # o_ab = o_ba = o_ac = o_ca = 1, total 4.
    # alpha = 1 - (10-1) * 4 / (10^2 - (16+9+9)) = 1 - 36/66 = 5/11 = 0.4545...
    # Check via Scott's pi on the 5 complete units: po = 3/5, pe = 0.4^2+0.3^2+0.3^2 = 0.34,
    # pi = 0.26/0.66 = 13/33; alpha = 1 - (1 - pi)(2N-1)/(2N) = 1 - (20/33)(9/10) = 5/11.
    # (Cohen's kappa on the same 5 units differs: A a3 b1 c1, B a1 b2 c2, pe = 7/25, kappa = 4/9.)
    data = [["a", "a"], ["a", "b"], ["b", "b"], ["b", None], ["c", "c"], ["a", "c"]]
    assert krippendorff_alpha(data) == pytest.approx(5 / 11)
    complete = [row for row in data if None not in row]
    assert cohen_kappa(*zip(*complete)) == pytest.approx(4 / 9)


def test_alpha_two_by_two_equals_small_sample_scotts_pi():
    # the 2x2 table above (a=20, b=5, c=10, d=15): pooled yes = 55/100, no = 45/100
    # Scott's pi: pe = 0.55^2 + 0.45^2 = 0.505, pi = (0.70-0.505)/0.495 = 13/33
    # alpha = 1 - (1 - 13/33) * 99/100 = 0.4; directly: 1 - 99 * 30 / (2*55*45) = 1 - 2970/4950 = 0.4
    a, b = from_table({("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15})
    assert krippendorff_alpha(np.column_stack([a, b])) == pytest.approx(0.4)


def test_alpha_unpairable_units_do_not_count():
    base = [["a", "a"], ["a", "b"], ["b", "b"]]
    with_lonely = base + [["b", None], [None, "a"], [None, None]]
    assert krippendorff_alpha(with_lonely) == pytest.approx(krippendorff_alpha(base))
    # more than two coders, some missing: unit (a, a, -) counts with m_u = 2
    assert krippendorff_alpha([["a", "a", None], ["b", "b", "b"]]) == 1.0


def test_alpha_degenerate_cases():
    assert krippendorff_alpha([["a", "a"], ["b", "b"]]) == 1.0  # perfect agreement with variation
    assert krippendorff_alpha([["a", "a"], ["a", "a"], ["a", None]]) == 1.0  # no variation: 0/0 -> 1.0
    assert math.isnan(krippendorff_alpha([["a", None], [None, "b"]]))  # nothing pairable
    assert math.isnan(krippendorff_alpha(np.empty((0, 2))))


def test_alpha_ordinal_uses_the_rank_order_given():
    # ranks low < mid < high; disagreements are one step apart in that order, two steps alphabetically
    data = [["low", "mid"], ["mid", "high"], ["low", "low"], ["high", "high"], ["mid", "mid"]]
    ranked = krippendorff_alpha(data, "ordinal", values=["low", "mid", "high"])
    alphabetical = krippendorff_alpha(data, "ordinal")  # high < low < mid
    assert ranked > alphabetical
    numeric = krippendorff_alpha([[1, 2], [2, 3], [1, 1], [3, 3], [2, 2]], "ordinal")
    assert ranked == pytest.approx(numeric)


def test_alpha_bad_arguments():
    with pytest.raises(AgreementError, match="Unknown level 'fuzzy'"):
        krippendorff_alpha([[1, 1]], "fuzzy")
    with pytest.raises(AgreementError, match="interval alpha needs numbers"):
        krippendorff_alpha([["a", "b"]], "interval")
    with pytest.raises(AgreementError, match="ratio alpha needs values >= 0"):
        krippendorff_alpha([[-1, 2]], "ratio")
    with pytest.raises(AgreementError, match="units in rows and coders in columns"):
        krippendorff_alpha(["a", "b", "c"])
    with pytest.raises(AgreementError, match=r"Labels \['c'\] are not among"):
        krippendorff_alpha([["a", "c"]], values=["a", "b"])


# --------------------------------------------------------------------------- confusion table
def test_confusion_table_counts_and_totals():
    a = pd.Series(["x", "x", "y", "z"], name="ann")
    b = pd.Series(["x", "y", "y", "x"], name="ben")
    table = confusion_table(a, b)
    assert table.index.name == "ann" and table.columns.name == "ben"
    assert list(table.index) == ["x", "y", "z", TOTAL] and list(table.columns) == ["x", "y", "z", TOTAL]
    assert table.loc["x", "x"] == 1 and table.loc["x", "y"] == 1 and table.loc["z", "x"] == 1
    assert table.loc["x", TOTAL] == 2 and table.loc[TOTAL, "x"] == 2 and table.loc[TOTAL, TOTAL] == 4
    ordered = confusion_table(a, b, labels=["z", "y", "x"], names=("A", "B"))
    assert list(ordered.index) == ["z", "y", "x", TOTAL] and ordered.loc["z", "z"] == 0


def test_confusion_table_rejects_a_label_named_total():
    with pytest.raises(AgreementError, match="Rename that label"):
        confusion_table([TOTAL], [TOTAL])


# --------------------------------------------------------------------------- agreement_report
def tiny_codings() -> pd.DataFrame:
    """Two coders, six units, two themes; ann never saw u6 and ben never saw u5.

    unit  ann (row order)        ben (row order)
    u1    T1 (primary), T2       T2, T1 (primary)
    u2    T1                     T2
    u3    - (row, no theme)      T1
    u4    T2                     T2
    u5    T1                     (no row)
    u6    (no row)               - (row, no theme)
    A third coder's rows must be ignored.
    """
    rows = [
        ("u1", "ann", "T1", "barrier", True),
        ("u1", "ann", "T2", "barrier", False),
        ("u2", "ann", "T1", "enabler", True),
        ("u3", "ann", None, None, True),
        ("u4", "ann", "T2", "barrier", True),
        ("u5", "ann", "T1", "neutral", True),
        ("u1", "ben", "T2", "barrier", False),
        ("u1", "ben", "T1", "barrier", True),
        ("u2", "ben", "T2", "enabler", True),
        ("u3", "ben", "T1", "barrier", True),
        ("u4", "ben", "T2", "enabler", True),
        ("u6", "ben", None, None, True),
        ("u1", "cat", "T9", "barrier", True),
    ]
    return pd.DataFrame(rows, columns=["unit_id", "coder", "theme", "polarity", "primary"])


def test_report_per_theme_is_binary_over_the_union_of_units():
    report = agreement_report(tiny_codings(), "ann", "ben")
    assert isinstance(report, AgreementReport)
    table = report.per_theme
    assert list(table.index) == ["T1", "T2"] and table.index.name == "theme"  # T9 is the third coder's
    # T1 over u1..u6: ann 1 1 0 0 1 0 (n_a=3), ben 1 0 1 0 0 0 (n_b=2); agree on u1, u4, u6 -> po = 3/6
    # pe = (3/6)(2/6) + (3/6)(4/6) = 1/2 -> kappa = 0
    # alpha: 12 values, n_1 = 5, n_0 = 7, 3 disagreements -> off-diagonal 6; 1 - 11*6/(2*5*7) = 2/35
    t1 = table.loc["T1"]
    assert (t1["n_units"], t1["n_a"], t1["n_b"], t1["n_both"]) == (6, 3, 2, 1)
    assert t1["percent_agreement"] == pytest.approx(0.5)
    assert t1["kappa"] == pytest.approx(0.0)
    assert t1["alpha"] == pytest.approx(2 / 35)
    # T2: ann 1 0 0 1 0 0 (n_a=2), ben 1 1 0 1 0 0 (n_b=3); only u2 disagrees -> po = 5/6
    # pe = (2/6)(3/6) + (4/6)(3/6) = 1/2 -> kappa = (5/6 - 1/2)/(1/2) = 2/3
    # alpha: n_1 = 5, n_0 = 7, 1 disagreement -> off-diagonal 2; 1 - 11*2/70 = 24/35
    t2 = table.loc["T2"]
    assert (t2["n_a"], t2["n_b"], t2["n_both"]) == (2, 3, 2)
    assert t2["percent_agreement"] == pytest.approx(5 / 6)
    assert t2["kappa"] == pytest.approx(2 / 3)
    assert t2["alpha"] == pytest.approx(24 / 35)


def test_report_overall_uses_first_labelled_row_without_a_primary_column():
    report = agreement_report(tiny_codings().drop(columns="primary"), "ann", "ben")
    # primary by row order: ann T1 T1 (unc) T2 T1 (unc); ben T2 T2 T1 T2 (unc) (unc)
    # agree on u4 and u6 -> po = 2/6
    # ann: T1 3, T2 1, unc 2; ben: T1 1, T2 3, unc 2 -> pe = (3*1 + 1*3 + 2*2)/36 = 10/36
    # kappa = (12/36 - 10/36)/(26/36) = 1/13
    # alpha: 12 values, n_T1 = 4, n_T2 = 4, n_unc = 4; 4 disagreements -> off-diagonal 8
    #        1 - 11*8/(144 - 48) = 1/12
    o = report.overall
    assert (o["coder_a"], o["coder_b"], o["label_col"], o["n_units"]) == ("ann", "ben", "theme", 6)
    assert o["percent_agreement"] == pytest.approx(1 / 3)
    assert o["kappa"] == pytest.approx(1 / 13)
    assert o["alpha"] == pytest.approx(1 / 12)
    assert (o["n_units_only_a"], o["n_units_only_b"], o["n_units_dropped"]) == (1, 1, 0)
    c = report.confusion
    assert list(c.index) == ["T1", "T2", "(uncoded)", TOTAL]  # uncoded last
    assert c.index.name == "ann" and c.columns.name == "ben"
    assert c.loc["T1", "T2"] == 2 and c.loc["T1", "(uncoded)"] == 1 and c.loc["T2", "T2"] == 1
    assert c.loc["(uncoded)", "T1"] == 1 and c.loc["(uncoded)", "(uncoded)"] == 1 and c.loc[TOTAL, TOTAL] == 6


def test_report_overall_honours_the_primary_column():
    report = agreement_report(tiny_codings(), "ann", "ben")
    # ben's u1 primary is now T1 (its second row), so u1 agrees too: agree on u1, u4, u6 -> po = 1/2
    # ben: T1 2, T2 2, unc 2 -> pe = (3*2 + 1*2 + 2*2)/36 = 12/36; kappa = (18-12)/(36-12) = 1/4
    # alpha: n_T1 = 5, n_T2 = 3, n_unc = 4; 3 disagreements -> 1 - 11*6/(144 - 50) = 14/47
    o = report.overall
    assert o["percent_agreement"] == pytest.approx(0.5)
    assert o["kappa"] == pytest.approx(0.25)
    assert o["alpha"] == pytest.approx(14 / 47)
    assert report.confusion.loc["T1", "T1"] == 1


def test_report_ignore_uncoded_drops_units_either_coder_left_without_a_theme():
    report = agreement_report(tiny_codings().drop(columns="primary"), "ann", "ben", ignore_uncoded=True)
    # u3 (ann none), u5 (ben none: never saw it) and u6 (both none) go; u1, u2, u4 stay
    assert report.overall["n_units"] == 3 and report.overall["n_units_dropped"] == 3
    # T1: ann 1 1 0, ben 1 0 0 -> po = 2/3, pe = (2/3)(1/3) + (1/3)(2/3) = 4/9, kappa = (2/9)/(5/9) = 0.4
    #     alpha: 6 values, n_1 = 3, n_0 = 3, 1 disagreement -> 1 - 5*2/18 = 4/9
    t1 = report.per_theme.loc["T1"]
    assert t1["n_units"] == 3
    assert (t1["percent_agreement"], t1["kappa"], t1["alpha"]) == pytest.approx((2 / 3, 0.4, 4 / 9))
    # T2: ann 1 0 1, ben 1 1 1 -> po = 2/3, pe = (2/3)(3/3) + (1/3)(0) = 2/3 -> kappa = 0
    #     alpha: n_1 = 5, n_0 = 1, 1 disagreement -> 1 - 5*2/(2*5*1) = 0
    t2 = report.per_theme.loc["T2"]
    assert (t2["percent_agreement"], t2["kappa"], t2["alpha"]) == pytest.approx((2 / 3, 0.0, 0.0))
    # overall: ann T1 T1 T2, ben T2 T2 T2 -> po = 1/3, pe = (2*0 + 1*3)/9 = 1/3 -> kappa = 0
    # alpha: 6 values, n_T1 = 2, n_T2 = 4, 2 disagreements -> 1 - 5*4/(2*2*4) = -0.25
    o = report.overall
    assert (o["percent_agreement"], o["kappa"], o["alpha"]) == pytest.approx((1 / 3, 0.0, -0.25))
    assert "(uncoded)" not in report.confusion.index


def test_report_on_polarity_and_duplicate_rows():
    codings = tiny_codings()
    codings = pd.concat([codings, codings.iloc[[0]]])  # a repeated row changes nothing (labels are a set)
    report = agreement_report(codings, "ann", "ben", label_col="polarity")
    assert list(report.per_theme.index) == ["barrier", "enabler", "neutral"]
    assert report.per_theme.index.name == "polarity"
    # barrier: ann u1 u4, ben u1 u3 -> n_both = 1, agree on u1 u2 u5 u6 -> 4/6
    barrier = report.per_theme.loc["barrier"]
    assert (barrier["n_a"], barrier["n_b"], barrier["n_both"]) == (2, 2, 1)
    assert barrier["percent_agreement"] == pytest.approx(4 / 6)


def test_report_text_and_markdown():
    report = agreement_report(tiny_codings(), "ann", "ben")
    text = report.to_text()
    assert "percent agreement 50.0 %" in text and "Cohen's kappa 0.250" in text
    assert "1 from 'ann', 1 from 'ben'" in text
    markdown = report.to_markdown()
    assert "| theme | n_units |" in markdown and "| T1 | 6 | 3 | 2 | 1 | 50.0 % | 0.000 | 0.057 |" in markdown
    assert "| ann | T1 | T2 | (uncoded) | Total |" in markdown


def test_report_unknown_coder_names_the_coders_there():
    with pytest.raises(AgreementError, match=r"No codings by 'bob'\. Coders found: 'ann', 'ben', 'cat'"):
        agreement_report(tiny_codings(), "ann", "bob")


def test_report_argument_errors():
    with pytest.raises(AgreementError, match=r"no column 'code'\. Found: unit_id, coder, theme, polarity, primary"):
        agreement_report(tiny_codings(), "ann", "ben", label_col="code")
    with pytest.raises(AgreementError, match="Both coders are 'ann'"):
        agreement_report(tiny_codings(), "ann", "ann")
    with pytest.raises(AgreementError, match="uncoded_label 'T1' is also a theme"):
        agreement_report(tiny_codings(), "ann", "ben", uncoded_label="T1")
    broken = tiny_codings()
    broken.loc[0, "unit_id"] = None
    with pytest.raises(AgreementError, match="1 coding row"):
        agreement_report(broken, "ann", "ben")


def test_report_no_units_in_common():
    codings = tiny_codings()
    codings.loc[codings["coder"] == "ben", "unit_id"] = "seg-" + codings["unit_id"]
    with pytest.raises(AgreementError, match=r"'ann' and 'ben' have no unit_id in common.*e\.g\. 'u1', 'u2', 'u3'"):
        agreement_report(codings, "ann", "ben")


def test_report_nothing_left_after_ignoring_uncoded():
    codings = pd.DataFrame(
        {"unit_id": [1, 2, 1, 2], "coder": ["a", "a", "b", "b"], "theme": ["T1", None, None, "T1"]}
    )
    with pytest.raises(AgreementError, match="No unit is left"):
        agreement_report(codings, "a", "b", ignore_uncoded=True)


# --------------------------------------------------------------------------- scoring against gold
def test_classification_report_frame_matches_sklearn():
    from sklearn.metrics import classification_report

    gold = ["a", "a", "b", "c", "c", "c", "none", "none"]
    pred = ["a", "b", "b", "c", "a", "none", "none", "c"]
    table = classification_report_frame(gold, pred)
    expected = classification_report(gold, pred, output_dict=True, zero_division=0)
    assert list(table.index) == ["a", "b", "c", "none", "micro avg", "macro avg", "weighted avg"]
    assert list(table.columns) == ["precision", "recall", "f1", "support"]
    for label in ("a", "b", "c", "none", "macro avg", "weighted avg"):
        row = expected[label]
        assert table.loc[label, ["precision", "recall", "f1"]].tolist() == pytest.approx(
            [row["precision"], row["recall"], row["f1-score"]]
        )
        assert table.loc[label, "support"] == row["support"]
    # every label listed: the micro average is accuracy (4 of 8 right)
    assert table.loc["micro avg", ["precision", "recall", "f1"]].tolist() == pytest.approx([0.5, 0.5, 0.5])


def test_classification_report_frame_with_a_label_subset():
    # polarity scored on the listed labels only; 'x' never appears in the rows
    gold = ["barrier", "barrier", "enabler", "neutral"]
    pred = ["barrier", "enabler", "enabler", "barrier"]
    table = classification_report_frame(gold, pred, labels=["barrier", "enabler", "neutral"])
    # barrier: tp 1, fp 1 (the neutral row), fn 1 -> p = r = 0.5; neutral never predicted -> p = 0 (zero_division)
    assert table.loc["barrier", ["precision", "recall"]].tolist() == pytest.approx([0.5, 0.5])
    assert table.loc["neutral", "precision"] == 0.0
    assert int(table.loc[table.index[:-3], "support"].sum()) == 4  # what `toolkit evaluate` prints
    assert table.loc["macro avg", "support"] == 4


def test_classification_report_frame_errors():
    with pytest.raises(AgreementError, match="missing label"):
        classification_report_frame(["a", None], ["a", "b"])
    with pytest.raises(AgreementError, match="Nothing to score"):
        classification_report_frame([], [])


# --------------------------------------------------------------------------- cross-checks against the reference package
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_agrees_with_the_krippendorff_package(level, seed):
    """Our alpha (kept because the package is GPL-3.0) equals the reference implementation on random data."""
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    data = rng.integers(1, 6, size=(40, 4)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan  # missing values
    data[:10, 1] = data[:10, 0]  # some agreement, so alpha is not ~0
    ours = krippendorff_alpha(data, level)
    theirs = krippendorff.alpha(reliability_data=data.T, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_alpha_canonical_example_agrees_with_the_krippendorff_package():
    krippendorff = pytest.importorskip("krippendorff")
    data = np.array(
        [[1, 1, nan, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
         [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [nan, 5, 5, 5], [nan, nan, 1, 1], [nan, 3, nan, nan]]
    )
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert krippendorff_alpha(data, level) == pytest.approx(
            krippendorff.alpha(reliability_data=data.T, level_of_measurement=level), abs=1e-9
        )


def test_kappa_and_confusion_come_from_sklearn_on_mixed_label_types():
    """scikit-learn refuses labels of mixed types; ours encodes them first and gives the same numbers."""
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    a = [1, "x", "x", None.__class__.__name__, 1, "x"]
    b = [1, "x", 1, None.__class__.__name__, "x", "x"]
    as_text = ([str(v) for v in a], [str(v) for v in b])
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(*as_text))
    table = confusion_table(a, b, labels=[1, "x", "NoneType"])
    expected = confusion_matrix(*as_text, labels=["1", "x", "NoneType"])
    assert (table.drop(index=TOTAL, columns=TOTAL).to_numpy() == expected).all()
