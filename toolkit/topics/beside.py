"""Topics beside the codebook: which theme a topic restates, and which topics the codebook misses.

Everything here is relative to the study, never an absolute cosine: sentences of one domain sit at
0.5-0.9 to every theme, so "less similar than 0.5" almost never fires, and a theme whose prototype is
close to everything (IT systems, in a study about data) would be everyone's nearest theme.

* **Affinity**: each segment's similarity to each theme's prototype, standardised per theme over the
  study's content segments (a z-score: 0 is the study's average for that theme). A topic's affinity
  to a theme is its segments' mean z. Its nearest theme weighs the affinity and what the segments
  were coded with: ``affinity + coded_weight * share coded with the theme`` (a topic coded all with one
  theme gains ``coded_weight`` standard deviations towards it), so neither a prototype that sits near
  everything nor a coder's habit alone decides.
* **Restates a theme**: the coder (or a researcher) gave at least ``restate_share`` of the topic's
  segments one theme. The topic is shown with what it adds: its share of that theme's segments, the
  theme's other topics (its sub-structure), and the places it is distinctive of.
* **Candidate new theme**, for a topic that restates no theme, when either
  - its segments are mostly uncoded, and clearly more so than the study's segments are
    (``min_uncoded_share``, and a z-test of proportions at least ``min_uncoded_z``), or
  - no theme stands out for it: its highest affinity is under ``max_affinity`` standard deviations.

  It is suggested as a sub-theme of its nearest theme when that affinity is at least
  ``sub_theme_affinity``, otherwise as a theme of its own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toolkit.topics.places import log_odds_z

THEME = "theme"
SUB_THEME = "sub_theme"


@dataclass(frozen=True)
class CandidateRule:
    """When a topic is a candidate new theme (see the module's description)."""

    min_uncoded_share: float = 0.5
    min_uncoded_z: float = 2.0
    max_affinity: float = 0.5
    restate_share: float = 0.5
    sub_theme_affinity: float = 1.0
    min_size: int = 5
    coded_weight: float = 2.0


def theme_affinities(vectors: np.ndarray, prototypes: np.ndarray, content: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity of each segment to each theme, and the same standardised per theme.

    ``content`` marks the segments whose mean and spread define "average for this study".

    Examples
    --------
    >>> V = np.eye(3)[[0, 0, 1, 2]].astype(float)
    >>> S, Z = theme_affinities(V, np.eye(3)[:2], np.ones(4, bool))
    >>> Z.round(2)[:, 0].tolist()
    [1.0, 1.0, -1.0, -1.0]
    """
    S = np.asarray(vectors, dtype=np.float64) @ np.asarray(prototypes, dtype=np.float64).T
    if S.size == 0:
        return S, S
    base = S[content] if content.any() else S
    mean, spread = base.mean(axis=0), base.std(axis=0)
    return S, (S - mean) / np.where(spread > 1e-9, spread, 1.0)


def beside_codebook(topics: np.ndarray, S: np.ndarray, Z: np.ndarray, theme_ids: Sequence[str],
                    coded: Sequence[str | None] | None, places: Sequence[str | None] | None,
                    content: np.ndarray, rule: CandidateRule = CandidateRule()) -> dict[int, dict]:
    """For each topic (not -1): nearest theme, affinity, coding, restated theme, candidate flag and evidence.

    Parameters
    ----------
    topics : each segment's topic (-1 for none).
    S, Z : :func:`theme_affinities` (segments x themes); empty when the codebook has no themes.
    theme_ids : the themes, in the columns' order.
    coded : each segment's primary theme (resolved: a researcher's over the machine's), None when uncoded;
        None when the study has no codings yet (the uncoded rule is then not applied).
    places : each segment's place (for the places a topic is distinctive of).
    content : segments that are content (not structure, not too short): the study's baseline.
    """
    topics = np.asarray(topics)
    ids = sorted(t for t in set(topics.tolist()) if t != -1)
    have_codes = coded is not None
    coded = list(coded) if have_codes else [None] * len(topics)
    uncoded = np.array([c is None for c in coded])
    base_uncoded = float(uncoded[content].mean()) if have_codes and content.any() else None
    theme_topics = _theme_topics(topics, coded, ids)
    place_z, place_names, place_counts = _place_table(topics, places, ids)
    out = {}
    for topic in ids:
        members = np.flatnonzero(topics == topic)
        row: dict = {"size": len(members)}
        counts = Counter(c for c in (coded[i] for i in members) if c is not None)
        best_affinity = None
        if Z.size:
            affinity = Z[members].mean(axis=0)
            shares = np.array([counts.get(t, 0) / len(members) for t in theme_ids])
            best = int(np.argmax(affinity + rule.coded_weight * shares))
            best_affinity = float(affinity.max())
            row["nearest_theme"] = theme_ids[best]
            row["theme_affinity"] = round(float(affinity[best]), 3)
            row["theme_similarity"] = round(float(S[members, best].mean()), 4)
        else:
            row.update(nearest_theme=None, theme_affinity=None, theme_similarity=None)
        share_uncoded = float(uncoded[members].mean()) if have_codes else None
        top_theme, top_n = (sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if counts else (None, 0))
        row["coded_theme"] = top_theme
        row["coded_share"] = round(top_n / len(members), 4)
        row["uncoded_share"] = None if share_uncoded is None else round(share_uncoded, 4)
        restates = top_theme if top_theme and top_n / len(members) >= rule.restate_share else None
        row["restates_theme"] = restates
        evidence: dict = {"themes": {k: round(v / len(members), 3) for k, v in counts.most_common(5)}}
        if share_uncoded is not None and base_uncoded is not None:
            evidence["uncoded_share"] = round(share_uncoded, 3)
            evidence["study_uncoded_share"] = round(base_uncoded, 3)
            evidence["uncoded_z"] = round(_proportion_z(share_uncoded, base_uncoded, len(members)), 2)
        if place_names:
            k = ids.index(topic)
            evidence["places"] = {p: int(n) for p, n in zip(place_names, place_counts[k]) if n}
            evidence["distinctive_places"] = [
                {"place": p, "z": round(float(place_z[k, j]), 2), "segments": int(place_counts[k, j])}
                for j, p in sorted(enumerate(place_names), key=lambda jp: -place_z[k, jp[0]])
                if place_z[k, j] >= 1.96 and place_counts[k, j] >= 2
            ]
        reasons = []
        if restates is None and len(members) >= rule.min_size:
            if ("uncoded_z" in evidence and share_uncoded >= rule.min_uncoded_share
                    and evidence["uncoded_z"] >= rule.min_uncoded_z):
                reasons.append("mostly_uncoded")
            if best_affinity is not None and best_affinity < rule.max_affinity:
                reasons.append("far_from_every_theme")
                evidence["best_affinity"] = round(best_affinity, 3)
        if restates:
            evidence["adds"] = _adds(topic, restates, theme_topics)
        evidence["reasons"] = reasons
        row["candidate_new"] = bool(reasons)
        if reasons:
            near = row["theme_affinity"] is not None and row["theme_affinity"] >= rule.sub_theme_affinity
            row["candidate_kind"] = SUB_THEME if near else THEME
            row["candidate_parent"] = row["nearest_theme"] if near else None
        else:
            row["candidate_kind"], row["candidate_parent"] = None, None
        row["evidence"] = evidence
        out[topic] = row
    return out


def _proportion_z(share: float, base: float, n: int) -> float:
    """z of a topic's share against the study's (one-sample test of a proportion)."""
    if n == 0 or base <= 0 or base >= 1:
        return 0.0 if share == base else math.copysign(10.0, share - base)
    return (share - base) / math.sqrt(base * (1 - base) / n)


def _theme_topics(topics: np.ndarray, coded: list, ids: list[int]) -> dict[str, dict[int, int]]:
    """For each coded theme: how many of its segments fall in each topic (its sub-structure)."""
    out: dict[str, dict[int, int]] = {}
    for topic, theme in zip(topics.tolist(), coded):
        if theme is not None:
            out.setdefault(theme, {}).setdefault(topic, 0)
            out[theme][topic] += 1
    return out


def _adds(topic: int, theme: str, theme_topics: dict[str, dict[int, int]]) -> dict:
    """What a topic that restates ``theme`` adds: its share of the theme and the theme's other topics."""
    spread = theme_topics.get(theme, {})
    total = sum(spread.values()) or 1
    others = sorted(((t, n) for t, n in spread.items() if t not in (topic, -1)), key=lambda tn: -tn[1])
    return {"theme_share": round(spread.get(topic, 0) / total, 3),
            "other_topics": [{"topic": int(t), "share": round(n / total, 3)} for t, n in others[:5]],
            "outside_topics": round(spread.get(-1, 0) / total, 3)}


def _place_table(topics: np.ndarray, places, ids: list[int]):
    if places is None or not ids:
        return None, [], None
    names = sorted({p for p in places if isinstance(p, str) and p})
    if len(names) < 2:
        return None, [], None
    col = {p: j for j, p in enumerate(names)}
    row = {t: k for k, t in enumerate(ids)}
    counts = np.zeros((len(ids), len(names)), dtype=np.int64)
    for topic, place in zip(topics.tolist(), places):
        if topic in row and place in col:
            counts[row[topic], col[place]] += 1
    return log_odds_z(counts), names, counts
