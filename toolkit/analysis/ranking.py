"""Which segment a person should review next: uncertainty, disagreeing evidence, spread, and missed evidence.

Pure functions over frames (no store, no model): the review session (:mod:`toolkit.review.queue`)
hands them the coder's current reading of every segment and the segments' vectors.

* :func:`prediction_frame` reads a coder's output, or the stored machine codings, into one row per
  segment: its primary theme and polarity, how sure the coder is of each, the runner-up theme,
  and where its evidence disagrees (polarity cue words against the polarity model; a codebook
  pattern against a model that does not see the theme).
* :func:`priority` scores each segment: how unsure the coder is of the theme and of the polarity,
  how close the runner-up theme is, where the evidence disagrees, and whether the coder, retrained
  on the reviews so far, now reads it differently from the stored coding that the outputs show.
  Each score comes with its reasons in words.
* :func:`diversify` orders the queue greedily so that the next segments are spread over themes,
  places and meanings (no ten near-identical sentences in a row).
* :func:`missed_evidence` ranks uncoded participant segments by how likely they are to be codable.
* :func:`similar_passages` finds passages like a given one (cosine similarity of sentence vectors).

Examples
--------
>>> raw = pd.DataFrame({"segment_key": ["a"], "theme": ["t1"], "polarity": ["barrier"], "confidence": [0.5],
...                     "rank": [1], "evidence": [{"polarity": {"probability": 0.4, "cues": ["+helped"],
...                                                               "model": {"barrier": 0.7, "enabler": 0.3}}}]})
>>> row = priority(prediction_frame(raw)).iloc[0]
>>> round(float(row["priority"]), 2), bool(row["cue_conflict"])
(0.78, True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import records

__all__ = [
    "PREDICTION_COLUMNS",
    "PRIORITY",
    "WEIGHTS",
    "diversify",
    "evidence_fields",
    "missed_evidence",
    "prediction_frame",
    "priority",
    "similar_passages",
]

THEME_CONFIDENCE = "theme_confidence"
POLARITY_CONFIDENCE = "polarity_confidence"
SECOND_THEME = "second_theme"
SECOND_CONFIDENCE = "second_confidence"
BEST_THEME = "best_theme"
CUE_CONFLICT = "cue_conflict"
PATTERN_CONFLICT = "pattern_conflict"
PREDICTION_COLUMNS = [s.SEGMENT_KEY, s.THEME, s.POLARITY, THEME_CONFIDENCE, POLARITY_CONFIDENCE, SECOND_THEME,
                      SECOND_CONFIDENCE, BEST_THEME, CUE_CONFLICT, PATTERN_CONFLICT]
"""Columns of :func:`prediction_frame`."""
PRIORITY = "priority"
REASONS = "reasons"
CHANGED = "changed"
SIMILARITY = "similarity"
CODABILITY = "codability"

WEIGHTS: Mapping[str, float] = {"theme": 0.45, "polarity": 0.25, "runner_up": 0.10, "cue_conflict": 0.10,
                                "pattern_conflict": 0.05, "changed": 0.15}
"""How much each signal adds to a segment's priority (each signal lies between 0 and 1)."""


# --------------------------------------------------------------------------- reading a coder's evidence
def _as_dict(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _cue_sign(cues: Sequence[str], score) -> int:
    if isinstance(score, (int, float)) and not pd.isna(score):
        return int(np.sign(score))
    total = sum(1 if str(c).startswith("+") else -1 if str(c).startswith("-") else 0 for c in cues or ())
    return int(np.sign(total))


def evidence_fields(evidence) -> dict:
    """What a coding's ``evidence`` (a dict or its JSON) says, whichever version of the coder wrote it.

    Returns ``polarity_confidence`` (how sure the coder is of the polarity; None when unknown),
    ``best_theme``, ``cue_sign`` (+1 the cue words read as an enabler, -1 as a barrier, 0 none),
    ``model_polarity`` (the polarity model's own choice, before cue words), ``fired`` (the kinds of
    evidence), ``model`` (the theme model's probability, when recorded).

    Examples
    --------
    >>> evidence_fields({"polarity": {"probability": 0.8, "cue_score": -1.0, "model": {"barrier": 0.3, "enabler": 0.7}},
    ...                  "fired": ["similarity"]})["cue_sign"]
    -1
    """
    ev = _as_dict(evidence)
    pol = _as_dict(ev.get("polarity"))
    confidence = ev.get("polarity_confidence", pol.get("confidence", pol.get("probability")))
    model = pol.get("model") if isinstance(pol.get("model"), dict) else pol.get("probabilities")
    model_polarity = max(model, key=model.get) if isinstance(model, dict) and model else pol.get("label")
    cues = pol.get("cues") if pol.get("cues") is not None else ev.get("cues")
    return {
        POLARITY_CONFIDENCE: float(confidence) if isinstance(confidence, (int, float)) else None,
        BEST_THEME: ev.get("best_theme"),
        "cue_sign": _cue_sign(cues or [], pol.get("cue_score")),
        "model_polarity": model_polarity,
        "fired": list(ev.get("fired") or []),
        "model": ev.get("model") if isinstance(ev.get("model"), (int, float)) else None,
        "patterns": list(ev.get("patterns") or []),
    }


def prediction_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per segment from a coder's rows (``segment_key``, ``theme``, ``polarity``, ``confidence``,
    ``rank``, ``evidence``): see :data:`PREDICTION_COLUMNS`.

    Works on the coder's fresh output and on the stored ``codings`` table alike. ``cue_conflict`` is
    True when the cue words point one way and the polarity model the other (barrier against enabler);
    ``pattern_conflict`` when a codebook pattern fired for the theme but the theme model gave it
    little weight (below 0.25).
    """
    if raw is None or raw.empty:
        return pd.DataFrame(columns=PREDICTION_COLUMNS)
    frame = raw.copy()
    frame[s.RANK] = pd.to_numeric(frame.get(s.RANK, 1), errors="coerce").fillna(1).astype(int)
    frame = frame.sort_values([s.SEGMENT_KEY, s.RANK], kind="stable")
    # one pass over the segments' first rows (no per-segment group: the queue reads ~2,000 segments per decision)
    first = frame.drop_duplicates(s.SEGMENT_KEY, keep="first")
    second = frame[frame.duplicated(s.SEGMENT_KEY, keep="first")].drop_duplicates(s.SEGMENT_KEY, keep="first")
    second = second.loc[second[s.THEME].map(lambda v: isinstance(v, str)).astype(bool)].set_index(s.SEGMENT_KEY)
    second_theme = dict(zip(second.index, second[s.THEME]))  # dicts: a frame's .at costs ~50 µs a lookup
    second_confidence = dict(zip(second.index, pd.to_numeric(second[s.CONFIDENCE], errors="coerce")))
    evidence_of = first[s.EVIDENCE] if s.EVIDENCE in first.columns else [None] * len(first)
    confidence_of = pd.to_numeric(first[s.CONFIDENCE], errors="coerce")
    rows = []
    for key, theme, polarity, confidence, evidence in zip(first[s.SEGMENT_KEY], first[s.THEME], first[s.POLARITY],
                                                          confidence_of, evidence_of):
        fields = evidence_fields(evidence)
        theme = theme if isinstance(theme, str) else None
        polarity = polarity if theme is not None and isinstance(polarity, str) else None
        model_polarity = fields["model_polarity"]
        cue_conflict = bool(
            theme is not None and fields["cue_sign"] != 0 and model_polarity in (s.BARRIER, s.ENABLER)
            and (fields["cue_sign"] > 0) != (model_polarity == s.ENABLER)
        )
        pattern_conflict = bool(theme is not None and fields["patterns"] and fields["model"] is not None
                                and fields["model"] < 0.25)
        has_second = key in second_theme
        rows.append({
            s.SEGMENT_KEY: key, s.THEME: theme, s.POLARITY: polarity,
            THEME_CONFIDENCE: float(confidence) if not pd.isna(confidence) else np.nan,
            POLARITY_CONFIDENCE: fields[POLARITY_CONFIDENCE] if theme is not None else None,
            SECOND_THEME: second_theme[key] if has_second else None,
            SECOND_CONFIDENCE: float(second_confidence[key]) if has_second else np.nan,
            BEST_THEME: theme or fields[BEST_THEME],
            CUE_CONFLICT: cue_conflict, PATTERN_CONFLICT: pattern_conflict,
        })
    return pd.DataFrame(rows, columns=PREDICTION_COLUMNS)


# --------------------------------------------------------------------------- priority
def _uncertainty(confidence: pd.Series) -> pd.Series:
    """1 when the coder is as likely right as wrong (confidence 0.5), 0 when it is sure either way."""
    c = pd.to_numeric(confidence, errors="coerce").fillna(0.0).clip(0.0, 1.0)
    return 1.0 - (2.0 * c - 1.0).abs()


def priority(live: pd.DataFrame, stored: pd.DataFrame | None = None, *,
             weights: Mapping[str, float] | None = None, theme_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Score every segment for review: ``live`` is the retrained coder's :func:`prediction_frame`,
    ``stored`` the stored machine codings read the same way (what the outputs show now).

    Adds ``priority`` (higher: review sooner), the signals it is made of (``u_theme``, ``u_polarity``,
    ``runner_up``, ``changed``) and ``reasons`` (a short sentence). A polarity the coder is unsure of
    counts only where a theme is coded; ``changed`` is 1 when the retrained coder now gives another
    theme or polarity than the stored coding.
    """
    w = {**WEIGHTS, **(weights or {})}
    names = dict(theme_names or {})
    frame = live.copy()
    frame["u_theme"] = _uncertainty(frame[THEME_CONFIDENCE])
    pc = pd.to_numeric(frame[POLARITY_CONFIDENCE], errors="coerce")
    frame["u_polarity"] = ((1.0 - pc) * 1.5).clip(0.0, 1.0).where(frame[s.THEME].notna() & pc.notna(), 0.0)
    tc = pd.to_numeric(frame[THEME_CONFIDENCE], errors="coerce")
    frame["runner_up"] = (pd.to_numeric(frame[SECOND_CONFIDENCE], errors="coerce") / tc.where(tc > 0)).clip(0, 1)
    frame["runner_up"] = frame["runner_up"].fillna(0.0)
    frame[CHANGED] = 0.0
    if stored is not None and not stored.empty:
        before = stored.set_index(s.SEGMENT_KEY)
        old_theme = frame[s.SEGMENT_KEY].map(before[s.THEME])
        old_polarity = frame[s.SEGMENT_KEY].map(before[s.POLARITY])
        known = frame[s.SEGMENT_KEY].isin(before.index)
        differs = (old_theme.fillna("") != frame[s.THEME].fillna("")) | (
            frame[s.THEME].notna() & (old_polarity.fillna("") != frame[s.POLARITY].fillna("")))
        frame[CHANGED] = (known & differs).astype(float)
        frame["stored_theme"] = old_theme
        frame["stored_polarity"] = old_polarity
    frame[PRIORITY] = (w["theme"] * frame["u_theme"] + w["polarity"] * frame["u_polarity"]
                       + w["runner_up"] * frame["runner_up"] + w["cue_conflict"] * frame[CUE_CONFLICT].astype(float)
                       + w["pattern_conflict"] * frame[PATTERN_CONFLICT].astype(float) + w["changed"] * frame[CHANGED])
    frame[REASONS] = [_reasons(row, names) for row in records(frame)]
    return frame


def _reasons(row: dict, names: Mapping[str, str]) -> str:
    def name(theme) -> str:
        return names.get(theme, theme) if isinstance(theme, str) else "no theme"

    out = []
    if row.get(CHANGED):
        out.append(f"retrained on the reviews so far, the coder now reads it as {name(row.get(s.THEME))}"
                   + (f" ({row.get(s.POLARITY)})" if isinstance(row.get(s.POLARITY), str) else ""))
    if row["u_theme"] >= 0.5:
        out.append(f"unsure of the theme (confidence {row[THEME_CONFIDENCE]:.2f})")
    if row["runner_up"] >= 0.8 and isinstance(row.get(SECOND_THEME), str):
        out.append(f"{name(row[SECOND_THEME])} is almost as likely")
    if row["u_polarity"] >= 0.5:
        out.append(f"unsure whether barrier or enabler (confidence {row[POLARITY_CONFIDENCE]:.2f})")
    if row.get(CUE_CONFLICT):
        out.append("its cue words and the polarity model disagree")
    if row.get(PATTERN_CONFLICT):
        out.append("a codebook phrase matched but the model does not see the theme")
    return "; ".join(out) or "fairly sure: a check"


def diversify(frame: pd.DataFrame, vectors: np.ndarray, *, recent: np.ndarray | None = None,
              recent_groups: Sequence[tuple] = (), groups: Sequence[str] = (BEST_THEME, s.PLACE), k: int = 50,
              pool: int = 300, similarity_weight: float = 0.3, group_weight: float = 0.15) -> pd.DataFrame:
    """Order ``frame`` (scored by :func:`priority`; ``vectors`` row-aligned) so that its first ``k`` are spread out.

    Greedy: among the ``pool`` highest priorities, take the best ``priority - similarity_weight ×
    (closest cosine similarity to those already taken) - group_weight × (share of those taken in the
    same theme, and in the same place)``; the rest follow by priority. ``recent`` are vectors of
    segments just reviewed (and ``recent_groups`` their theme and place), counted as taken, so
    successive decisions do not stay in one corner of the study.
    """
    if frame.empty:
        return frame
    order = np.argsort(-frame[PRIORITY].to_numpy(), kind="stable")
    head = list(order[: max(pool, k)])
    base = frame[PRIORITY].to_numpy()
    labels = {g: frame[g].astype(object).where(frame[g].notna(), "(none)").to_numpy() if g in frame.columns
              else np.array(["(none)"] * len(frame), dtype=object) for g in groups}
    taken_vectors = [] if recent is None or len(recent) == 0 else list(np.asarray(recent))
    taken_groups: dict[str, list] = {g: [r[i] for r in recent_groups] for i, g in enumerate(groups)}
    best_sim = np.full(len(frame), -1.0)
    if taken_vectors:
        best_sim = (vectors[head] @ np.vstack(taken_vectors).T).max(axis=1)
        best_sim = dict(zip(head, best_sim))
    else:
        best_sim = dict.fromkeys(head, 0.0)
    chosen: list[int] = []
    remaining = list(head)
    for _ in range(min(k, len(head))):
        n_taken = max(len(chosen) + len(recent_groups), 1)
        scores = []
        for i in remaining:
            crowd = sum(taken_groups[g].count(labels[g][i]) for g in groups) / n_taken
            scores.append(base[i] - similarity_weight * max(best_sim[i], 0.0) - group_weight * crowd)
        pick = remaining[int(np.argmax(scores))]
        chosen.append(pick)
        remaining.remove(pick)
        for g in groups:
            taken_groups[g].append(labels[g][pick])
        if remaining:
            sims = vectors[remaining] @ vectors[pick]
            for i, value in zip(remaining, sims):
                best_sim[i] = max(best_sim[i], float(value))
    rest = [i for i in order if i not in set(chosen)]
    return frame.iloc[chosen + rest].reset_index(drop=True)


# --------------------------------------------------------------------------- recall: what the coder left out
def missed_evidence(live: pd.DataFrame, vectors: np.ndarray, coded_vectors: np.ndarray, *,
                    threshold: float = 0.5) -> pd.DataFrame:
    """Uncoded segments ranked by how likely they are to be codable.

    ``live`` is :func:`prediction_frame` of the uncoded segments (row-aligned with ``vectors``);
    ``coded_vectors`` are vectors of segments coded with a theme that a person reviewed (else the
    machine's surest codings). ``codability`` is the mean of the coder's confidence in its best
    theme relative to its threshold (just under it scores near 1) and the similarity to the closest
    coded segment. Adds ``similarity`` and ``codability``; sorted, most codable first.
    """
    frame = live.copy()
    if frame.empty:
        return frame.assign(**{SIMILARITY: pd.Series(dtype=float), CODABILITY: pd.Series(dtype=float)})
    conf = pd.to_numeric(frame[THEME_CONFIDENCE], errors="coerce").fillna(0.0)
    near_threshold = (conf / threshold).clip(0.0, 1.0)
    if coded_vectors is not None and len(coded_vectors):
        sims = (vectors @ np.asarray(coded_vectors).T).max(axis=1)
    else:
        sims = np.zeros(len(frame))
    frame[SIMILARITY] = np.clip(sims, 0.0, 1.0)
    frame[CODABILITY] = 0.5 * near_threshold.to_numpy() + 0.5 * frame[SIMILARITY].to_numpy()
    return frame.sort_values(CODABILITY, ascending=False, kind="stable").reset_index(drop=True)


def similar_passages(vector: np.ndarray, vectors: np.ndarray, keys: Sequence[str], *, k: int = 10,
                     exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The ``k`` segments whose vectors are closest to ``vector`` (cosine): ``segment_key``, ``similarity``.

    Examples
    --------
    >>> similar_passages(np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]), ["a", "b", "c"], k=2)
      segment_key  similarity
    0           a         1.0
    1           c         0.6
    """
    if len(keys) == 0:
        return pd.DataFrame(columns=[s.SEGMENT_KEY, SIMILARITY])
    sims = np.asarray(vectors) @ np.asarray(vector, dtype=np.float32)
    frame = pd.DataFrame({s.SEGMENT_KEY: list(keys), SIMILARITY: np.round(sims.astype(float), 3)})
    frame = frame[~frame[s.SEGMENT_KEY].isin(set(exclude))]
    return frame.sort_values(SIMILARITY, ascending=False, kind="stable").head(k).reset_index(drop=True)
