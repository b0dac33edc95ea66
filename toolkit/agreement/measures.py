"""Agreement measures on two aligned label lists, and Krippendorff's alpha on reliability data.

Cohen's kappa and the confusion table come from scikit-learn (``cohen_kappa_score``,
``confusion_matrix``); this module adds what scikit-learn leaves to the caller: labels of
mixed types, missing labels refused with a fix, and the degenerate cases below.
Krippendorff's alpha is computed here from the coincidence matrix (Krippendorff 2011)
because the ``krippendorff`` package is GPL-3.0 (the toolkit is not) and takes no labels
of mixed types; the test suite cross-checks the two on random data.

Degenerate data
---------------
When there is no variation at all (every value from every coder is the same
category) the chance term is 1 and both coefficients are 0/0. Krippendorff calls
such data uninformative about reliability. Here the convention is:
**1.0 when observed agreement is perfect, else NaN** (for 0/0 the observed agreement
is always perfect, so in practice the result is 1.0). Data with nothing to compare
(no pairs, or fewer than two pairable values) gives NaN. Both cases are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import ToolkitError

log = logging.getLogger(__name__)

TOTAL = "Total"
"""Name of the margins row and column of :func:`confusion_table`."""

LEVELS = ("nominal", "ordinal", "interval", "ratio")

class AgreementError(ToolkitError, ValueError):
    """The labels or codings given cannot be compared as asked (missing coder, no shared units...)."""


# --------------------------------------------------------------------------- helpers
def _as_list(values: Any, name: str) -> list:
    """A sequence of labels as a plain list, compared by position (a Series index is ignored)."""
    if isinstance(values, (str, bytes)):
        raise AgreementError(f"{name} is a single string ({values!r}); pass a sequence of labels, one per unit.")
    if isinstance(values, pd.Series):
        return values.tolist()
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise AgreementError(f"{name} has shape {values.shape}; expected one label per unit (a 1-D sequence).")
        return values.tolist()
    return list(values)


def _pairs(a: Any, b: Any) -> tuple[list, list]:
    """Two aligned label lists, checked for equal length and for missing labels."""
    a_list, b_list = _as_list(a, "a"), _as_list(b, "b")
    if len(a_list) != len(b_list):
        raise AgreementError(
            f"The two coders' labels are not aligned: a has {len(a_list)} labels, b has {len(b_list)}. "
            "Pass one label per unit from each coder, in the same unit order."
        )
    missing = np.flatnonzero(_isna_array(a_list) | _isna_array(b_list)).tolist()
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
        raise AgreementError(
            f"{len(missing)} of {len(a_list)} units have a missing label (positions {shown}). "
            "Cohen's kappa and percent agreement need both coders' label on every unit: drop those units, "
            "give them an explicit label such as '(uncoded)', or use krippendorff_alpha, which allows missing values."
        )
    return a_list, b_list


def _isna_array(values: list) -> np.ndarray:
    """Missing-value mask of a list of labels (labels may be any object, tuples included)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return np.asarray(pd.isna(array), dtype=bool)


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like values are not missing
        return False


def _sorted_labels(values: Any) -> list:
    """Distinct labels in a stable order: sorted, by their text when types are mixed."""
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def _check_labels(labels: Sequence | None, *lists: list) -> list:
    """The category list: ``labels`` (checked to cover every value) or the sorted values seen."""
    seen = set().union(*lists)
    if labels is None:
        return _sorted_labels(seen)
    labels = list(labels)
    if len(set(labels)) != len(labels):
        raise AgreementError(f"labels holds duplicates: {labels!r}. List each category once.")
    unknown = _sorted_labels(seen - set(labels))
    if unknown:
        raise AgreementError(
            f"Labels {unknown!r} are not among the categories given ({labels!r}). "
            "Add them to labels, or leave labels out to use every label found."
        )
    return labels


# --------------------------------------------------------------------------- two coders
def percent_agreement(a: Sequence, b: Sequence) -> float:
    """Share of units on which two coders gave the same label, as a proportion.

    Parameters
    ----------
    a, b : one label per unit from each coder, aligned by position (a Series'
        index is not used). Missing labels (None/NaN) raise :class:`AgreementError`.

    Returns
    -------
    Proportion in [0, 1] (0.7 means 70 %); NaN for empty input.

    Examples
    --------
    >>> percent_agreement(["x", "y", "y", "z"], ["x", "y", "z", "z"])
    0.75
    """
    a_list, b_list = _pairs(a, b)
    if not a_list:
        log.info("percent_agreement: no units, result is NaN")
        return float("nan")
    return sum(x == y for x, y in zip(a_list, b_list)) / len(a_list)


def cohen_kappa(a: Sequence, b: Sequence, labels: Sequence | None = None) -> float:
    """Cohen's kappa for two coders with nominal labels.

    ``kappa = (po - pe) / (1 - pe)`` where ``po`` is the observed proportion of
    agreement and ``pe = sum_k pA(k) * pB(k)`` the agreement expected from each
    coder's own label distribution.

    Parameters
    ----------
    a, b : one label per unit from each coder, aligned by position. Missing labels
        (None/NaN) raise :class:`AgreementError`: give them a label of their own or
        use :func:`krippendorff_alpha`.
    labels : the category set. A value outside it raises; categories nobody used
        do not change kappa.

    Returns
    -------
    Kappa in [-1, 1]. Degenerate cases: empty input -> NaN. Both coders used one and
    the same category for every unit -> ``pe = 1`` and kappa is 0/0; then the result
    is 1.0 if observed agreement is perfect, else NaN. (``pe = 1`` forces perfect
    agreement, so this case always gives 1.0.)

    Examples
    --------
    2x2 table a=20 (yes/yes), b=5, c=10, d=15: po = 0.70, pe = 0.5*0.6 + 0.5*0.4 = 0.50.

    >>> a = ["yes"] * 25 + ["no"] * 25
    >>> b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    >>> round(cohen_kappa(a, b), 6)
    0.4
    """
    from sklearn.metrics import cohen_kappa_score

    a_list, b_list = _pairs(a, b)
    labels = _check_labels(labels, a_list, b_list)
    n = len(a_list)
    if n == 0:
        log.info("cohen_kappa: no units, kappa is NaN")
        return float("nan")
    y_a, y_b, codes = _encoded(a_list, b_list, labels)
    if len(set(y_a) | set(y_b)) == 1:  # pe = 1: scikit-learn would divide 0 by 0
        log.info("cohen_kappa: both coders used one category throughout (pe = 1); kappa set to 1.0")
        return 1.0
    return float(cohen_kappa_score(y_a, y_b, labels=codes))


def _encoded(a_list: list, b_list: list, labels: list) -> tuple[list[int], list[int], list[int]]:
    """Labels as integer codes in ``labels`` order: scikit-learn needs one type of label, ours may mix types."""
    index = {label: i for i, label in enumerate(labels)}
    return [index[x] for x in a_list], [index[y] for y in b_list], list(range(len(labels)))


def confusion_table(
    a: Sequence,
    b: Sequence,
    labels: Sequence | None = None,
    *,
    names: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Cross-table of two coders' labels with totals.

    Parameters
    ----------
    a, b : one label per unit from each coder, aligned by position. Missing labels raise.
    labels : order of rows and columns (default: the labels seen, sorted). A value
        outside it raises.
    names : axis names (coder A, coder B); default the Series' names, else ``"A"``, ``"B"``.

    Returns
    -------
    Counts: rows are coder A's labels, columns coder B's, plus a ``Total`` row and
    column. The diagonal holds the agreements.

    Examples
    --------
    >>> confusion_table(["x", "x", "y"], ["x", "y", "y"], names=("ann", "ben"))
    ben    x  y  Total
    ann               
    x      1  1      2
    y      0  1      1
    Total  1  2      3
    """
    a_list, b_list = _pairs(a, b)
    labels = _check_labels(labels, a_list, b_list)
    if TOTAL in labels:
        raise AgreementError(f"A label is called {TOTAL!r}, which is the name of the totals row. Rename that label.")
    if names is None:
        names = (
            getattr(a, "name", None) if isinstance(a, pd.Series) else None,
            getattr(b, "name", None) if isinstance(b, pd.Series) else None,
        )
        names = (names[0] or "A", names[1] or "B")
    from sklearn.metrics import confusion_matrix

    y_a, y_b, codes = _encoded(a_list, b_list, labels)
    if len(labels) > 1 and a_list:
        counts = confusion_matrix(y_a, y_b, labels=codes)
    else:  # nothing to cross: scikit-learn warns on one label, fails on none
        counts = np.full((len(labels), len(labels)), len(a_list), dtype=int)
    table = pd.DataFrame(counts, index=labels, columns=labels)
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    table.index.name, table.columns.name = names
    return table


# --------------------------------------------------------------------------- Krippendorff's alpha
def krippendorff_alpha(data: Any, level: str = "nominal", *, values: Sequence | None = None) -> float:
    """Krippendorff's alpha from the coincidence matrix (Krippendorff 2011).

    Parameters
    ----------
    data : reliability data, **units in rows, coders in columns** (a DataFrame or a
        2-D array; transpose data with coders in rows). None/NaN is a missing value.
        Units with fewer than two values are not pairable and are left out.
    level : ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"``: the difference
        function used (ratio needs values >= 0; interval and ratio need numbers).
    values : for ``"ordinal"``, the categories in rank order (default: the values
        seen, sorted). For other levels, an optional list that every value must be in.

    Returns
    -------
    ``alpha = 1 - Do / De = 1 - (n - 1) * sum(o_ck * d_ck) / sum(n_c * n_k * d_ck)``
    where ``o`` is the coincidence matrix, ``n_c`` its margins and ``n`` the number
    of pairable values. Degenerate cases: fewer than two pairable values -> NaN;
    every pairable value in one category (``De = 0``, alpha is 0/0, data
    Krippendorff calls uninformative) -> 1.0 if observed disagreement is 0, else NaN.

    Notes
    -----
    With two coders, nominal data and no missing values,
    ``alpha = 1 - (1 - pi) * (2N - 1) / (2N)`` where ``pi`` is Scott's pi over N units.

    Examples
    --------
    The example of Krippendorff (2011), 12 units by 4 observers:

    >>> nan = float("nan")
    >>> data = [[1, 1, nan, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    ...         [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [nan, 5, 5, 5], [nan, nan, 1, 1], [nan, 3, nan, nan]]
    >>> round(krippendorff_alpha(data), 3)
    0.743
    >>> round(krippendorff_alpha(data, "interval"), 3)
    0.849
    """
    if level not in LEVELS:
        raise AgreementError(f"Unknown level {level!r}; expected one of {', '.join(LEVELS)}.")
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        array = np.asarray(data, dtype=object)
        if array.ndim != 2:
            raise AgreementError(
                f"data has shape {array.shape}; expected a 2-D table with units in rows and coders in columns "
                "(every row the same length, None/NaN for a missing value)."
            )
        frame = pd.DataFrame(array)
    cells = frame.to_numpy(dtype=object)
    present = ~pd.isna(frame).to_numpy()

    categories, codes = _alpha_codes(cells, present, level, values)
    n_units, n_categories = cells.shape[0], len(categories)
    counts = np.zeros((n_units, max(n_categories, 1)), dtype=float)
    rows, cols = np.nonzero(present)
    np.add.at(counts, (rows, codes[rows, cols]), 1.0)
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    if int(m.sum()) < 2:
        log.info("krippendorff_alpha: fewer than two pairable values (%d units have 2+ values); alpha is NaN",
                 int(pairable.sum()))
        return float("nan")
    if (~pairable).any():
        log.debug("krippendorff_alpha: %d unit(s) with fewer than two values left out", int((~pairable).sum()))

    weighted = counts / (m - 1.0)[:, None]
    coincidence = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    margins = coincidence.sum(axis=1)
    n = margins.sum()
    delta = _delta(categories, margins, level)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(margins, margins) * delta).sum())
    if expected <= 0.0:
        result = 1.0 if observed <= 0.0 else float("nan")
        log.info("krippendorff_alpha: no variation in the pairable values (De = 0); alpha set to %s", result)
        return result
    return float(1.0 - (n - 1.0) * observed / expected)


def _alpha_codes(cells: np.ndarray, present: np.ndarray, level: str, values: Sequence | None):
    """Categories (ordered for ordinal, numeric for interval/ratio) and a code per present cell."""
    seen = cells[present].tolist()
    if level in ("interval", "ratio"):
        try:
            numeric = [float(v) for v in seen]
        except (TypeError, ValueError) as exc:
            raise AgreementError(
                f"{level} alpha needs numbers, but the data holds {exc}. Use level='nominal' or 'ordinal' for labels."
            ) from None
        if level == "ratio" and any(v < 0 for v in numeric):
            raise AgreementError("ratio alpha needs values >= 0. Use level='interval' for data with negative values.")
        categories = _check_labels([float(v) for v in values] if values is not None else None, numeric)
        seen = numeric
    elif level == "ordinal" and values is None:
        try:
            categories = sorted(dict.fromkeys(seen))
        except TypeError:
            raise AgreementError(
                "ordinal alpha needs the categories in rank order, and the values cannot be sorted as they are. "
                "Pass values=[lowest, ..., highest]."
            ) from None
    else:
        categories = _check_labels(values, seen)
    index = {c: i for i, c in enumerate(categories)}
    codes = np.full(cells.shape, -1, dtype=np.int64)
    codes[present] = [index[v] for v in seen]
    return categories, codes


def _delta(categories: list, margins: np.ndarray, level: str) -> np.ndarray:
    """Squared difference d_ck between categories for the given level of measurement."""
    k = len(categories)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        # d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, categories in rank order
        cumulative = np.concatenate([[0.0], np.cumsum(margins)])
        lo, hi = np.minimum.outer(np.arange(k), np.arange(k)), np.maximum.outer(np.arange(k), np.arange(k))
        between = cumulative[hi + 1] - cumulative[lo]
        return (between - (margins[:, None] + margins[None, :]) / 2.0) ** 2
    x = np.asarray(categories, dtype=float)
    if level == "interval":
        return np.subtract.outer(x, x) ** 2
    total = np.add.outer(x, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, np.subtract.outer(x, x) / np.where(total > 0, total, 1.0), 0.0)
    return ratio**2
