"""What is distinctive of a group (a place, a topic): log-odds ratios with an informative Dirichlet prior.

Monroe, Colaresi and Quinn (2008), "Fightin' Words": for a group ``i`` against all the others,
an item ``w`` (a topic, a keyphrase, a place) has the log-odds ratio

    delta = log((y_iw + a_w) / (n_i + a0 - y_iw - a_w)) - log((y_rw + a_w) / (n_r + a0 - y_rw - a_w))

with ``y`` the counts, ``n`` the totals, ``r`` the rest, and a prior ``a_w = a0 * y_w / n`` taken from
the whole study (``a0``: as much evidence as an average group holds). Its z-score ``delta / sqrt(1 /
(y_iw + a_w) + 1 / (y_rw + a_w))`` is large when the group uses the item more than the rest does,
and shrinks towards 0 for rare items: a phrase said twice in one place does not top its list.
"""

from __future__ import annotations

import numpy as np


def log_odds_z(counts: np.ndarray, *, prior_scale: float = 1.0) -> np.ndarray:
    """z-scores of each item for each group against all other groups (rows: groups, columns: items).

    Parameters
    ----------
    counts : non-negative counts, groups x items.
    prior_scale : the prior's weight, in average groups (0 is no prior: raw log-odds, unstable for rare items).

    Examples
    --------
    >>> z = log_odds_z(np.array([[30, 5, 10], [5, 30, 10]]))
    >>> bool(z[0, 0] > 2), bool(z[1, 1] > 2), bool(abs(z[0, 2]) < 1)
    (True, True, True)
    """
    y = np.asarray(counts, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] < 2 or y.sum() == 0:
        return np.zeros_like(y)
    n_item = y.sum(axis=0)
    n_group = y.sum(axis=1, keepdims=True)
    total = y.sum()
    a0 = prior_scale * n_group.mean()
    a = a0 * n_item / total + 1e-9
    rest = n_item[None, :] - y
    n_rest = total - n_group
    own = np.log((y + a) / np.maximum(n_group + a0 - y - a, 1e-9))
    other = np.log((rest + a) / np.maximum(n_rest + a0 - rest - a, 1e-9))
    variance = 1.0 / (y + a) + 1.0 / (rest + a)
    return (own - other) / np.sqrt(variance)


def distinctive(counts: np.ndarray, groups: list, items: list, *, z_min: float = 1.96, min_count: int = 2,
                top: int = 10, prior_scale: float = 1.0) -> dict:
    """For each group, its items used distinctly more than elsewhere: ``{group: [(item, z, count), ...]}``.

    Only items the group holds at least ``min_count`` times and with ``z >= z_min`` (1.96: the 5%
    level, two-sided), best first.

    Examples
    --------
    >>> distinctive(np.array([[30, 5], [5, 30]]), ["Fernmouth", "Hollowmere"], ["distance", "breach"])
    {'Fernmouth': [('distance', 5.84, 30)], 'Hollowmere': [('breach', 5.84, 30)]}
    """
    counts = np.asarray(counts)
    z = log_odds_z(counts, prior_scale=prior_scale)
    out = {}
    for g, group in enumerate(groups):
        order = np.argsort(-z[g], kind="stable")
        out[group] = [(items[j], round(float(z[g, j]), 2), int(counts[g, j])) for j in order
                      if z[g, j] >= z_min and counts[g, j] >= min_count][:top]
    return out
