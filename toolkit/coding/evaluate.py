"""Scoring the machine coder against people, never on what it trained on.

* :func:`evaluate_coder`: precision / recall / F1 tables of codings against a gold standard;
* :func:`score_codings`: the headline figures (theme kappa, polarity macro-F1 between barrier and
  enabler, coverage, calibration error of theme and polarity confidence);
* :func:`cross_validate`: leave-one-group-out (one interview, or one place, at a time): the coder is
  trained on the codebook and the other groups' gold codings (as if reviewed), and scores the group
  it never saw;
* :func:`learning_curve`: the same with only ``n`` reviewed units drawn from the other groups.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.coding.calibration import expected_calibration_error, reliability_table
from toolkit.coding.units import PREVIOUS, PROMPT

log = logging.getLogger(__name__)

NO_THEME = "none"


def evaluate_coder(gold: pd.DataFrame, coded: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Score machine codings against a gold standard.

    ``gold`` has ``theme`` (a theme id or ``none``) and ``polarity``; ``coded`` is the
    output of :func:`code_texts` on the same rows. Returns precision/recall/F1 tables:
    ``theme`` (every row, uncoded = ``none``) and ``polarity`` (rows the gold codes
    with a theme).
    """
    from toolkit.agreement.report import classification_report_frame

    gold_theme = _gold_themes(gold)
    predicted_theme = coded[s.THEME].fillna(NO_THEME).astype(str)
    themed = (gold_theme != NO_THEME).to_numpy()
    gold_polarity = gold[s.POLARITY].fillna(s.NEUTRAL).astype(str).str.strip()[themed]
    predicted_polarity = coded[s.POLARITY].fillna(s.NEUTRAL).astype(str)[themed]
    return {
        "theme": classification_report_frame(gold_theme.tolist(), predicted_theme.tolist()),
        "polarity": classification_report_frame(
            gold_polarity.tolist(), predicted_polarity.tolist(), labels=list(s.POLARITIES)
        ),
    }


def _gold_themes(gold: pd.DataFrame) -> pd.Series:
    return gold[s.THEME].fillna(NO_THEME).astype(str).str.strip().replace("", NO_THEME).reset_index(drop=True)


def predict_frame(coder, gold: pd.DataFrame) -> pd.DataFrame:
    """One row per gold unit: the coder's theme (or none), polarity, the top theme it considered, both confidences."""
    frame = gold[[c for c in (s.TEXT, PROMPT, PREVIOUS) if c in gold.columns]].reset_index(drop=True)
    predictions = coder.predict(frame)
    first = predictions[predictions[s.RANK] == 1].set_index("index").reindex(range(len(frame)))
    evidence = first[s.EVIDENCE]
    second = predictions[predictions[s.RANK] == 2].set_index("index")[s.THEME].reindex(range(len(frame)))
    return pd.DataFrame(
        {
            s.THEME: first[s.THEME].where(first[s.THEME].notna(), None).to_numpy(),
            "secondary_theme": second.to_numpy(),
            s.POLARITY: first[s.POLARITY].where(first[s.POLARITY].notna(), None).to_numpy(),
            "best_theme": [e.get("answer", e.get("best_theme")) if isinstance(e, dict) else None for e in evidence],
            s.CONFIDENCE: first[s.CONFIDENCE].astype(float).to_numpy(),
            "polarity_confidence": [e.get("polarity_confidence") if isinstance(e, dict) else None for e in evidence],
            "uncoded": [e.get("uncoded") if isinstance(e, dict) else None for e in evidence],
        }
    )


def threshold_sweep(gold: pd.DataFrame, coded: pd.DataFrame, thresholds=(0.0, 0.2, 0.35, 0.5, 0.65)) -> pd.DataFrame:
    """Theme kappa, accuracy and coverage had the coder abstained below each confidence threshold.

    Computed from one set of predictions: a unit abstained for low confidence is coded with its best
    theme when its confidence reaches the threshold; units left uncoded for another reason stay uncoded.
    """
    from sklearn.metrics import cohen_kappa_score

    g = _gold_themes(gold)
    themed = (g != NO_THEME).to_numpy()
    reason = coded["uncoded"].fillna("").astype(str).reset_index(drop=True)
    answer = coded["best_theme"].fillna(NO_THEME).astype(str).reset_index(drop=True)
    conf = coded[s.CONFIDENCE].astype(float).reset_index(drop=True)
    eligible = (reason == "") | reason.str.startswith("abstained")
    rows = []
    for t in thresholds:
        p = answer.where(eligible & (conf >= t), NO_THEME)
        coded_units = (p != NO_THEME).to_numpy()
        rows.append({"threshold": t, "theme_kappa": float(cohen_kappa_score(g, p)),
                     "theme_accuracy": float((g == p).mean()),
                     "coverage": float(coded_units[themed].mean()),
                     "precision_of_coded": float((g[coded_units] == p[coded_units]).mean()) if coded_units.any() else float("nan")})
    return pd.DataFrame(rows)


def score_codings(gold: pd.DataFrame, coded: pd.DataFrame, *, codebook=None) -> dict[str, float]:
    """Headline figures of coded units (:func:`predict_frame`) against gold.

    * ``theme_kappa`` / ``theme_accuracy``: primary theme, uncoded = ``none``, over every unit;
    * ``theme_kappa_top``: the same on top-level themes when the codebook has sub-themes;
    * ``coverage``: share of gold-themed units the coder coded; ``none_kept``: share of gold-``none``
      units it left uncoded;
    * ``polarity_f1``: macro-F1 between barrier and enabler, over units both gold and coder coded with
      a theme and gold calls barrier or enabler; ``polarity_accuracy`` over units both coded;
    * ``theme_ece`` (top theme's confidence against its being right, every unit) and ``polarity_ece``.
    """
    from sklearn.metrics import cohen_kappa_score, f1_score

    g_theme = _gold_themes(gold)
    p_theme = coded[s.THEME].fillna(NO_THEME).astype(str).reset_index(drop=True)
    themed = (g_theme != NO_THEME).to_numpy()
    out = {
        "units": len(gold),
        "theme_kappa": float(cohen_kappa_score(g_theme, p_theme)),
        "theme_accuracy": float((g_theme == p_theme).mean()),
        "coverage": float((p_theme[themed] != NO_THEME).mean()) if themed.any() else float("nan"),
        "none_kept": float((p_theme[~themed] == NO_THEME).mean()) if (~themed).any() else float("nan"),
    }
    if codebook is not None and any(getattr(t, "parent", None) for t in codebook.themes):
        top = lambda v: v if v == NO_THEME or v not in codebook.ids else codebook.top_level(v)
        out["theme_kappa_top"] = float(cohen_kappa_score(g_theme.map(top), p_theme.map(top)))
    g_pol = gold[s.POLARITY].fillna("").astype(str).str.strip().reset_index(drop=True)
    p_pol = coded[s.POLARITY].fillna("").astype(str).reset_index(drop=True)
    both = themed & (p_theme != NO_THEME).to_numpy()
    polar = both & g_pol.isin([s.BARRIER, s.ENABLER]).to_numpy()
    if polar.any():
        out["polarity_f1"] = float(f1_score(g_pol[polar], p_pol[polar], labels=[s.BARRIER, s.ENABLER], average="macro"))
        out["polarity_units"] = int(polar.sum())
    if both.any():
        out["polarity_accuracy"] = float((g_pol[both] == p_pol[both]).mean())
    right = (coded["best_theme"].fillna(NO_THEME).astype(str).reset_index(drop=True) == g_theme).to_numpy()
    out["theme_ece"] = expected_calibration_error(coded[s.CONFIDENCE], right)
    pc = pd.to_numeric(coded["polarity_confidence"], errors="coerce").reset_index(drop=True)
    if both.any() and pc[both].notna().any():
        out["polarity_ece"] = expected_calibration_error(pc[both], (g_pol[both] == p_pol[both]).to_numpy())
    return out


def reliability(gold: pd.DataFrame, coded: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Reliability tables (confidence bin, count, mean confidence, accuracy) for theme and polarity."""
    g_theme = _gold_themes(gold)
    right = (coded["best_theme"].fillna(NO_THEME).astype(str).reset_index(drop=True) == g_theme).to_numpy()
    g_pol = gold[s.POLARITY].fillna("").astype(str).reset_index(drop=True)
    p_pol = coded[s.POLARITY].fillna("").astype(str).reset_index(drop=True)
    both = (g_theme != NO_THEME).to_numpy() & coded[s.THEME].notna().to_numpy()
    pc = pd.to_numeric(coded["polarity_confidence"], errors="coerce").reset_index(drop=True)
    return {"theme": reliability_table(coded[s.CONFIDENCE], right),
            "polarity": reliability_table(pc[both], (g_pol[both] == p_pol[both]).to_numpy())}


def as_training(gold: pd.DataFrame) -> pd.DataFrame:
    """Gold units as reviewed human codings (``none`` becomes a unit reviewed as having no theme)."""
    frame = gold[[c for c in (s.TEXT, s.THEME, s.POLARITY, PROMPT, PREVIOUS) if c in gold.columns]].copy()
    none = frame[s.THEME].fillna(NO_THEME).astype(str).str.strip().isin([NO_THEME, ""]).to_numpy()
    for col in (s.THEME, s.POLARITY):
        frame[col] = pd.Series([None if n or not isinstance(v, str) else v for n, v in zip(none, frame[col])],
                               index=frame.index, dtype=object)
    return frame.reset_index(drop=True)


def cross_validate(gold: pd.DataFrame, make_coder, *, group: str, train_size: int | None = None,
                   seed: int = 42, zero_shot: bool = False) -> tuple[pd.DataFrame, dict]:
    """Leave one group out: for each value of ``gold[group]``, fit on the others and code it.

    ``make_coder(training)`` returns a fitted coder (``training`` is ``None`` for zero-shot).
    ``train_size`` draws that many reviewed units at random from the other groups (a learning curve).
    Returns the coded frame aligned with ``gold`` and timings. No unit is ever scored by a coder
    trained on it: training rows come from other groups only, and a text that also occurs in the
    held-out group is dropped from training.
    """
    gold = gold.reset_index(drop=True)
    parts = []
    fit_seconds, predict_seconds = 0.0, 0.0
    rng = np.random.default_rng(seed)
    cache = {}
    for value in gold[group].unique():
        test = (gold[group] == value).to_numpy()
        training = None
        if not zero_shot:
            train = gold[~test]
            train = train[~train[s.TEXT].isin(set(gold.loc[test, s.TEXT]))]
            if train_size is not None:
                train = train.iloc[rng.permutation(len(train))[: min(train_size, len(train))]]
            training = as_training(train) if len(train) else None
        start = time.perf_counter()
        if zero_shot and "coder" in cache:
            coder = cache["coder"]
        else:
            coder = make_coder(training)
            cache["coder"] = coder
        fit_seconds += time.perf_counter() - start
        start = time.perf_counter()
        coded = predict_frame(coder, gold[test])
        predict_seconds += time.perf_counter() - start
        coded.index = np.flatnonzero(test)
        parts.append(coded)
    coded = pd.concat(parts).sort_index()
    return coded, {"fit_seconds": fit_seconds, "predict_seconds": predict_seconds, "groups": int(gold[group].nunique())}


def learning_curve(gold: pd.DataFrame, make_coder, *, group: str, sizes=(0, 25, 50, 100, 200),
                   seeds=(1, 2, 3), codebook=None) -> pd.DataFrame:
    """Figures against the number of reviewed units (drawn from the other groups), averaged over seeds."""
    rows = []
    for n in sizes:
        for seed in (seeds if n else seeds[:1]):
            coded, _ = cross_validate(gold, make_coder, group=group, train_size=n, seed=seed, zero_shot=(n == 0))
            rows.append({"reviewed": n, "seed": seed, **score_codings(gold, coded, codebook=codebook)})
    table = pd.DataFrame(rows)
    return table.drop(columns="seed").groupby("reviewed").mean(numeric_only=True).reset_index()


def evaluate_study(gold: pd.DataFrame, *, make_coder, training: pd.DataFrame | None = None, codebook=None,
                   curve: bool = False) -> str:
    """``toolkit evaluate``: cross-validated figures of a coder against a gold frame, as text.

    ``make_coder(training)`` fits a coder; ``training`` holds the study's reviewed codings. Units
    whose text is in the gold set are dropped from that training first (never score on training).
    With a ``file`` (or ``source``) column: leave-one-interview-out, the gold of the other
    interviews standing in for review; with ``place``: leave-one-place-out and, with ``curve``,
    the learning curve. Always: calibration error and reliability, and speed.
    """
    lines = []
    gold = gold.reset_index(drop=True)
    if training is not None and len(training):
        overlap = training[s.TEXT].isin(set(gold[s.TEXT]))
        if overlap.any():
            lines.append(f"{int(overlap.sum())} reviewed coding(s) are of gold units: left out of training "
                         "(the coder is never scored on what it learnt from).")
        training = training[~overlap]
    start = time.perf_counter()
    coder = make_coder(training if training is not None and len(training) else None)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    coded = predict_frame(coder, gold)
    rate = len(gold) / max(time.perf_counter() - start, 1e-9)
    n_reviewed = 0 if training is None else len(training)
    lines.append(_line(f"the study's coder ({n_reviewed} reviewed codings)", score_codings(gold, coded, codebook=codebook)))
    group = next((c for c in ("source", "file") if c in gold.columns), None)
    if group and gold[group].nunique() > 1:
        cv, _ = cross_validate(gold, lambda t: make_coder(_join(training, t)), group=group)
        lines.append(_line(f"leave-one-{group}-out ({gold[group].nunique()})", score_codings(gold, cv, codebook=codebook)))
        coded = cv
    if "place" in gold.columns and gold["place"].nunique() > 1:
        cv, _ = cross_validate(gold, lambda t: make_coder(_join(training, t)), group="place")
        lines.append(_line(f"leave-one-place-out ({gold['place'].nunique()})", score_codings(gold, cv, codebook=codebook)))
        if curve:
            table = learning_curve(gold, make_coder, group="place", codebook=codebook)
            lines.append("Learning curve (reviewed units drawn from the other places):\n" + table.round(3).to_string(index=False))
    for name, table in reliability(gold, coded).items():
        lines.append(f"Reliability of {name} confidence (bin, n, mean confidence, accuracy):\n"
                     + (table.round(3).to_string(index=False) if len(table) else "(none)"))
    lines.append(f"Speed: fit {fit:.1f} s; coding {rate:.0f} units/s (embedding included where not cached).")
    return "\n\n".join(lines)


def _join(a: pd.DataFrame | None, b: pd.DataFrame | None) -> pd.DataFrame | None:
    parts = [p for p in (a, b) if p is not None and len(p)]
    return pd.concat(parts, ignore_index=True) if parts else None


def _line(title: str, figures: dict) -> str:
    keys = ("theme_kappa", "theme_kappa_top", "theme_accuracy", "coverage", "none_kept", "polarity_f1",
            "polarity_accuracy", "theme_ece", "polarity_ece")
    return f"{title}: " + ", ".join(f"{k} {figures[k]:.3f}" for k in keys if k in figures)
