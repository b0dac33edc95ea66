"""Cases and their attributes: who each participant is, as a framework matrix's rows and as filters.

A case is one person: an interviewee (their transcripts) or a survey respondent. Its attributes
are the manifest's known columns (place, organisation type, role, sector) and the study's own
case attributes (any extra manifest column, typed text, number or date; see
:mod:`toolkit.ingest.manifest`), stored with each source as JSON. Pure functions over the store's
``sources`` and ``respondents`` tables.

Examples
--------
>>> import pandas as pd
>>> sources = pd.DataFrame([{"source_id": 1, "path": "B/BK01.txt", "kind": "transcript", "place": "B",
...     "participant_id": "BK01", "attributes": '{"setting": {"type": "text", "value": "urban"}}'}])
>>> case_table(sources)[["participant", "place", "setting"]].to_dict("records")
[{'participant': 'BK01', 'place': 'B', 'setting': 'urban'}]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import empty, none, plain, records
from toolkit.analysis.columns import CASE_COLUMNS, PARTICIPANT, ROW_DIMENSIONS, SOURCE_KIND, SURVEY, TRANSCRIPT

__all__ = ["attribute_types", "case_attributes", "case_table", "filter_cases", "row_dimensions", "study_framework",
           "with_case_attributes"]

ATTRIBUTE_TYPES_KEY = "attribute_types"
"""Where :func:`case_table` keeps ``{attribute: type}`` (in the frame's ``attrs``)."""


def case_attributes(value: Any) -> dict[str, tuple[str, Any]]:
    """A stored ``attributes`` cell as ``{name: (type, value)}``.

    Reads the typed form the manifest writes (``{"name": {"type": ..., "value": ...}}``) and a plain
    ``{"name": value}`` (a number is a number, anything else text).

    >>> case_attributes('{"years": {"type": "number", "value": 4}, "area": "rural"}')
    {'years': ('number', 4), 'area': ('text', 'rural')}
    >>> case_attributes(None)
    {}
    """
    value = none(value)
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, tuple[str, Any]] = {}
    for name, item in value.items():
        if isinstance(item, Mapping) and "value" in item:
            out[str(name)] = (str(item.get("type") or "text"), item["value"])
        elif item is not None and not isinstance(item, (list, dict)):
            kind = "number" if isinstance(item, (int, float)) and not isinstance(item, bool) else "text"
            out[str(name)] = (kind, item)
    return out


def case_table(sources: pd.DataFrame, respondents: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per case: :data:`~toolkit.analysis.columns.CASE_COLUMNS`, then one column per case attribute.

    Interviewees come from transcripts (``participant`` is the participant id, else the file, as
    :func:`toolkit.analysis.references.with_who` counts them); survey respondents from the
    ``respondents`` table (their key). A number attribute is a numeric column, a date an ISO
    ``YYYY-MM-DD`` text (it sorts as a date). ``frame.attrs["attribute_types"]`` maps each attribute
    to its type. Cases are in reading order: interviewees by place and id, then respondents.
    """
    rows: list[dict[str, Any]] = []
    types: dict[str, str] = {}
    if sources is not None and not sources.empty:
        transcripts = sources[sources[s.KIND] == TRANSCRIPT] if s.KIND in sources.columns else sources
        for row in transcripts.to_dict("records"):
            who = plain(row.get(s.PARTICIPANT_ID)) or plain(row.get(s.PATH))
            if not who:
                continue
            case = {PARTICIPANT: who, SOURCE_KIND: TRANSCRIPT,
                    **{c: none(row.get(c)) for c in (s.PLACE, s.ORGANISATION_TYPE, s.ROLE, s.SECTOR, s.PATH)}}
            for name, (kind, value) in case_attributes(row.get(s.ATTRIBUTES)).items():
                types.setdefault(name, kind)
                case[name] = value
            rows.append(case)
    if respondents is not None and not respondents.empty:
        for row in respondents.to_dict("records"):
            key = plain(row.get(s.RESPONDENT_KEY))
            if key:
                rows.append({PARTICIPANT: key, SOURCE_KIND: SURVEY,
                             **{c: none(row.get(c)) for c in (s.PLACE, s.ORGANISATION_TYPE, s.ROLE)}})
    if not rows:
        frame = empty(CASE_COLUMNS)
        frame.attrs[ATTRIBUTE_TYPES_KEY] = {}
        return frame
    frame = pd.DataFrame(rows)
    names = [n for n in types if n not in CASE_COLUMNS]
    for column in [*CASE_COLUMNS, *names]:
        if column not in frame.columns:
            frame[column] = None
    for name in names:
        if types[name] == "number":
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    frame = frame.drop_duplicates(PARTICIPANT, keep="first")
    frame["_k"] = (frame[SOURCE_KIND] == SURVEY).astype(int)
    frame = frame.sort_values(["_k", s.PLACE, PARTICIPANT], kind="stable", na_position="last").drop(columns="_k")
    frame = frame[[*CASE_COLUMNS, *names]].reset_index(drop=True)
    frame.attrs[ATTRIBUTE_TYPES_KEY] = {n: types[n] for n in names}
    return frame


def attribute_types(cases: pd.DataFrame) -> dict[str, str]:
    """``{attribute: type}`` of a :func:`case_table` frame (the study's own case attributes only)."""
    return dict(cases.attrs.get(ATTRIBUTE_TYPES_KEY, {}))


def row_dimensions(cases: pd.DataFrame | None = None) -> tuple[str, ...]:
    """What a framework matrix's rows can be: :data:`ROW_DIMENSIONS`, then the study's case attributes.

    >>> row_dimensions(None)
    ('place', 'organisation_type', 'participant', 'role', 'sector')
    """
    extra = attribute_types(cases) if cases is not None else {}
    return (*ROW_DIMENSIONS, *[n for n in extra if n not in ROW_DIMENSIONS])


def with_case_attributes(frame: pd.DataFrame, cases: pd.DataFrame, names: Iterable[str] | None = None) -> pd.DataFrame:
    """``frame`` (codings or segments, with a ``participant`` column) with its cases' attributes added.

    ``names``: which attributes (default: all the case table's attributes, plus ``sector``). A column
    ``frame`` already has is kept as it is.
    """
    wanted = list(names) if names is not None else [s.SECTOR, *attribute_types(cases)]
    wanted = [n for n in wanted if n in cases.columns and n not in frame.columns]
    if not wanted or frame.empty or PARTICIPANT not in frame.columns:
        out = frame.copy()
        for name in wanted:
            out[name] = None
        return out
    lookup = cases.drop_duplicates(PARTICIPANT).set_index(PARTICIPANT)[wanted]
    out = frame.copy()
    for name in wanted:
        out[name] = out[PARTICIPANT].map(lookup[name])
    return out


def filter_cases(frame: pd.DataFrame, filters: Mapping[str, Any] | None) -> pd.DataFrame:
    """Rows of ``frame`` whose attributes match every filter: ``{attribute: value or list of values}``.

    A number attribute also takes a ``(low, high)`` range of numbers (both ends included; None: open).

    >>> cases = pd.DataFrame({"participant": ["A", "B", "C"], "years": [2, 8, 15]})
    >>> filter_cases(cases, {"years": (5, 20)})["participant"].tolist()
    ['B', 'C']
    """
    if not filters:
        return frame
    mask = pd.Series(True, index=frame.index)
    for name, wanted in filters.items():
        if name not in frame.columns:
            from toolkit.errors import ConfigError

            raise ConfigError(f"No case attribute '{name}'. Attributes: {', '.join(map(str, frame.columns))}.")
        column = frame[name]
        is_range = (isinstance(wanted, tuple) and len(wanted) == 2 and pd.api.types.is_numeric_dtype(column)
                    and all(v is None or isinstance(v, (int, float)) for v in wanted))
        if is_range:
            low, high = wanted
            numbers = pd.to_numeric(column, errors="coerce")
            mask &= numbers.between(low if low is not None else float("-inf"),
                                    high if high is not None else float("inf"))
        else:
            chosen: Sequence = wanted if isinstance(wanted, (list, set, tuple)) else [wanted]
            mask &= column.map(plain).isin([plain(v) for v in chosen])
    return frame[mask.fillna(False)]


_LOCATED_BY = (s.SEGMENT_KEY, s.TEXT, SOURCE_KIND, PARTICIPANT, s.PARTICIPANT_ID, s.RESPONDENT_KEY, s.TEXT_ANSWER_ID,
               s.START_TIME)
"""What :func:`toolkit.analysis.matrix.source_location` reads of a segment (reading only these is quick)."""


def study_framework(
    codings: pd.DataFrame,
    segments: pd.DataFrame,
    cases: pd.DataFrame,
    *,
    rows: str,
    places: Sequence[str] = (),
    theme_names: Mapping[str, str] | None = None,
    summaries: pd.DataFrame | None = None,
    parents: Mapping[str, str | None] | None = None,
    roll_up: bool = False,
    case_filters: Mapping[str, Any] | None = None,
    total: str | None = None,
) -> pd.DataFrame:
    """A study's framework matrix (:func:`toolkit.analysis.matrix.framework_matrix`) with its cases' attributes.

    What :meth:`toolkit.api.Study.framework_matrix`, the workbook and the report show. Rows by
    ``participant`` list every interviewee (in place order) even with no coding, then survey respondents
    with codings; places come in the study's order; other dimensions sort (numbers as numbers). Each
    cell cites its segments by where they are (``12:34``; with the speaker first when a row holds
    several people). ``case_filters`` keeps the cases whose attributes match (:func:`filter_cases`).
    """
    from toolkit.analysis import matrix as _matrix

    dimensions = row_dimensions(cases)
    check = _matrix.check_option
    check(rows, dimensions, "A framework matrix's rows are")
    coded = with_case_attributes(codings, cases)
    if case_filters:
        chosen = set(filter_cases(cases, case_filters)[PARTICIPANT])
        coded = coded[coded[PARTICIPANT].isin(chosen)]
    if rows == s.PLACE:
        values = [str(p) for p in places]
    elif rows == PARTICIPANT:
        values = list(cases.loc[cases[SOURCE_KIND] == TRANSCRIPT, PARTICIPANT]) if not cases.empty else []
        if case_filters:
            values = [v for v in values if v in chosen]
    else:
        values = _matrix.row_values(with_case_attributes(segments, cases), rows, dimensions=dimensions)
    where = {r[s.SEGMENT_KEY]: _matrix.source_location(r, with_who=rows != PARTICIPANT)
             for r in records(segments, [c for c in _LOCATED_BY if c in segments.columns])} if not segments.empty else {}
    return _matrix.framework_matrix(coded, rows=rows, values=values, themes=list(theme_names or {}),
                                    theme_names=theme_names, summaries=summaries, total=total, dimensions=dimensions,
                                    parents=parents, references=where, roll_up=roll_up)
