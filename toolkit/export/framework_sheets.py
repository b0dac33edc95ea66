"""The workbook's framework-analysis sheets: the framework matrix as NVivo lays it out, barrier to remedy,
curated practices, memos and cases.

Each function takes an :class:`~toolkit.export.data.ExportData` snapshot and returns the frames of
one sheet (:func:`toolkit.export.tables.write_workbook` writes and formats them). The numbers and
citations come from the read model (:mod:`toolkit.analysis`), as everywhere.

The framework matrix (:func:`framework_sheet`): one row per case (interviewee), grouped by place, with
the case's attributes, then one column per theme and sub-theme. Each cell holds what NVivo's
framework matrix holds: the researcher's summary of what that person said about that theme, then the
references behind it (where in the interview, marked B, E or N for barrier, enabler, neutral).
After each place's cases, a row for the whole place (interviewees and survey respondents) holds the
place's summary and who is behind it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from toolkit import schema as s
from toolkit.analysis.columns import (
    ABOUT,
    BARRIER_PLACE,
    N_PASSAGES,
    ORIGIN,
    OTHER_PLACE,
    PARTICIPANT,
    PARTICIPANTS,
    PASSAGES,
    REFERENCE,
    SOURCE_KIND,
    THEME_NAME,
    TRANSCRIPT,
)
from toolkit.analysis.matrix import framework_cell
from toolkit.analysis.remedies import split_practices

if TYPE_CHECKING:  # only for type hints
    from toolkit.export.data import ExportData

__all__ = ["CASE_LABEL", "PLACE_ROW", "cases_sheet", "framework_sheet", "memos_sheet", "practice_passages_sheet",
           "practices_sheet", "remedies_sheet", "theme_headers"]

CASE_LABEL = "Case"
PLACE_ROW = "All of {place}"
"""The case column of a place's own row (its summary, and everyone there: interviewees and survey respondents)."""
NOTHING = "Nothing in this snapshot yet."


def theme_headers(data: ExportData) -> dict[str, str]:
    """``theme id -> column header``: the theme's name, a sub-theme's as ``Theme › Sub-theme``."""
    names = data.theme_names()
    parents = data.theme_parents()
    return {t: f"{names.get(parents[t], parents[t])} \u203a {name}" if parents.get(t) else name
            for t, name in names.items()}


def framework_sheet(data: ExportData) -> list[pd.DataFrame]:
    """The framework matrix: cases (grouped by place, with their attributes) × themes, cells as in NVivo."""
    cases = data.cases()
    if data.codings is None or data.codings.empty:
        return [pd.DataFrame({"Note": ["No codings in this snapshot yet: run the coding stage, then export again."]})]
    interviewees = cases[cases[SOURCE_KIND] == TRANSCRIPT] if not cases.empty else cases
    attributes = [c for c in cases.columns if c not in (PARTICIPANT, SOURCE_KIND, s.PLACE, s.PATH, s.SECTOR)]
    by_case = data.framework(PARTICIPANT)
    by_place = data.framework(s.PLACE)
    polarity_of = _polarities(data)
    headers = theme_headers(data)
    themes = list(dict.fromkeys(by_case[s.THEME])) if not by_case.empty else list(headers)
    case_cells = _cells(by_case, PARTICIPANT, polarity_of, people=False)
    place_cells = _cells(by_place, s.PLACE, polarity_of, people=True)
    labels = {s.ORGANISATION_TYPE: "Organisation type", s.ROLE: "Role"}
    rows = []
    places = list(dict.fromkeys([*by_place[s.PLACE]])) if not by_place.empty else []
    for place in places:
        mine = interviewees[interviewees[s.PLACE].astype(str) == place] if not interviewees.empty else interviewees
        for case in mine.to_dict("records"):
            row = {"Place": place, CASE_LABEL: case[PARTICIPANT]}
            row.update({labels.get(a, a.replace("_", " ").capitalize()): _shown(case.get(a)) for a in attributes})
            row.update({headers.get(t, t): case_cells.get((case[PARTICIPANT], t), "") for t in themes})
            rows.append(row)
        row = {"Place": place, CASE_LABEL: PLACE_ROW.format(place=place)}
        row.update({headers.get(t, t): place_cells.get((place, t), "") for t in themes})
        rows.append(row)
    columns = ["Place", CASE_LABEL, *[labels.get(a, a.replace("_", " ").capitalize()) for a in attributes],
               *[headers.get(t, t) for t in themes]]
    return [pd.DataFrame(rows, columns=columns)]


def _cells(matrix: pd.DataFrame, rows: str, polarity_of: dict[str, str], *, people: bool) -> dict:
    out = {}
    for row in matrix.to_dict("records"):
        text = framework_cell(row, people=people, polarity_of=polarity_of)
        if text:
            out[(str(row[rows]), row[s.THEME])] = text
    return out


def _polarities(data: ExportData) -> dict[str, str]:
    codings = data.codings
    if codings is None or codings.empty:
        return {}
    ranked = codings.sort_values(s.RANK) if s.RANK in codings.columns else codings
    return dict(zip(ranked[s.SEGMENT_KEY][::-1], ranked[s.POLARITY][::-1]))


def _shown(value) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def remedies_sheet(data: ExportData) -> list[pd.DataFrame]:
    """From barrier to remedy: each barrier of one place beside the enablers and practices of the others."""
    table = data.remedies()
    if table.empty:
        return [pd.DataFrame({"Note": ["No barriers are coded in this snapshot yet."]})]
    frame = pd.DataFrame({
        "Theme": table[THEME_NAME],
        "Barrier in": table[BARRIER_PLACE],
        "People reporting the barrier": table["barrier_people"],
        "Barrier, in their words": table["barrier_quote"],
        "Barrier reference": table["barrier_reference"],
        "What another place reports": table[OTHER_PLACE].fillna("(no other place reports an enabler)"),
        "People reporting enablers there": table["enabler_people"],
        "Enabler, in their words": table["enabler_quote"],
        "Enabler reference": table["enabler_reference"],
    })
    split = [split_practices(r["practices"], r["practice_ids"], data.practice_table) for r in table.to_dict("records")]
    frame["Practices there"] = ["; ".join(curated) for curated, _ in split]
    frame["Proposed there, not yet reviewed"] = ["; ".join(proposed) for _, proposed in split]
    return [frame]


_STATUS_WORDS = {"candidate": "candidate (not yet reviewed)", "reviewed": "reviewed", "confirmed": "confirmed",
                 "not_a_practice": "not a practice"}


def practices_sheet(data: ExportData) -> list[pd.DataFrame]:
    """Curated practices (then the machine's proposals): title, what, where, who, evidence, status, transferability;
    below them, every linked passage with its practice, reference and words."""
    table = data.practice_table
    if table is None or table.empty:
        return [pd.DataFrame({"Note": ["No good-practice passages in this snapshot yet."]})]
    frame = pd.DataFrame({
        "Practice": table[s.TITLE],
        "Status": table[s.STATUS].map(lambda v: _STATUS_WORDS.get(v, v)),
        "Curated by": [a if o == "curated" else "proposed by the machine" for a, o in zip(table[s.AUTHOR],
                                                                                        table[ORIGIN])],
        "Place": table[s.PLACE],
        "Theme": table[THEME_NAME],
        "What it is": table[s.DESCRIPTION],
        "Who runs it": table[s.WHO_RUNS],
        "Evidence that it helped": table[s.EVIDENCE],
        "Transferability": table[s.TRANSFERABILITY],
        "Passages": table[N_PASSAGES],
        "People": table[PARTICIPANTS],
    })
    return [frame]


def practice_passages_sheet(data: ExportData) -> list[pd.DataFrame]:
    """Every passage linked to a practice (the evidence behind it): the practice, its status, reference and words."""
    table = data.practice_table
    evidence = data.evidence().set_index(s.SEGMENT_KEY) if not data.segments.empty else pd.DataFrame()
    rows = []
    for practice in (table.to_dict("records") if table is not None and not table.empty else []):
        for key in practice[PASSAGES]:
            if not evidence.empty and key in evidence.index:
                rows.append({"Practice": practice[s.TITLE], "Place": practice[s.PLACE],
                             "Curated": "yes" if practice[ORIGIN] == "curated" else "proposed",
                             "Reference": evidence.at[key, REFERENCE], "Quote": evidence.at[key, s.TEXT]})
    if not rows:
        return [pd.DataFrame({"Note": ["No passages are linked to a practice in this snapshot yet."]})]
    return [pd.DataFrame(rows)]


def memos_sheet(data: ExportData) -> list[pd.DataFrame]:
    """Every memo: what it is about, title, text, author, when, and the passage's reference."""
    memos = data.memo_table
    if memos is None or memos.empty:
        return [pd.DataFrame({"Note": ["No memos have been written yet."]})]
    frame = pd.DataFrame({
        "Scope": memos[s.SCOPE],
        "About": memos[ABOUT],
        "Title": memos[s.TITLE],
        "Memo": memos[s.TEXT],
        "Author": memos[s.AUTHOR],
        "Written": memos[s.CREATED_AT].map(lambda v: str(v)[:16].replace("T", " ") if isinstance(v, str) else v),
        "Reference": memos[REFERENCE],
    })
    return [frame]


def cases_sheet(data: ExportData) -> list[pd.DataFrame]:
    """Every case with its attributes (the study's own manifest columns typed text, number or date)."""
    cases = data.cases()
    if cases.empty:
        return [pd.DataFrame({"Note": [NOTHING]})]
    types = cases.attrs.get("attribute_types", {})
    frame = cases.drop(columns=[s.PATH]).copy()
    frame[SOURCE_KIND] = frame[SOURCE_KIND].map({TRANSCRIPT: "interviewee", "survey": "survey respondent"})
    renamed = {PARTICIPANT: CASE_LABEL, SOURCE_KIND: "Kind", s.PLACE: "Place", s.ORGANISATION_TYPE: "Organisation type",
               s.ROLE: "Role", s.SECTOR: "Sector",
               **{name: f"{name} ({kind})" for name, kind in types.items()}}
    for name in types:
        frame[name] = frame[name].map(_shown)
    return [frame.rename(columns=renamed)]

