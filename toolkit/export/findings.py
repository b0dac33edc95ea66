"""The findings report's framework-analysis sections: what a framework researcher hands on.

Built as format-free blocks (:mod:`toolkit.export.report_blocks`) from an
:class:`~toolkit.export.data.ExportData` snapshot; :mod:`toolkit.export.report` puts them in order
and renders them. Everything counted or cited comes from :mod:`toolkit.analysis`.

- :func:`theme_blocks`: one theme: its definition, the researchers' cross-place synthesis (the
  framework matrix's place summaries), who reports it where (people, not sentences), balanced
  barrier and enabler quotes, negative cases, and the case summaries behind it.
- :func:`remedy_blocks`: from barrier to remedy across places.
- :func:`practice_blocks`: the curated practices, then the machine's proposals awaiting review.
- :func:`sampling_blocks`, :func:`analyst_blocks`, :func:`limitation_blocks`: parts of the methods.
- :func:`memo_blocks`: the appendix of memos.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from toolkit import schema as s
from toolkit.analysis._frames import plain
from toolkit.analysis.columns import (
    ABOUT,
    ACROSS_PLACES,
    BARRIER_PLACE,
    ORIGIN,
    OTHER_PLACE,
    PARTICIPANT,
    REFERENCE,
    REVIEWED_CODINGS,
    SOURCE_KIND,
    SURVEY,
)
from toolkit.analysis.matrix import people_text
from toolkit.analysis.quotes import select_quotes
from toolkit.analysis.references import reference
from toolkit.analysis.remedies import split_practices
from toolkit.export.report_blocks import Block, Bullets, Heading, Para, Quote, Table
from toolkit.export.validation import count_caveat, quote_pool

if TYPE_CHECKING:  # only for type hints
    from toolkit.export.data import ExportData

__all__ = [
    "ACROSS_PLACES",
    "NEGATIVE_CASES",
    "analyst_blocks",
    "key_finding_blocks",
    "limitation_blocks",
    "memo_blocks",
    "negative_cases",
    "practice_blocks",
    "remedy_blocks",
    "sampling_blocks",
    "shorten",
    "theme_blocks",
]

NEGATIVE_CASES = "Negative cases"
MAX_CASE_SUMMARIES = 12
_STATUS_WORDS = {"candidate": "candidate, not yet reviewed", "reviewed": "reviewed by a researcher",
                 "confirmed": "confirmed", "not_a_practice": "not a practice"}


def quote_block(row) -> Quote:
    """A quote with its one citation, marked when its coding has not been reviewed by a person."""
    cited = plain(row.get(REFERENCE)) or reference(row)
    return Quote(text=plain(row.get(s.TEXT)), reference=cited,
                 machine_only=plain(row.get(s.STATUS)) not in REVIEWED_CODINGS)


# --------------------------------------------------------------------------- key findings
def key_finding_blocks(data: ExportData, themes: list[tuple[str, str, str]]) -> list[Block]:
    """The report's first page: the researchers' cross-place synthesis of each theme, and the practices to copy."""
    blocks: list[Block] = [Heading("Key findings", 2)]
    summaries = data.summaries
    across = {}
    if summaries is not None and not summaries.empty:
        mine = summaries[(summaries[s.ROW_DIMENSION] == s.PLACE) & (summaries[s.ROW_VALUE] == ACROSS_PLACES)]
        across = dict(zip(mine[s.THEME], mine[s.TEXT]))
    found = [(f"{name}:", across[theme_id]) for theme_id, name, _ in themes if theme_id in across]
    if found:
        blocks.append(Bullets(tuple(text for _, text in found), leads=tuple(lead for lead, _ in found)))
    else:
        blocks.append(Para("The researchers have not yet written a synthesis across the places for any theme (a "
                           "summary of the framework matrix's \u201cAll places\u201d row); each theme's section "
                           "below gives what each place's summary and the coding say.", note=True))
    table = data.practice_table
    if table is not None and not table.empty:
        curated = table[(table[ORIGIN] == "curated") & table[s.STATUS].isin(("reviewed", "confirmed"))]
        if not curated.empty:
            blocks.append(Para("Practices that helped, which other places could adopt:"))
            rows = curated.to_dict("records")
            blocks.append(Bullets(tuple(plain(r[s.DESCRIPTION]) or "(not yet described)" for r in rows),
                                  leads=tuple(f"{plain(r[s.TITLE])} ({plain(r[s.PLACE])}):" for r in rows)))
    return blocks


# --------------------------------------------------------------------------- one theme
def theme_blocks(data: ExportData, theme_id: str, name: str, definition: str, rows: pd.DataFrame,
                 places: list[str]) -> list[Block]:
    """A theme's section: definition, synthesis, who reports it where, quotes, negative cases, case summaries.

    ``rows`` are the coded segments of the theme (codings joined with who said them).
    """
    blocks: list[Block] = [Heading(f"Theme: {name}", 2)]
    if definition:
        blocks.append(Para(f"Definition: {definition}"))
    blocks += _synthesis(data, theme_id)
    blocks.append(people_table(rows, places, name))
    caveat = count_caveat(data.validation(), theme_id, rows)  # counts with unreviewed codings are estimates
    if caveat:
        blocks.append(Para(caveat, note=True))
    shown: set[str] = set()
    for polarity, title in ((s.BARRIER, "Barriers"), (s.ENABLER, "Enablers")):
        blocks.append(Heading(title, 3))
        candidates = rows[rows[s.POLARITY] == polarity]
        pool, note = quote_pool(candidates, data.validation())  # reviewed passages, else confident ones
        quotes = select_quotes(pool)
        if candidates.empty:
            blocks.append(Para(f"No {title.lower()} were coded for this theme."))
        if note:
            blocks.append(Para(note, note=True))
        shown |= set(quotes[s.SEGMENT_KEY]) if not quotes.empty else set()
        blocks += [quote_block(row) for row in quotes.to_dict("records")]
    against = negative_cases(rows, exclude=shown)
    if not against.empty:
        blocks.append(Heading(NEGATIVE_CASES, 3))
        blocks.append(Para("Voices that cut against the pattern in their own place: an enabler where most people "
                           "there report the theme as a barrier, or a barrier where most report it as an enabler."))
        for row in against.to_dict("records"):
            blocks.append(quote_block(row))
    blocks += _case_summaries(data, theme_id)
    return blocks


def _synthesis(data: ExportData, theme_id: str) -> list[Block]:
    summaries = data.summaries
    if summaries is None or summaries.empty:
        mine = pd.DataFrame()
    else:
        mine = summaries[(summaries[s.ROW_DIMENSION] == s.PLACE) & (summaries[s.THEME] == theme_id)]
    blocks: list[Block] = [Heading("Across the places", 3)]
    if mine.empty:
        blocks.append(Para("No cross-place synthesis has been written for this theme yet. Researchers write it as "
                           "summaries of the framework matrix's cells (one per place, and one for all places); "
                           "the counts and quotes below come from the coding.", note=True))
        return blocks
    order = {p: i for i, p in enumerate([ACROSS_PLACES, *data.places])}
    mine = mine.assign(_o=mine[s.ROW_VALUE].map(order).fillna(len(order))).sort_values(["_o", s.ROW_VALUE])
    for row in mine.to_dict("records"):
        who = _by(row)
        label = "All places" if row[s.ROW_VALUE] == ACROSS_PLACES else row[s.ROW_VALUE]
        blocks.append(Para(f"{row[s.TEXT]}{who}", lead=f"{label}:"))
    return blocks


def _case_summaries(data: ExportData, theme_id: str) -> list[Block]:
    summaries = data.summaries
    if summaries is None or summaries.empty:
        return []
    mine = summaries[(summaries[s.ROW_DIMENSION] != s.PLACE) & (summaries[s.THEME] == theme_id)]
    if mine.empty:
        return []
    cases = data.cases().set_index(PARTICIPANT) if not data.cases().empty else pd.DataFrame()
    items, leads = [], []
    for row in mine.sort_values([s.ROW_DIMENSION, s.ROW_VALUE]).head(MAX_CASE_SUMMARIES).to_dict("records"):
        if row[s.ROW_DIMENSION] == PARTICIPANT and row[s.ROW_VALUE] in cases.index:
            case = cases.loc[row[s.ROW_VALUE]]
            about = ", ".join(v for v in (plain(case.get(s.PLACE)), plain(case.get(s.ORGANISATION_TYPE)),
                                          plain(case.get(s.ROLE))) if v)
            label = f"{row[s.ROW_VALUE]} ({about})" if about else row[s.ROW_VALUE]
        else:
            label = f"{row[s.ROW_DIMENSION].replace('_', ' ')} {row[s.ROW_VALUE]}"
        items.append(f"{row[s.TEXT]}{_by(row)}")
        leads.append(f"{label}:")
    more = len(mine) - len(items)
    if more > 0:
        items.append(f"and {more} more case summaries (see the workbook's framework matrix)")
        leads.append("")
    return [Heading("Case summaries", 3), Para("What the researchers wrote for each case (framework matrix cells):"),
            Bullets(tuple(items), leads=tuple(leads))]


def _by(row) -> str:
    author, when = plain(row.get(s.AUTHOR)), plain(row.get(s.CREATED_AT))[:10]
    bits = [b for b in (author, when) if b]
    return f" ({', '.join(bits)})" if bits else ""


def people_table(rows: pd.DataFrame, places: list[str], name: str) -> Table:
    """Who reports a theme in each place: people with a barrier coding, with an enabler coding, and the passages."""
    def count(frame: pd.DataFrame, polarity: str) -> str:
        mine = frame[frame[s.POLARITY] == polarity]
        interviewees = mine.loc[mine[SOURCE_KIND] != SURVEY, PARTICIPANT].nunique()
        surveyed = mine.loc[mine[SOURCE_KIND] == SURVEY, PARTICIPANT].nunique()
        return people_text(int(interviewees), int(surveyed)) or "nobody"

    table_rows = []
    labelled = rows.assign(_place=rows[s.PLACE].map(plain))
    for place in [*places, *sorted(set(labelled["_place"]) - set(places) - {""})]:
        here = labelled[labelled["_place"] == place]
        passages = "/".join(str(int((here[s.POLARITY] == p).sum())) for p in s.POLARITIES)
        table_rows.append((place, count(here, s.BARRIER), count(here, s.ENABLER), passages))
    passages = "/".join(str(int((rows[s.POLARITY] == p).sum())) for p in s.POLARITIES)
    table_rows.append((ACROSS_PLACES, count(rows, s.BARRIER), count(rows, s.ENABLER), passages))
    return Table(("Place", "People reporting barriers", "People reporting enablers",
                  "Passages (barrier/enabler/neutral)"), tuple(table_rows),
                 caption=f"Who reports \u201c{name}\u201d where")


def negative_cases(rows: pd.DataFrame, *, exclude: set[str] = frozenset(), per_place: int = 1) -> pd.DataFrame:
    """Passages that go against the dominant view of the theme in their place.

    In a place where more people report the theme as a barrier than as an enabler, its enabler
    passages are the negative cases (and the other way round); places with a tie have none. At most
    ``per_place`` per place, chosen as quotes are (reviewed first, then confidence), leaving out
    ``exclude`` (quotes already shown).
    """
    chosen = []
    if rows.empty:
        return rows
    for place, here in rows.groupby(rows[s.PLACE].map(plain), sort=False):
        barrier = here.loc[here[s.POLARITY] == s.BARRIER, PARTICIPANT].nunique()
        enabler = here.loc[here[s.POLARITY] == s.ENABLER, PARTICIPANT].nunique()
        if barrier == enabler:
            continue
        minority = s.ENABLER if barrier > enabler else s.BARRIER
        pool = here[(here[s.POLARITY] == minority) & ~here[s.SEGMENT_KEY].isin(exclude)]
        if not pool.empty:
            chosen.append(select_quotes(pool, limit=per_place, per_place=None, per_participant=1))
    return pd.concat(chosen) if chosen else rows.iloc[0:0]


# --------------------------------------------------------------------------- barrier to remedy
def shorten(text: str, words: int = 30) -> str:
    """A quote cut to its first ``words`` words, the cut marked with an ellipsis (the full quote is in its theme).

    >>> shorten("one two three four", words=2)
    'one two\u2026'
    """
    parts = str(text).split()
    return " ".join(parts[:words]) + ("\u2026" if len(parts) > words else "")


def remedy_blocks(data: ExportData) -> list[Block]:
    """For each theme, each place's barrier beside what the other places report on it."""
    blocks: list[Block] = [Heading("From barrier to remedy", 1)]
    table = data.remedies()
    if table.empty:
        blocks.append(Para("No barriers are coded yet, so there is nothing to set beside the other places' enablers."))
        return blocks
    blocks.append(Para(
        "For each barrier that people in one place report, what the other places report on the same theme: how "
        "many people there report enablers, the practices they have, and the clearest enabler in their words. "
        "People are counted, not sentences. A barrier no other place reports an enabler for is a gap the study "
        "can name."))
    for theme, group in table.groupby(s.THEME, sort=False):
        rows = []
        for place, mine in group.groupby(BARRIER_PLACE, sort=False):
            first = mine.iloc[0]
            barrier = f"{place}: {first['barrier_people']} {'person' if first['barrier_people'] == 1 else 'people'}"
            if first["barrier_quote"]:
                barrier += f"\n\u201c{shorten(first['barrier_quote'])}\u201d \u2014 {first['barrier_reference']}"
            others = []
            for row in mine.to_dict("records"):
                if not row[OTHER_PLACE]:
                    others.append("No other place reports an enabler or a practice on this theme.")
                    continue
                text = f"{row[OTHER_PLACE]}: {row['enabler_people']} reporting enablers"
                reviewed, proposed = split_practices(row["practices"], row["practice_ids"], data.practice_table)
                if reviewed:
                    text += "; practices: " + "; ".join(reviewed)
                if proposed:  # the machine's groupings: named as such, never passed off as a researcher's
                    text += "; proposed from the coding, not yet reviewed: " + "; ".join(proposed)
                if row["enabler_quote"]:
                    text += f"\n\u201c{shorten(row['enabler_quote'])}\u201d \u2014 {row['enabler_reference']}"
                others.append(text)
            rows.append((barrier, "\n\n".join(others)))
        blocks.append(Heading(plain(group.iloc[0]["theme_name"]), 2))
        blocks.append(Table(("Where it is a barrier", "What the other places report"), tuple(rows)))
    return blocks


# --------------------------------------------------------------------------- practices
def practice_blocks(data: ExportData) -> list[Block]:
    """The curated practices in full, then the machine's proposals awaiting a researcher."""
    blocks: list[Block] = [Heading("Practices that helped", 1)]
    table = data.practice_table
    if table is None or table.empty:
        blocks.append(Para("No passages have been flagged as good practice yet."))
        return blocks
    curated = table[(table[ORIGIN] == "curated") & (table[s.STATUS] != "not_a_practice")]
    strength = {status: rank for rank, status in enumerate(reversed(s.PRACTICE_STATUSES))}  # confirmed first
    curated = curated.iloc[sorted(range(len(curated)), key=lambda i: strength.get(curated.iloc[i][s.STATUS], 0))]
    proposed = table[table[ORIGIN] == "proposed"]
    blocks.append(Para(
        "Concrete things places did that helped information sharing. Each practice below was curated by a "
        "researcher from the passages that describe it: what it is, where, who runs it, the evidence that it "
        "helped, and what another place would need to copy it."))
    if curated.empty:
        blocks.append(Para("No practice has been curated by a researcher yet.", note=True))
    segments = data.evidence().set_index(s.SEGMENT_KEY) if not data.segments.empty else pd.DataFrame()
    for row in curated.to_dict("records"):
        blocks.append(Heading(plain(row[s.TITLE]), 2))
        facts = [(label, plain(row.get(key))) for key, label in (
            (s.DESCRIPTION, "What it is"), (s.PLACE, "Where"), (s.WHO_RUNS, "Who runs it"),
            (s.EVIDENCE, "Evidence that it helped"), (s.TRANSFERABILITY, "Transferability"))]
        facts.append(("Status", _STATUS_WORDS.get(row[s.STATUS], row[s.STATUS]) + (
            f" ({plain(row.get(s.AUTHOR))}, {plain(row.get(s.CREATED_AT))[:10]})" if plain(row.get(s.AUTHOR)) else "")))
        people = f"{row['participants']} {'person' if row['participants'] == 1 else 'people'}"
        facts.append(("Linked passages", f"{row['n_passages']} from {people}"))
        blocks.append(Table(("", ""), tuple((k, v or "\u2014") for k, v in facts)))
        keys = [k for k in row["passages"] if not segments.empty and k in segments.index]
        if keys:
            linked = segments.loc[keys].reset_index()
            for quote in select_quotes(linked, limit=2, per_place=None, per_participant=1).to_dict("records"):
                blocks.append(quote_block(quote))
    if not proposed.empty:
        blocks.append(Heading("Proposed from the coding, not yet reviewed", 2))
        blocks.append(Para(
            "Good-practice passages nobody has curated yet, grouped by the machine into proposed practices "
            "(passages that read alike, in one place). Hypotheticals, barriers and asides were set aside. A "
            "researcher should review, merge or split these before they are quoted.", note=True))
        blocks.append(Table(("Proposed practice", "Place", "Passages", "People"), tuple(
            (plain(r[s.TITLE]), plain(r[s.PLACE]), str(r["n_passages"]), str(r["participants"]))
            for r in proposed.to_dict("records"))))
    return blocks


# --------------------------------------------------------------------------- methods
def sampling_blocks(data: ExportData) -> list[Block]:
    """Data and sampling: who was interviewed, by place and organisation type; survey respondents by place."""
    cases = data.cases()
    blocks: list[Block] = [Heading("Data and sampling", 2)]
    if cases.empty:
        blocks.append(Para("No participants are recorded yet."))
        return blocks
    interviewees = cases[cases[SOURCE_KIND] != SURVEY]
    respondents = cases[cases[SOURCE_KIND] == SURVEY]
    places = list(dict.fromkeys([*data.places, *sorted(set(cases[s.PLACE].dropna().astype(str)))]))
    blocks.append(Para(
        f"The study covers {len(places)} place{'s' if len(places) != 1 else ''}, each a local area where the NHS and "
        f"the council share information for families. Within each place, interviewees were chosen for their role "
        f"in sharing (programme leads, information governance, health and council practitioners); survey "
        f"respondents answered a staff survey. {len(interviewees)} interviewees and {len(respondents)} survey "
        "respondents took part."))
    kinds = sorted(set(interviewees[s.ORGANISATION_TYPE].map(plain)) - {""})
    rows = []
    for place in places:
        mine = interviewees[interviewees[s.PLACE].map(plain) == place]
        counts = [str(int((mine[s.ORGANISATION_TYPE].map(plain) == k).sum())) for k in kinds]
        surveyed = int((respondents[s.PLACE].map(plain) == place).sum())
        rows.append((place, str(len(mine)), *counts, str(surveyed)))
    blocks.append(Table(("Place", "Interviewees", *kinds, "Survey respondents"), tuple(rows),
                        caption="Participants by place and organisation type"))
    types = cases.attrs.get("attribute_types", {})
    if types:
        blocks.append(Para("Case attributes recorded for each interviewee (from the study's manifest): "
                           + ", ".join(f"{n} ({t})" for n, t in types.items()) + "."))
    return blocks


def analyst_blocks(data: ExportData) -> list[Block]:
    """Who did the analysis: the people behind the decisions, summaries, memos and curated practices."""
    work: dict[str, dict[str, int]] = {}

    def add(frame, column: str, what: str) -> None:
        if frame is None or frame.empty or column not in frame.columns:
            return
        for name, n in frame[column].map(plain).value_counts().items():
            if name and name != s.MACHINE_CODER:
                work.setdefault(name, {})[what] = int(n)

    add(data.human_codings, s.CODER, "coding decisions")
    add(data.summaries, s.AUTHOR, "matrix summaries")
    add(data.memo_table, s.AUTHOR, "memos")
    table = data.practice_table
    if table is not None and not table.empty:
        add(table[table[ORIGIN] == "curated"], s.AUTHOR, "practices curated")
    blocks: list[Block] = [Heading("Analysts", 2)]
    if not work:
        blocks.append(Para("No person has recorded analysis work in the study yet: every coding is the machine's."))
        return blocks
    what = ("coding decisions", "matrix summaries", "memos", "practices curated")
    blocks.append(Para("The people who reviewed the machine's coding and wrote the analysis, and how much of each:"))
    blocks.append(Table(("Analyst", *[w.capitalize() for w in what]),
                        tuple((name, *[str(counts.get(w, 0)) for w in what]) for name, counts in sorted(work.items()))))
    return blocks


def limitation_blocks(data: ExportData, coded: pd.DataFrame) -> list[Block]:
    """Limitations that follow from the data and from how far the analysis has got."""
    items = []
    if not coded.empty:
        reviewed = coded[s.STATUS].isin(REVIEWED_CODINGS)
        share = 100.0 * reviewed.mean()
        items.append(f"{share:.0f}% of the codings behind the counts and quotes have been checked by a person; the rest "
                     "are the machine's. Counts resting on unreviewed codings are estimates, and quotes marked as "
                     "machine coding may sit under the wrong heading.")
    items.append("People are counted, not sentences, but the places and participants were not sampled to be "
                 "representative: a count says who raised a theme here, not how common it is elsewhere.")
    items.append("Survey respondents chose to answer, and their free-text answers are short; they are counted apart "
                 "from interviewees throughout.")
    summaries = data.summaries
    themes = {t.id for t in data.codebook.themes}
    written = set(summaries.loc[summaries[s.ROW_DIMENSION] == s.PLACE, s.THEME]) if summaries is not None and \
        not summaries.empty else set()
    missing = len(themes - written)
    if missing:
        items.append(f"{missing} of {len(themes)} themes have no cross-place synthesis written by a researcher yet; "
                     "their sections rest on the coding alone.")
    table = data.practice_table
    if table is not None and not table.empty and (table[ORIGIN] == "proposed").any():
        items.append("Some practices are the machine's proposals (grouped good-practice passages) and have not been "
                     "reviewed; they are listed apart.")
    items.append("All text is pseudonymised before analysis; pseudonymisation can miss an identifier, so read a quote "
                 "before publishing it.")
    return [Heading("Limitations", 2), Bullets(tuple(items))]


# --------------------------------------------------------------------------- appendix
def memo_blocks(data: ExportData) -> list[Block]:
    """Appendix: every memo, by what it is about, with author and date."""
    blocks: list[Block] = [Heading("Appendix: memos", 1)]
    memos = data.memo_table
    if memos is None or memos.empty:
        blocks.append(Para("No memos have been written yet."))
        return blocks
    blocks.append(Para("Memos the researchers wrote during the analysis, oldest first within each kind."))
    titles = {"project": "On the project", "case": "On cases", "theme": "On themes", "cell": "On matrix cells",
              "source": "On sources", "passage": "On passages"}
    for scope in s.MEMO_SCOPES:
        mine = memos[memos[s.SCOPE] == scope]
        if mine.empty:
            continue
        blocks.append(Heading(titles[scope], 2))
        for row in mine.to_dict("records"):
            head = plain(row.get(s.TITLE))
            about = plain(row.get(ABOUT))
            label = f"{head} \u2014 {about}" if head and scope != "project" else (head or about)
            blocks.append(Para(row[s.TEXT], lead=f"{label}{_by(row)}:"))
    return blocks
