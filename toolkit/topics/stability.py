"""Which topics to trust: the same segments clustered again with other seeds.

UMAP's layout depends on its random seed, so HDBSCAN's clusters do too. The topics are fitted
again with a few other seeds (same segments, same settings, the nearest-neighbour graph reused, so
each refit costs one layout and one clustering), and compared with the stored topics:

* the **adjusted Rand index** (Hubert and Arabie 1985) of the whole partition, per seed: 1 is the
  same partition, 0 what chance gives;
* each topic's **match score**: the Jaccard overlap of its segments with the most similar topic of
  each refit, averaged over the refits (Hennig 2007's cluster-wise stability). Hennig's reading: at
  least 0.75 a stable topic, 0.6 to 0.75 a pattern worth reading, under 0.5 a topic that dissolves
  with the seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

STABLE = 0.75
PATTERN = 0.6
DISSOLVED = 0.5


@dataclass
class Stability:
    """Seed stability of a fitted topic model (see :func:`seed_stability`)."""

    seeds: list[int] = field(default_factory=list)
    ari: list[float] = field(default_factory=list)
    per_topic: dict[int, float] = field(default_factory=dict)
    segments: int = 0

    @property
    def mean_ari(self) -> float | None:
        return round(float(np.mean(self.ari)), 4) if self.ari else None

    def summary(self) -> dict:
        return {"seeds": self.seeds, "ari": [round(a, 4) for a in self.ari], "mean_ari": self.mean_ari,
                "segments": self.segments, "stable_topics": sum(v >= STABLE for v in self.per_topic.values()),
                "dissolving_topics": sum(v < DISSOLVED for v in self.per_topic.values())}


def stability_label(score: float | None) -> str:
    """A word for a match score: ``stable``, ``pattern``, ``weak`` or ``dissolves`` (``""`` when not measured).

    Examples
    --------
    >>> [stability_label(x) for x in (0.9, 0.65, 0.55, 0.2, None)]
    ['stable', 'pattern', 'weak', 'dissolves', '']
    """
    if score is None or score != score:
        return ""
    if score >= STABLE:
        return "stable"
    if score >= PATTERN:
        return "pattern"
    if score >= DISSOLVED:
        return "weak"
    return "dissolves"


def match_scores(labels: np.ndarray, other: np.ndarray) -> dict[int, float]:
    """Each topic of ``labels`` (not -1): its best Jaccard overlap with a topic of ``other``.

    Examples
    --------
    >>> match_scores(np.array([0, 0, 0, 1, 1, -1]), np.array([5, 5, 6, 6, 6, 6]))
    {0: 0.6667, 1: 0.5}
    """
    labels, other = np.asarray(labels), np.asarray(other)
    out = {}
    groups = {c: set(np.flatnonzero(other == c).tolist()) for c in set(other.tolist()) if c != -1}
    for topic in sorted(set(labels.tolist()) - {-1}):
        mine = set(np.flatnonzero(labels == topic).tolist())
        best = max((len(mine & g) / len(mine | g) for g in groups.values()), default=0.0)
        out[int(topic)] = round(best, 4)
    return out


def seed_stability(labels: np.ndarray, relabel: Callable[[int], np.ndarray], seeds: Sequence[int]) -> Stability:
    """Compare ``labels`` with ``relabel(seed)`` for each seed (both over the same segments).

    Examples
    --------
    >>> base = np.array([0, 0, 1, 1, 2, 2])
    >>> result = seed_stability(base, lambda seed: base if seed == 1 else np.array([0, 0, 0, 1, 2, 2]), [1, 2])
    >>> result.per_topic, result.ari[0]
    ({0: 0.8334, 1: 0.75, 2: 1.0}, 1.0)
    """
    from sklearn.metrics import adjusted_rand_score

    labels = np.asarray(labels)
    result = Stability(seeds=list(seeds), segments=len(labels))
    scores: dict[int, list[float]] = {}
    for seed in seeds:
        other = np.asarray(relabel(seed))
        result.ari.append(float(adjusted_rand_score(labels, other)))
        for topic, score in match_scores(labels, other).items():
            scores.setdefault(topic, []).append(score)
    result.per_topic = {t: round(float(np.mean(v)), 4) for t, v in scores.items()}
    return result
