"""Writing curated practices: a practice's fields and its linked passages, validated once (the write model).

A curated practice (``practice_groups``) has a title, what it is, where, who runs it, the evidence
that it helped (the researcher's words, and the passages linked to it), a review status
(:data:`toolkit.schema.PRACTICE_STATUSES`) and transferability notes. Every save appends a new row
for the practice (the latest wins), and links or unlinks passages by appending to ``practices``
(each passage belongs to at most one practice: its latest row says which), all in one transaction.
Free text is pseudonymised with the study's key.

Examples
--------
>>> save_practice(context, title="Data clinic", author="ana", place="Hollowmere", passages=keys,
...               status="reviewed", theme="ig_capacity_advice")  # doctest: +SKIP
'g3f1c2a9b07'
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from toolkit import schema as s
from toolkit.errors import InputDataError
from toolkit.review.validate import check_author, check_themes

log = logging.getLogger(__name__)

__all__ = ["save_practice"]


def save_practice(
    context,
    *,
    title: str,
    author: str,
    group_id: str | None = None,
    description: str | None = None,
    place: str | None = None,
    who_runs: str | None = None,
    evidence: str | None = None,
    status: str = s.PRACTICE_STATUSES[0],
    transferability: str | None = None,
    theme: str | None = None,
    passages: Iterable[str] = (),
    unlink: Iterable[str] = (),
) -> str:
    """Save a curated practice (new, or a new version of ``group_id``) and link ``passages`` to it.

    ``unlink`` takes passages out of the practice (they stay in the good-practice library). Returns the
    practice's ``group_id``.

    Raises
    ------
    InputDataError
        No title or author, an unknown status, theme or segment, or a passage both linked and
        unlinked. Nothing is stored.
    """
    where = context.where
    author = check_author(where, author, what="a practice")
    name = context.clean(title)
    if not name:
        raise InputDataError(where, "a practice needs a title.", "Give it a short name, e.g. 'Data clinic'.")
    if status not in s.PRACTICE_STATUSES:
        raise InputDataError(where, f"unknown practice status '{status}'.",
                             f"Use one of: {', '.join(s.PRACTICE_STATUSES)}.")
    if theme is not None:
        check_themes(context.codebook, [theme], where=where)
    link = list(dict.fromkeys(passages))
    drop = list(dict.fromkeys(unlink))
    both = set(link) & set(drop)
    if both:
        raise InputDataError(where, f"{len(both)} passage(s) are both linked and unlinked.", "Choose one.")
    keys = link + drop
    found = context.store.segments_by_key(keys).set_index(s.SEGMENT_KEY) if keys else None
    missing = [k for k in keys if found is None or k not in found.index]
    if missing:
        raise InputDataError(where, f"{len(missing)} unknown segment key(s): {', '.join(missing[:5])}.",
                             "Copy keys from study.segments() or the dashboard.")
    group_id = str(group_id).strip() if group_id else f"g{uuid.uuid4().hex[:10]}"
    group = {s.GROUP_ID: group_id, s.TITLE: name, s.DESCRIPTION: context.clean(description),
             s.PLACE: _places(context, place), s.WHO_RUNS: context.clean(who_runs),
             s.EVIDENCE: context.clean(evidence),
             s.STATUS: status, s.TRANSFERABILITY: context.clean(transferability), s.THEME: theme, s.AUTHOR: author}
    members = []
    for key in keys:
        members.append({s.SEGMENT_KEY: key, s.INCLUDED: True, s.THEME: theme, s.TITLE: None, s.NOTE: None,
                        s.AUTHOR: author, s.SOURCE_UID: found.at[key, s.SOURCE_UID],
                        s.ANCHOR_TEXT: found.at[key, s.TEXT], s.ANCHOR: "attached",
                        s.GROUP_ID: group_id if key in link else None})
    context.store.add_practice_group(group, members)
    log.info("saved practice %s (%s): %d passage(s) linked, %d unlinked", group_id, status, len(link), len(drop))
    return group_id


def _places(context, place: str | None) -> str | None:
    """Where a practice runs: one or more of the study's places (``"Brackenford, Fernmouth"``), as stored."""
    wanted = [p.strip() for p in str(place or "").split(",") if p.strip()]
    if not wanted:
        return None
    sources = context.store.sources_frame()
    known = set(sources[s.PLACE].dropna().astype(str)) if not sources.empty else set()
    respondents = context.store.table(s.RESPONDENTS)
    known |= set(respondents[s.PLACE].dropna().astype(str)) if not respondents.empty else set()
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise InputDataError(context.where, f"'{unknown[0]}' is not a place of the study.",
                             f"Places: {', '.join(sorted(known)) or 'none yet'} (several: separate them with commas).")
    return ", ".join(dict.fromkeys(wanted))
