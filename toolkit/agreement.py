"""Inter-coder agreement: Cohen's kappa, Krippendorff's alpha, confusion tables, scores.

Several coders (people, and the machine coder) code the same segments. This module
says how far they agree, per theme and overall, the way NVivo, ATLAS.ti and MAXQDA
report it, and scores the machine coder against a gold standard
(:func:`classification_report_frame`, used by ``toolkit evaluate``).

Everything here is a pure function of its arguments: no files, no printing.

Measures
--------
* :func:`percent_agreement`: the share of units both coders labelled alike,
  as a proportion (0.7 means 70 %).
* :func:`cohen_kappa`: Cohen's (1960) kappa for two coders, nominal labels.
* :func:`krippendorff_alpha`: Krippendorff's alpha for any number of coders, missing
  values allowed, nominal / ordinal / interval / ratio, computed from the
  coincidence matrix as in Krippendorff (2011), "Computing Krippendorff's
  Alpha-Reliability", University of Pennsylvania, ScholarlyCommons.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.schema import PRIMARY, UNIT_ID
from toolkit.errors import ToolkitError

__all__ = [
    "AgreementError",
    "AgreementReport",
    "percent_agreement",
    "cohen_kappa",
    "krippendorff_alpha",
    "confusion_table",
    "agreement_report",
    "classification_report_frame",
    "UNIT_ID",
    "PRIMARY",
    "TOTAL",
]

log = logging.getLogger(__name__)

"""Default name of the column that identifies a coded unit (a segment)."""
"""Optional boolean column of ``codings`` marking a coder's primary label for a unit."""
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


def _counts(a_list: list, b_list: list, labels: list) -> np.ndarray:
    """Contingency counts: rows a's labels, columns b's labels, in ``labels`` order."""
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    cells = np.fromiter((index[x] * k + index[y] for x, y in zip(a_list, b_list)), dtype=np.int64, count=len(a_list))
    return np.bincount(cells, minlength=k * k).reshape(k, k)


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
    a_list, b_list = _pairs(a, b)
    labels = _check_labels(labels, a_list, b_list)
    n = len(a_list)
    if n == 0:
        log.info("cohen_kappa: no units, kappa is NaN")
        return float("nan")
    table = _counts(a_list, b_list, labels)
    agree = int(np.trace(table))
    chance = int(table.sum(axis=1) @ table.sum(axis=0))  # n^2 * pe, exact in integers
    if chance == n * n:
        result = 1.0 if agree == n else float("nan")
        log.info("cohen_kappa: both coders used one category throughout (pe = 1); kappa set to %s", result)
        return result
    po, pe = agree / n, chance / (n * n)
    return (po - pe) / (1.0 - pe)


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
    table = pd.DataFrame(_counts(a_list, b_list, labels), index=labels, columns=labels)
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


# --------------------------------------------------------------------------- report on long-format codings
@dataclass
class AgreementReport:
    """Agreement between two coders, per label and overall.

    Attributes
    ----------
    per_theme : indexed by label (theme or polarity; the index is named after
        ``label_col``), one row per label: ``n_units``, ``n_a``, ``n_b``
        (units each coder gave the label), ``n_both``, ``percent_agreement``,
        ``kappa``, ``alpha`` (present/absent comparison).
    overall : on the primary label per unit: ``coder_a``, ``coder_b``, ``label_col``,
        ``n_units``, ``percent_agreement``, ``kappa``, ``alpha``, plus
        ``ignore_uncoded``, ``n_units_dropped`` (left out as uncoded),
        ``n_units_only_a`` / ``n_units_only_b`` (units only one coder has rows for).
    confusion : :func:`confusion_table` of the primary labels (rows coder A).
    """

    per_theme: pd.DataFrame
    overall: dict = field(default_factory=dict)
    confusion: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _summary(self) -> str:
        o = self.overall
        return (
            f"Overall ({o['n_units']} units, primary {o['label_col']} per unit): "
            f"percent agreement {_pct(o['percent_agreement'])}, "
            f"Cohen's kappa {_num(o['kappa'])}, Krippendorff's alpha {_num(o['alpha'])}"
        )

    def _notes(self) -> list[str]:
        o = self.overall
        notes = []
        if o.get("n_units_dropped"):
            notes.append(f"{o['n_units_dropped']} unit(s) left out because a coder gave them no {o['label_col']}.")
        if o.get("n_units_only_a") or o.get("n_units_only_b"):
            notes.append(
                f"Units with codings from one coder only: {o.get('n_units_only_a', 0)} from '{o['coder_a']}', "
                f"{o.get('n_units_only_b', 0)} from '{o['coder_b']}'; the other coder counts as leaving them uncoded."
            )
        return notes

    def _theme_table(self) -> pd.DataFrame:
        table = self.per_theme.copy()
        table["percent_agreement"] = table["percent_agreement"].map(_pct)
        for col in ("kappa", "alpha"):
            table[col] = table[col].map(_num)
        return table

    def to_text(self) -> str:
        """Plain-text report for the command line."""
        o = self.overall
        parts = [self._summary(), *self._notes(), ""]
        parts.append(f"Per {o['label_col']} (present / absent on each unit):")
        parts.append(self._theme_table().to_string() if len(self.per_theme) else "(none)")
        parts.append("")
        parts.append(f"Primary {o['label_col']}: rows '{o['coder_a']}', columns '{o['coder_b']}'")
        parts.append(self.confusion.to_string())
        return "\n".join(parts)

    def to_markdown(self) -> str:
        """Markdown report (GitHub-flavoured tables)."""
        o = self.overall
        parts = [f"## Agreement on {o['label_col']}: '{o['coder_a']}' and '{o['coder_b']}'", "", self._summary() + "."]
        parts += [f"- {note}" for note in self._notes()]
        parts += ["", f"### Per {o['label_col']}", "", _markdown_table(self._theme_table(), index=True)]
        parts += ["", f"### Primary {o['label_col']} (rows '{o['coder_a']}', columns '{o['coder_b']}')", ""]
        parts.append(_markdown_table(self.confusion, index=True))
        return "\n".join(parts) + "\n"


def _pct(value: float) -> str:
    return "n/a" if _isna(value) else f"{100.0 * value:.1f} %"


def _num(value: float) -> str:
    return "n/a" if _isna(value) else f"{value:.3f}"


def _markdown_table(frame: pd.DataFrame, *, index: bool) -> str:
    if index:
        frame = frame.reset_index()
    header = [str(c) for c in frame.columns]
    escape = lambda v: str(v).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(escape, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def agreement_report(
    codings: pd.DataFrame,
    coder_a: str,
    coder_b: str,
    *,
    unit_col: str = UNIT_ID,
    coder_col: str = s.CODER,
    label_col: str = s.THEME,
    ignore_uncoded: bool = False,
    uncoded_label: str = "(uncoded)",
) -> AgreementReport:
    """Agreement between two coders on long-format codings, per label and overall.

    Parameters
    ----------
    codings : one row per (unit, coder, label). A coder may give a unit several
        labels (multi-label); a row with a missing label records that the coder saw
        the unit and gave it no label. An optional boolean ``primary`` column marks
        each coder's primary label for a unit. Other coders' rows are ignored.
    coder_a, coder_b : the two coders to compare (values of ``coder_col``).
    unit_col, coder_col, label_col : column names; ``label_col="polarity"`` compares
        polarity the same way.
    ignore_uncoded : leave out every unit that **either** coder left without any label.
    uncoded_label : the overall label of a unit a coder left without any label.

    Returns
    -------
    :class:`AgreementReport`.

    Notes
    -----
    **Units.** The units compared are every unit either coder has a row for (the
    union). A coder with no row for a unit, or only rows with a missing label, left
    it uncoded: every label counts as absent for that coder. As in NVivo's coding
    comparison, "neither coder applied this label here" counts as agreement. To
    compare only units both coders saw, filter ``codings`` first; the numbers of
    units only one coder has rows for are in ``overall`` and logged.

    **ignore_uncoded.** With ``ignore_uncoded=True`` a unit is left out, of both the
    per-label and the overall figures, when coder A or coder B (or both) gave it no
    label, so what remains are units both coders coded with something; agreement
    then measures *which* labels they chose, not *whether* they coded. The number
    left out is ``overall["n_units_dropped"]``. Labels only used on dropped units
    get no row.

    **Per label.** For every label either coder used on a kept unit, each unit is
    present (1) or absent (0) for each coder; percent agreement, Cohen's kappa and
    nominal Krippendorff's alpha are computed on these 0/1 pairs over all kept units.

    **Overall.** Each coder's primary label per unit: the first row in ``codings``
    order with a label and ``primary`` true when that column exists; otherwise (no
    such column, or no labelled row marked primary) the first labelled row in
    ``codings`` order. A unit the coder left uncoded gets ``uncoded_label`` (unless
    ``ignore_uncoded`` dropped it). Kappa and nominal alpha are computed on these
    single labels, and :func:`confusion_table` cross-tabulates them.

    Raises
    ------
    AgreementError : a column or a coder is missing (the message lists what exists),
        the coders are the same, a unit id is missing, ``uncoded_label`` is also a
        real label, the coders have no unit in common, or no unit is left.

    Examples
    --------
    >>> codings = pd.DataFrame({
    ...     "unit_id": [1, 1, 2, 3, 1, 2, 3],
    ...     "coder": ["ann", "ann", "ann", "ann", "ben", "ben", "ben"],
    ...     "theme": ["trust", "IG", "trust", None, "trust", "IG", "IG"],
    ... })
    >>> report = agreement_report(codings, "ann", "ben")
    >>> report.overall["n_units"], round(report.overall["percent_agreement"], 3)
    (3, 0.333)
    >>> report.per_theme[["n_a", "n_b", "n_both"]].to_dict("index")
    {'IG': {'n_a': 1, 'n_b': 2, 'n_both': 0}, 'trust': {'n_a': 2, 'n_b': 1, 'n_both': 1}}
    """
    frame = _validate_codings(codings, coder_a, coder_b, unit_col, coder_col, label_col)
    has_primary = PRIMARY in frame.columns
    sides = {}
    for coder in (coder_a, coder_b):
        rows = frame[frame[coder_col] == coder]
        labelled = rows[rows[label_col].notna()]
        sides[coder] = {
            "seen": list(dict.fromkeys(rows[unit_col])),
            "sets": _label_sets(labelled, unit_col, label_col),
            "primary": _primary_labels(labelled, unit_col, label_col, has_primary),
        }
    a, b = sides[coder_a], sides[coder_b]

    seen_a, seen_b = set(a["seen"]), set(b["seen"])
    if not seen_a & seen_b:
        raise AgreementError(
            f"Coders '{coder_a}' and '{coder_b}' have no {unit_col} in common ('{coder_a}' has "
            f"{len(seen_a)} units, e.g. {_examples(a['seen'])}; '{coder_b}' has {len(seen_b)}, e.g. "
            f"{_examples(b['seen'])}). Check that both coded the same segments and that their ids match."
        )
    units = list(dict.fromkeys(a["seen"] + b["seen"]))
    only_a, only_b = len(seen_a - seen_b), len(seen_b - seen_a)
    if only_a or only_b:
        log.info("units with codings from one coder only: %d from '%s', %d from '%s'; counted as uncoded by the "
                 "other coder", only_a, coder_a, only_b, coder_b)

    all_labels = set().union(*a["sets"].values(), *b["sets"].values())
    if not ignore_uncoded and uncoded_label in all_labels:
        raise AgreementError(
            f"uncoded_label {uncoded_label!r} is also a {label_col} in the codings, so uncoded units could not be "
            "told apart from it. Pass another uncoded_label."
        )

    dropped = 0
    if ignore_uncoded:
        kept = [u for u in units if u in a["sets"] and u in b["sets"]]
        dropped = len(units) - len(kept)
        units = kept
        log.info("ignore_uncoded: left out %d of %d unit(s) that '%s' or '%s' gave no %s",
                 dropped, dropped + len(units), coder_a, coder_b, label_col)
        if not units:
            raise AgreementError(
                f"No unit is left: every one of the {dropped} units was left without a {label_col} by "
                f"'{coder_a}' or '{coder_b}'. Run without ignore_uncoded to count uncoded units."
            )

    per_theme = _per_label(units, a["sets"], b["sets"], label_col)
    primary_a = [a["primary"].get(u, uncoded_label) for u in units]
    primary_b = [b["primary"].get(u, uncoded_label) for u in units]
    used = set(primary_a) | set(primary_b)
    labels = _sorted_labels(used - {uncoded_label}) + ([uncoded_label] if uncoded_label in used else [])
    overall = {
        "coder_a": coder_a,
        "coder_b": coder_b,
        "label_col": label_col,
        "n_units": len(units),
        "percent_agreement": percent_agreement(primary_a, primary_b),
        "kappa": cohen_kappa(primary_a, primary_b, labels=labels),
        "alpha": krippendorff_alpha(pd.DataFrame({coder_a: primary_a, coder_b: primary_b})),
        "ignore_uncoded": ignore_uncoded,
        "n_units_dropped": dropped,
        "n_units_only_a": only_a,
        "n_units_only_b": only_b,
    }
    confusion = confusion_table(primary_a, primary_b, labels=labels, names=(str(coder_a), str(coder_b)))
    return AgreementReport(per_theme=per_theme, overall=overall, confusion=confusion)


def _examples(values: list, k: int = 3) -> str:
    return ", ".join(repr(v) for v in values[:k]) or "none"


def _validate_codings(
    codings: pd.DataFrame, coder_a: str, coder_b: str, unit_col: str, coder_col: str, label_col: str
) -> pd.DataFrame:
    if not isinstance(codings, pd.DataFrame):
        raise AgreementError(f"codings must be a pandas DataFrame, not {type(codings).__name__}.")
    missing = [c for c in (unit_col, coder_col, label_col) if c not in codings.columns]
    if missing:
        raise AgreementError(
            f"codings has no column {', '.join(map(repr, missing))}. Found: {', '.join(map(str, codings.columns))}. "
            "Pass unit_col, coder_col and label_col to name the columns."
        )
    if coder_a == coder_b:
        raise AgreementError(f"Both coders are '{coder_a}'; name two different coders.")
    coders = _sorted_labels(codings[coder_col].dropna())
    absent = [c for c in (coder_a, coder_b) if c not in set(coders)]
    if absent:
        raise AgreementError(
            f"No codings by {' or '.join(repr(c) for c in absent)}. Coders found: "
            f"{', '.join(repr(c) for c in coders) or 'none'}. Pass one of those names."
        )
    frame = codings[codings[coder_col].isin([coder_a, coder_b])]
    no_unit = int(frame[unit_col].isna().sum())
    if no_unit:
        raise AgreementError(
            f"{no_unit} coding row(s) of '{coder_a}' or '{coder_b}' have no {unit_col}, so they cannot be matched "
            "to a unit. Fill in or drop those rows."
        )
    return frame


def _label_sets(labelled: pd.DataFrame, unit_col: str, label_col: str) -> dict:
    """Each unit's set of labels for one coder."""
    sets: dict = {}
    for unit, label in zip(labelled[unit_col].tolist(), labelled[label_col].tolist()):
        sets.setdefault(unit, set()).add(label)
    return sets


def _primary_labels(labelled: pd.DataFrame, unit_col: str, label_col: str, has_primary: bool) -> dict:
    """Each unit's primary label for one coder (see :func:`agreement_report`)."""
    first = labelled.drop_duplicates(unit_col, keep="first").set_index(unit_col)[label_col].to_dict()
    if not has_primary:
        return first
    flags = labelled[PRIMARY].astype(object).where(labelled[PRIMARY].notna(), False).astype(bool)
    marked = labelled[flags]
    several = marked.groupby(unit_col, sort=False)[label_col].nunique()
    if (several > 1).any():
        log.warning("%d unit(s) have several different labels marked primary by one coder; the first one is used",
                    int((several > 1).sum()))
    first.update(marked.drop_duplicates(unit_col, keep="first").set_index(unit_col)[label_col].to_dict())
    return first


def _per_label(units: list, sets_a: dict, sets_b: dict, label_col: str) -> pd.DataFrame:
    empty: set = set()
    used = set()
    for u in units:
        used |= sets_a.get(u, empty) | sets_b.get(u, empty)
    rows = []
    for label in _sorted_labels(used):
        x = [int(label in sets_a.get(u, empty)) for u in units]
        y = [int(label in sets_b.get(u, empty)) for u in units]
        rows.append(
            {
                label_col: label,
                "n_units": len(units),
                "n_a": sum(x),
                "n_b": sum(y),
                "n_both": sum(i & j for i, j in zip(x, y)),
                "percent_agreement": percent_agreement(x, y),
                "kappa": cohen_kappa(x, y, labels=[0, 1]),
                "alpha": krippendorff_alpha(np.column_stack([x, y])),
            }
        )
    columns = [label_col, "n_units", "n_a", "n_b", "n_both", "percent_agreement", "kappa", "alpha"]
    return pd.DataFrame(rows, columns=columns).set_index(label_col)


# --------------------------------------------------------------------------- scoring against gold
def classification_report_frame(
    gold: Sequence,
    predicted: Sequence,
    labels: Sequence | None = None,
) -> pd.DataFrame:
    """Precision, recall, F1 and support per label, with averages, as a DataFrame.

    Parameters
    ----------
    gold, predicted : one label per item, aligned by position; missing labels raise.
    labels : the labels to score, in order (default: every label in either, sorted).
        Items whose labels are not listed count only where they meet a listed label
        (a gold ``"x"`` predicted ``"barrier"`` is a false positive for barrier), as in
        scikit-learn.

    Returns
    -------
    Index: the labels, then ``micro avg``, ``macro avg``, ``weighted avg`` (always the
    last three rows). Columns ``precision``, ``recall``, ``f1``, ``support`` (gold
    count; the averages' support is the sum over the listed labels). A ratio with a
    zero denominator (a label never predicted, or absent from gold) is 0, as
    scikit-learn's ``zero_division=0``. When every label is listed, the micro
    average equals accuracy.

    Examples
    --------
    >>> table = classification_report_frame(["a", "a", "b"], ["a", "b", "b"])
    >>> table.round(3).to_dict("index")["a"]
    {'precision': 1.0, 'recall': 0.5, 'f1': 0.667, 'support': 2}
    """
    from sklearn.metrics import precision_recall_fscore_support

    gold_list, predicted_list = _pairs(gold, predicted)
    if not gold_list:
        raise AgreementError("Nothing to score: gold and predicted are empty.")
    labels = _sorted_labels(gold_list + predicted_list) if labels is None else list(labels)
    unlisted = len([1 for g, p in zip(gold_list, predicted_list) if g not in labels or p not in labels])
    if unlisted:
        log.info("classification_report_frame: %d item(s) have a gold or predicted label outside labels", unlisted)
    # sklearn needs one type of label: compare through a code per distinct label.
    codes = {label: i for i, label in enumerate(dict.fromkeys(labels + gold_list + predicted_list))}
    y_true = [codes[v] for v in gold_list]
    y_pred = [codes[v] for v in predicted_list]
    listed = [codes[v] for v in labels]
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=listed, average=None, zero_division=0)
    table = pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": support.astype(int)}, index=labels)
    for average in ("micro", "macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=listed, average=average, zero_division=0
        )
        table.loc[f"{average} avg"] = [p, r, f, int(support.sum())]
    table["support"] = table["support"].astype(int)
    table.index.name = "label"
    return table
