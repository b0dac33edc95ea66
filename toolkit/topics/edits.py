"""Researchers' topic edits (rename, merge, split), replayed on every fit.

Each stored edit holds the segments of the topics it names; on a new fit it finds its topics again
by their segments (the Jaccard overlap of members, at least ``edit_match``), not by their numbers,
so an edit survives new data and new settings. An edit whose topics are gone is reported, not applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TopicEdit:
    """A researcher's edit, as stored: what to do, and the segments of the topics it names."""

    action: str
    members: list[list[str]]
    label: str | None = None
    parts: int | None = None
    edit_id: int | None = None


@dataclass
class EditOutcome:
    """Whether an edit found its topics on this run."""

    edit_id: int | None
    action: str
    applied: bool
    overlap: float
    detail: str = ""


def replay_edits(edits, keys, vectors, groups, how, labels, *, min_overlap: float, seed: int) -> list[EditOutcome]:
    """Apply researchers' edits in order; each finds its topics by their segments."""
    outcomes = []
    position = {k: i for i, k in enumerate(keys)}
    for edit in edits:
        targets, overlaps = [], []
        for members in edit.members:
            group, overlap = best_group(members, position, groups)
            overlaps.append(overlap)
            if group is not None and overlap >= min_overlap and group not in targets:
                targets.append(group)
        overlap = min(overlaps) if overlaps else 0.0
        needed = 2 if edit.action == "merge" else 1
        if len(targets) < needed:
            outcomes.append(EditOutcome(edit.edit_id, edit.action, False, overlap, "its topics were not found again"))
            continue
        if edit.action == "rename":
            labels[targets[0]] = edit.label or labels.get(targets[0], "")
        elif edit.action == "merge":
            into = targets[0]
            for i, g in enumerate(groups):
                if g in targets[1:]:
                    groups[i] = into
                    how[i] = "merge"
            for g in targets[1:]:
                labels.pop(g, None)
            if edit.label:
                labels[into] = edit.label
        elif edit.action == "split":
            members = np.flatnonzero(np.array(groups, dtype=object) == targets[0])
            parts = max(2, int(edit.parts or 2))
            if len(members) < parts:
                outcomes.append(EditOutcome(edit.edit_id, edit.action, False, overlap, "too few segments to split"))
                continue
            from sklearn.cluster import KMeans

            split = KMeans(n_clusters=parts, n_init=4, random_state=seed).fit(vectors[members]).labels_
            for i, part in zip(members, split):
                if part > 0:
                    groups[i] = f"{targets[0]}/split{edit.edit_id}.{int(part)}"
                    how[i] = "split"
        outcomes.append(EditOutcome(edit.edit_id, edit.action, True, overlap))
    return outcomes


def best_group(members: list[str], position: dict[str, int], groups: list[str]) -> tuple[str | None, float]:
    """The current group with the highest Jaccard overlap with an edit's segments."""
    wanted = {position[k] for k in members if k in position}
    if not wanted:
        return None, 0.0
    counts: dict[str, int] = {}
    for i in wanted:
        if groups[i]:
            counts[groups[i]] = counts.get(groups[i], 0) + 1
    if not counts:
        return None, 0.0
    sizes: dict[str, int] = {}
    for g in groups:
        if g in counts:
            sizes[g] = sizes.get(g, 0) + 1
    best = max(counts, key=lambda g: (counts[g] / (len(members) + sizes[g] - counts[g]), g))
    return best, counts[best] / (len(members) + sizes[best] - counts[best])
