"""Agreement between two coders on long-format codings (per label and overall), and scores against gold."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.agreement.measures import (
    AgreementError,
    _isna,
    _pairs,
    _sorted_labels,
    cohen_kappa,
    confusion_table,
    krippendorff_alpha,
    percent_agreement,
)
from toolkit.schema import PRIMARY, UNIT_ID

log = logging.getLogger(__name__)


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
    escape = lambda v: str(v).replace("|", "\\|")
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
