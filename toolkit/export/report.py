"""The findings report: a Word document or one self-contained HTML page for non-technical readers.

The report is built once as a list of plain blocks (headings, paragraphs, tables,
quotes, charts) from an :class:`~toolkit.export.data.ExportData` snapshot, then
rendered to ``.docx`` (python-docx; charts become their tables) or ``.html``
(escaped text, inline CSS, interactive plotly charts with plotly.js embedded once,
so the file opens offline).

Sections: summary; one section per theme (definition, the researchers' cross-place
synthesis from the framework matrix's summaries, who reports it where, the strongest
barrier and enabler quotes balanced across places and participants, negative cases, case
summaries); from barrier to remedy across places; the curated practices; survey results;
methods (data and sampling, corpus, analysts, codebook, the machine-assisted coding method,
review and validation figures when :mod:`toolkit.analysis.validation` is there, coder
agreement, limitations, run log); an appendix of memos. The framework-analysis sections
are built in :mod:`toolkit.export.findings`.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from toolkit import schema as s
from toolkit.analysis.codings import agreement_codings
from toolkit.analysis.columns import (
    AGREE,
    DISAGREE,
    N_ANSWERS,
    NEUTRAL_ANSWER,
    NO_VALUE,
    PARTICIPANT,
    REFERENCE,
    REVIEWED_CODINGS,
    SOURCE_KIND,
)
from toolkit.analysis.overview import CorpusCounts, corpus_counts
from toolkit.analysis.quotes import MAX_PER_PARTICIPANT, MAX_PER_PLACE, MAX_QUOTES, select_quotes  # noqa: F401
from toolkit.analysis.references import reference
from toolkit.analysis.surveys import likert_direction, likert_percentages  # noqa: F401
from toolkit.errors import ConfigError
from toolkit.export import findings
from toolkit.export.report_blocks import Block, Bullets, Heading, Para, Quote, SurveyChart, Table

__all__ = ["REPORT_FORMATS", "build_report", "select_quotes", "survey_percentages", "write_report"]

log = logging.getLogger(__name__)

REPORT_FORMATS = ("docx", "html")
_SUFFIX_FORMATS = {".docx": "docx", ".html": "html", ".htm": "html"}

MACHINE_ONLY = "machine"
MACHINE_MARK = "machine coding, not yet reviewed"

MAX_RUNS = 10
ALL_PLACES = "All places"

# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
_SURVEY_COLOURS = {DISAGREE: "#D55E00", NEUTRAL_ANSWER: "#BBBBBB", AGREE: "#0072B2"}

_EVIDENCE_NAMES = {
    "pattern": "codebook phrase patterns",
    "similarity": "similarity to theme definitions and examples",
    "model": "a statistical model trained on examples and reviews",
    "human": "a person's coding",
    "exclusion": "a theme's exclusion note (moved to the theme it names)",
}


# --------------------------------------------------------------------------- public API
def write_report(
    data,
    path: str | Path,
    *,
    fmt: str | None = None,
    report_date: dt.date | None = None,
) -> Path:
    """Write the findings report as Word (``.docx``) or a self-contained web page (``.html``).

    Parameters
    ----------
    data : the :class:`~toolkit.export.data.ExportData` snapshot to report on.
    path : the file to write; its folder must exist. The file is replaced atomically.
    fmt : ``"docx"`` or ``"html"``; by default taken from the suffix of ``path``.
    report_date : the date printed on the report (default: today).

    Returns
    -------
    The path written.

    Raises
    ------
    ConfigError : the format is not supported or cannot be told from the suffix, or the
        path is a folder or its folder does not exist.

    Examples
    --------
    >>> write_report(data, "exports/findings.docx")  # doctest: +SKIP
    PosixPath('exports/findings.docx')
    >>> write_report(data, "exports/findings.html")  # doctest: +SKIP
    PosixPath('exports/findings.html')
    """
    path = Path(path)
    fmt = _resolve_format(path, fmt)
    _check_target(path)
    blocks = build_report(data, report_date=report_date)
    if fmt == "docx":
        _write_atomic(path, lambda tmp: _render_docx(blocks, data.study_name).save(tmp))
    else:
        page = _render_html(blocks, data.study_name)
        _write_atomic(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    n_themes = sum(1 for b in blocks if isinstance(b, Heading) and b.level == 2 and b.text.startswith("Theme: "))
    log.info("wrote findings report %s (%s, %d theme sections, %d quotes)", path, fmt, n_themes,
             sum(isinstance(b, Quote) for b in blocks))
    return path


def _resolve_format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        found = _SUFFIX_FORMATS.get(path.suffix.lower())
        if found is None:
            raise ConfigError(
                f"{path.name}: cannot tell the report format from the suffix '{path.suffix or '(none)'}'. "
                "End the file name in .docx or .html, or pass fmt='docx' or fmt='html'."
            )
        return found
    value = str(fmt).lower().lstrip(".")
    if value == "htm":
        value = "html"
    if value not in REPORT_FORMATS:
        raise ConfigError(
            f"{path.name}: unsupported report format '{fmt}'. Choose one of: {', '.join(REPORT_FORMATS)}."
        )
    return value


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a file. Give a file name ending in .docx or .html.")
    if not path.parent.is_dir():
        raise ConfigError(
            f"{path.name}: the folder {path.parent} does not exist. Create it first or choose another path."
        )


def _write_atomic(path: Path, write) -> None:
    """Write the report through :func:`toolkit.io.atomic_write`, private to the user."""
    from toolkit.io import atomic_write

    try:
        atomic_write(path, write, private=True)
    except OSError as exc:
        raise ConfigError(
            f"{path}: could not write the report ({exc.strerror or exc}). Check the folder is writable and the "
            "file is not open in another program."
        ) from exc


# --------------------------------------------------------------------------- building the content
def build_report(data, *, report_date: dt.date | None = None) -> list[Block]:
    """The report's content as format-free blocks (used by both renderers)."""
    coded = _coded(data)
    blocks: list[Block] = [Heading(f"Findings report: {data.study_name}", 0)]
    blocks.append(Para(f"Study: {data.study_name}. Report date: {(report_date or dt.date.today()).isoformat()}."))
    blocks += _summary(data, coded)
    if not coded.empty:
        blocks += findings.key_finding_blocks(data, _theme_order(data, coded))
    blocks += _validation_headline(data)
    blocks += _themes(data, coded)
    blocks += findings.remedy_blocks(data)
    blocks += findings.practice_blocks(data)
    blocks += _survey(data)
    blocks += _methods(data, coded)
    blocks += findings.memo_blocks(data)
    return blocks


def _coded(data) -> pd.DataFrame:
    """Codings joined with their segments (who said them, their reference); typed, empty when nothing is coded."""
    needed = [s.SEGMENT_KEY, s.THEME, s.POLARITY, s.CONFIDENCE, s.STATUS, s.GOOD_PRACTICE, s.PLACE, PARTICIPANT,
              SOURCE_KIND, s.PARTICIPANT_ID, s.RESPONDENT_KEY, s.ORGANISATION_TYPE, REFERENCE, s.TEXT, s.PATH,
              s.START_CHAR]
    if data.codings is None or data.codings.empty or s.SEGMENT_KEY not in data.codings.columns:
        return pd.DataFrame(columns=needed)
    frame = data.coded_segments()
    for col in needed:
        if col not in frame.columns:
            frame[col] = None
    frame[s.STATUS] = frame[s.STATUS].fillna(MACHINE_ONLY)
    frame[s.CONFIDENCE] = pd.to_numeric(frame[s.CONFIDENCE], errors="coerce").fillna(0.0)
    frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].astype(object).where(frame[s.GOOD_PRACTICE].notna(), False)
    frame[s.GOOD_PRACTICE] = frame[s.GOOD_PRACTICE].astype(bool)
    return frame


def _plain(value) -> str:
    """A cell value as text; missing values as the empty string."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _corpus(data, coded: pd.DataFrame) -> CorpusCounts:
    return corpus_counts(sources=data.sources, segments=data.segments, codings=coded, respondents=data.respondents,
                         likert=data.likert, text_answers=data.text_answers, places=data.places)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _summary(data, coded: pd.DataFrame) -> list[Block]:
    corpus = _corpus(data, coded)
    places = list(corpus.places)
    blocks: list[Block] = [Heading("Summary", 1)]
    blocks.append(
        Para(
            f"This report draws on {_n(corpus.interviews, 'interview')} "
            f"({_n(corpus.interviewees, 'interviewee')}) and {_n(corpus.survey_respondents, 'survey respondent')} "
            f"across {_n(len(places), 'place')}" + (f" ({', '.join(places)})." if places else ".")
        )
    )
    if coded.empty:
        blocks.append(
            Para(
                "No segments have been coded yet, so this report has no theme findings, quotes or good practice. "
                "Run the coding step (toolkit code) and export the report again."
            )
        )
    else:
        blocks.append(
            Para(
                f"{_n(corpus.coded_segments, 'passage')} of text (segments) have been coded with a theme and marked "
                f"as a barrier, an enabler or neutral. {corpus.reviewed_coded} of them have been reviewed by a person; "
                f"{corpus.coded_segments - corpus.reviewed_coded} carry a machine coding only."
            )
        )
    blocks.append(
        Para(
            "All quotes are pseudonymised: names and other identifying details have been replaced by placeholders "
            "such as [PERSON_01], and participants are referred to by study codes. Quotes whose coding comes from "
            f"the machine and has not yet been checked by a person are marked \u201c{MACHINE_MARK}\u201d.",
            note=True,
        )
    )
    return blocks


def _theme_order(data, coded: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(id, name, definition) of every theme with codings: codebook order, then themes the codebook lacks."""
    used = list(dict.fromkeys(coded[s.THEME].dropna().astype(str)))
    known = {t.id: t for t in data.codebook.themes}
    ordered = [(t.id, t.name, t.definition) for t in data.codebook.themes if t.id in set(used)]
    ordered += [(t, t, "This theme is not in the current codebook.") for t in used if t not in known]
    return ordered


def _themes(data, coded: pd.DataFrame) -> list[Block]:
    blocks: list[Block] = [Heading("Findings by theme", 1)]
    if coded.empty:
        blocks.append(Para("No codings yet: there are no theme findings to report."))
        return blocks
    blocks.append(
        Para(
            "Each theme below opens with the researchers' synthesis across the places (their summaries of the "
            "framework matrix), then who reports it as a barrier or an enabler in each place (people, not "
            "sentences), then the clearest quotes. Quotes reviewed by a person come first; no more than two quotes "
            "come from one place and one from any participant, so that no single voice dominates. Negative cases "
            "are the voices that go against the pattern in their place."
        )
    )
    places = list(_corpus(data, coded).places)
    for theme_id, name, definition in _theme_order(data, coded):
        rows = coded[coded[s.THEME].astype(str) == theme_id]
        blocks += findings.theme_blocks(data, theme_id, name, definition, rows, places)
    return blocks


def quote_reference(row) -> str:
    """The citation of a quote: :func:`toolkit.analysis.references.reference` (the dashboard's and the workbook's)."""
    return reference(row)


def _quote(row) -> Quote:
    cited = _plain(row.get(REFERENCE)) or reference(row)
    return Quote(text=_plain(row.get(s.TEXT)), reference=cited,
                 machine_only=_plain(row.get(s.STATUS)) not in REVIEWED_CODINGS)


# --------------------------------------------------------------------------- survey
def survey_percentages(likert: pd.DataFrame) -> pd.DataFrame:
    """Per question and place: % agree / neutral / disagree on each question's stored scale (see
    :func:`toolkit.analysis.surveys.likert_percentages`, the dashboard's and the workbook's numbers)."""
    return likert_percentages(likert)


def _survey(data) -> list[Block]:
    blocks: list[Block] = [Heading("Survey results", 1)]
    table = survey_percentages(data.likert)
    table = table[table[N_ANSWERS] > 0] if not table.empty else table
    if table.empty:
        blocks.append(Para("This study has no survey agreement-scale answers to report."))
        return blocks
    blocks.append(
        Para(
            "For each survey statement, the share of respondents in each place who agreed (the points above the "
            "middle of the question's scale, e.g. agree or strongly agree), were neutral (its middle point), or "
            "disagreed (the points below it). Answers on no point of the scale, such as \u201cdon't know\u201d, "
            "are not in the percentages. Percentages may not add to 100 because of rounding."
        )
    )
    for i, (question, group) in enumerate(table.groupby(s.QUESTION_TEXT, sort=False), start=1):
        blocks.append(Heading(question, 2))
        blocks.append(SurveyChart(question, group.reset_index(drop=True), chart_id=f"survey-chart-{i}"))
        blocks.append(
            Table(
                ("Place", "Agree", "Neutral", "Disagree", "Answers"),
                tuple(
                    (r[s.PLACE], f"{r[AGREE]:.0f}%", f"{r[NEUTRAL_ANSWER]:.0f}%", f"{r[DISAGREE]:.0f}%",
                     str(r[N_ANSWERS]))
                    for r in group.to_dict("records")
                ),
                caption=f"Survey: \u201c{question}\u201d",
            )
        )
    return blocks


# --------------------------------------------------------------------------- methods appendix
def _methods(data, coded: pd.DataFrame) -> list[Block]:
    blocks: list[Block] = [Heading("Methods", 1)]
    blocks += findings.sampling_blocks(data)
    blocks.append(Heading("Corpus", 2))
    sources = data.sources
    if sources is None or sources.empty:
        blocks.append(Para("No sources have been read into this study yet."))
    else:
        formats = sorted({_plain(f) for f in sources[s.FORMAT]} - {""})
        rows = []
        for place, group in sources.groupby(sources[s.PLACE].map(_plain), sort=True):
            counts = [int((group[s.FORMAT] == f).sum()) for f in formats]
            interviews = int((group[s.KIND] == "transcript").sum())
            surveys = int((group[s.KIND] == "survey").sum())
            rows.append((place or NO_VALUE, str(interviews), str(surveys), *map(str, counts)))
        blocks.append(
            Para(
                f"{_n(len(sources), 'source file')}: interview transcripts and survey exports, read from the "
                "study folder, pseudonymised and split into passages (segments) before coding."
            )
        )
        blocks.append(
            Table(("Place", "Interviews", "Surveys", *formats), tuple(rows), caption="Sources by place and file format")
        )

    codebook = data.codebook
    blocks.append(Heading("Codebook", 2))
    fingerprint = codebook.fingerprint() if hasattr(codebook, "fingerprint") else ""
    blocks.append(
        Para(
            f"Codebook \u201c{codebook.name}\u201d, version {codebook.version}"
            + (f" (fingerprint {fingerprint})" if fingerprint and fingerprint != codebook.version else "")
            + f", with {_n(len(codebook.themes), 'theme')}."
        )
    )
    blocks.append(Table(("Theme", "Definition"), tuple((t.name, t.definition) for t in codebook.themes)))
    polarity_items = tuple(f"{p.capitalize()}: {codebook.polarities.get(p, '')}" for p in s.POLARITIES
                           if codebook.polarities.get(p))
    if polarity_items:
        blocks.append(Bullets(polarity_items))

    blocks.append(Heading("Coding method", 2))
    blocks.append(
        Para(
            "Each passage was read with the question it answers (and, for a short follow-on, the sentence before "
            "it) and given up to two themes. A statistical model over sentence embeddings, trained on the "
            "codebook's definitions and examples and on every coding a person has reviewed, ranks the themes "
            "together with the passage's similarity to each theme's examples; phrase patterns written into the "
            "codebook support a theme only when the model already ranks it among its first three, and a theme's "
            "exclusion note can move a passage to the theme the note names. Each coding carries a calibrated "
            "confidence (the estimated probability that it is right); below a set confidence the machine leaves "
            "the passage uncoded rather than guess. Whether a passage describes a barrier, an enabler or is neutral "
            "is read clause by clause from cue words (negation stays in its clause, so \u201cno longer a "
            "problem\u201d reads as an enabler), with the lean of the question, and a second model trained the "
            "same way. Enablers that describe something a place did are flagged as good practice. A person's "
            "decision (accept, reject, recode or add) always replaces the machine's coding, and teaches the next "
            "run."
        )
    )
    uncoded, total = _uncoded(data)
    if uncoded:
        blocks.append(Para(f"{uncoded} of {_n(total, 'participant passage')} carry no theme: no theme fitted with "
                           "enough confidence, the passage was a greeting, thanks or aside, or a person rejected "
                           "the machine's coding.", note=True))
    if not coded.empty:
        fired: dict[str, int] = {}
        for evidence in data.codings.get(s.EVIDENCE, pd.Series(dtype=object)):
            names = evidence.get("fired", []) if isinstance(evidence, dict) else []
            for name in names:
                fired[name] = fired.get(name, 0) + 1
        if fired:
            blocks.append(
                Table(
                    ("Evidence", "Codings it supported"),
                    tuple((_EVIDENCE_NAMES.get(k, k), str(v)) for k, v in sorted(fired.items())),
                    caption="Which evidence supported the codings (a coding can have several kinds)",
                )
            )

    blocks += findings.analyst_blocks(data)
    blocks += _validation_section(data)

    blocks.append(Heading("Coder agreement", 2))
    blocks += _agreement(data)
    blocks += findings.limitation_blocks(data, coded)

    blocks.append(Heading("Run log", 2))
    runs = data.runs
    if runs is None or runs.empty:
        blocks.append(Para("No runs are recorded."))
    else:
        latest = runs.sort_values(s.STARTED_AT, ascending=False, kind="stable").head(MAX_RUNS) \
            if s.STARTED_AT in runs.columns else runs.head(MAX_RUNS)
        cols = [c for c in (s.RUN_ID, s.STAGE, s.STATUS, s.STARTED_AT, s.FINISHED_AT, s.TOOLKIT_VERSION)
                if c in latest.columns]
        shown = latest[cols].copy()
        for column in (s.STARTED_AT, s.FINISHED_AT):
            if column in shown.columns:
                shown[column] = shown[column].map(lambda v: _plain(v)[:16].replace("T", " "))
        blocks.append(
            Table(
                tuple(c.replace("_", " ").capitalize() for c in cols),
                tuple(tuple(_plain(v) for v in row) for row in shown.itertuples(index=False)),
                caption=f"The latest {_n(len(latest), 'run')} of the toolkit on this study",
            )
        )
    return blocks


def _uncoded(data) -> tuple[int, int]:
    """Participant passages that carry no theme (the machine abstained, or a person rejected its coding), of all."""
    segments = data.segments
    if segments is None or segments.empty:
        return 0, 0
    keys = set(segments[s.SEGMENT_KEY])
    codings = data.codings
    coded = set(codings.loc[codings[s.THEME].notna(), s.SEGMENT_KEY]) if codings is not None and not codings.empty \
        else set()
    return len(keys - coded), len(keys)


def agreement_frame(data) -> pd.DataFrame:
    """Long codings (``unit_id``, ``coder``, ``theme``, ``polarity``) of the machine and each human coder.

    See :func:`toolkit.analysis.codings.agreement_codings`.
    """
    return agreement_codings(data.codings, data.human_codings)


def _agreement(data) -> list[Block]:
    from toolkit.agreement import AgreementError, agreement_report

    long = agreement_frame(data)
    people = sorted({_plain(c) for c in long[s.CODER]} - {s.MACHINE_CODER, ""}) if not long.empty else []
    if not people:
        return [Para("No person has coded any passage yet, so there is no coder agreement to report yet.")]
    blocks: list[Block] = [
        Para(
            "Agreement between the machine and each person, over the passages both coded: the share of passages "
            "given the same main label, and Cohen's kappa and Krippendorff's alpha, which discount agreement "
            "expected by chance (1 is perfect agreement, 0 no better than chance)."
        )
    ]
    rows = []
    notes = []
    for person in people:
        mine = set(long.loc[long[s.CODER] == person, s.UNIT_ID])
        theirs = set(long.loc[long[s.CODER] == s.MACHINE_CODER, s.UNIT_ID])
        both = long[long[s.UNIT_ID].isin(mine & theirs)]
        missing = len(mine - theirs)
        if missing:
            notes.append(
                f"{_n(missing, 'passage')} reviewed by {person} "
                f"{'does' if missing == 1 else 'do'} not show the machine's original coding in this export "
                "(a person recoded or rejected it), so "
                f"{'it is' if missing == 1 else 'they are'} not in the comparison."
            )
        if not (mine & theirs):
            notes.append(f"{person}: no passage in this export carries both {person}'s and the machine's coding.")
            continue
        for label_col, label_name in ((s.THEME, "theme"), (s.POLARITY, "barrier/enabler")):
            try:
                overall = agreement_report(both, s.MACHINE_CODER, person, label_col=label_col).overall
            except AgreementError as exc:
                log.info("agreement of machine and %s on %s not computed: %s", person, label_col, exc)
                rows.append((person, label_name, str(len(mine & theirs)), "n/a", "n/a", "n/a"))
                continue
            rows.append((person, label_name, str(overall["n_units"]), _pct(overall["percent_agreement"]),
                         _num(overall["kappa"]), _num(overall["alpha"])))
    if rows:
        blocks.append(
            Table(("Person", "Label", "Passages", "Same label", "Cohen's kappa", "Krippendorff's alpha"), tuple(rows),
                  caption="Machine coding compared with each person's coding")
        )
    blocks += [Para(note, note=True) for note in notes]
    return blocks


def _pct(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100.0 * value:.0f}%"


def _num(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.2f}"


# --------------------------------------------------------------------------- review and validation (issue 14)
# The figures and wording live in toolkit.export.validation; these hooks place them in the report.
def _validation_headline(data) -> list[Block]:
    """The summary's paragraph on how much people checked and how accurate the machine measured."""
    from toolkit.export.validation import headline_blocks

    return headline_blocks(data.validation())


def _validation_section(data) -> list[Block]:
    """The methods section's "Review and validation": review, QA accuracy with intervals, agreement, limitations."""
    from toolkit.export.validation import validation_blocks

    return validation_blocks(data.validation(), data.theme_names())


# --------------------------------------------------------------------------- Word
def _render_docx(blocks: Iterable[Block], study_name: str):
    from docx import Document
    from docx.shared import Inches, Pt, RGBColor

    doc = Document()
    doc.core_properties.title = f"Findings report: {study_name}"
    doc.core_properties.author = "toolkit"
    for block in blocks:
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=min(block.level, 9))
        elif isinstance(block, Para):
            paragraph = doc.add_paragraph()
            if block.lead:
                paragraph.add_run(block.lead + " ").bold = True
            run = paragraph.add_run(block.text)
            run.italic = block.note
        elif isinstance(block, Bullets):
            for i, item in enumerate(block.items):
                paragraph = doc.add_paragraph(style="List Bullet")
                if i < len(block.leads) and block.leads[i]:
                    paragraph.add_run(block.leads[i] + " ").bold = True
                paragraph.add_run(item)
        elif isinstance(block, Table):
            if block.caption:
                caption = doc.add_paragraph()
                caption.add_run(block.caption).bold = True
            headed = any(block.columns)  # a table without column names is a list of facts: first column bold
            table = doc.add_table(rows=1 if headed else 0, cols=len(block.columns))
            table.style = "Table Grid"
            if headed:
                for cell, text in zip(table.rows[0].cells, block.columns):
                    cell.text = ""
                    cell.paragraphs[0].add_run(text).bold = True
            for row in block.rows:
                cells = table.add_row().cells
                for i, (cell, text) in enumerate(zip(cells, row)):
                    cell.text = ""
                    run = cell.paragraphs[0].add_run(text)
                    run.bold = not headed and i == 0
            if not headed and len(block.columns) == 2:  # facts: a narrow label column
                table.autofit = False
                for column, width in zip(table.columns, (Inches(1.7), Inches(4.6))):
                    column.width = width
                    for cell in column.cells:
                        cell.width = width
            doc.add_paragraph()
        elif isinstance(block, Quote):
            doc.add_paragraph(f"\u201c{block.text}\u201d", style="Quote")
            reference = doc.add_paragraph()
            reference.add_run(f"\u2014 {block.reference}").font.size = Pt(9)
            if block.machine_only:
                mark = reference.add_run(f"  [{MACHINE_MARK}]")
                mark.font.size = Pt(9)
                mark.italic = True
                mark.font.color.rgb = RGBColor(0x8A, 0x4B, 0x00)
        # SurveyChart: Word gets the table that follows it instead.
    return doc


# --------------------------------------------------------------------------- HTML
_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; line-height: 1.55; color: #1b1b1b; background: #fff;
       max-width: 52rem; margin: 2rem auto; padding: 0 1.25rem; }
h1, h2, h3, h4 { font-family: Arial, Helvetica, sans-serif; line-height: 1.25; color: #0b0c0c; }
h1 { font-size: 2rem; border-bottom: 4px solid #005eb8; padding-bottom: .3rem; }
h2 { font-size: 1.55rem; margin-top: 2.5rem; border-bottom: 1px solid #b1b4b6; }
h3 { font-size: 1.25rem; margin-top: 1.8rem; }
h4 { font-size: 1.05rem; margin-top: 1.4rem; }
table { border-collapse: collapse; margin: .8rem 0 1.4rem; font-family: Arial, Helvetica, sans-serif;
        font-size: .92rem; }
caption { text-align: left; font-weight: bold; padding-bottom: .35rem; }
th, td { border: 1px solid #b1b4b6; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f2f1; }
blockquote { margin: 1rem 0; padding: .5rem 1rem; border-left: 5px solid #005eb8; background: #f8f8f8; }
blockquote p { margin: 0 0 .3rem; font-size: 1.05rem; }
blockquote footer { font-family: Arial, Helvetica, sans-serif; font-size: .88rem; color: #505a5f; }
.machine { display: inline-block; margin-left: .5rem; padding: 0 .4rem; border: 1px solid #8a4b00;
           color: #8a4b00; border-radius: 3px; font-size: .8rem; }
.note { border-left: 5px solid #ffdd00; background: #fffbe6; padding: .6rem 1rem; }
table.facts th { background: #f3f2f1; width: 28%; font-weight: bold; }
nav.contents { border: 1px solid #b1b4b6; padding: .4rem 1.2rem; font-family: Arial, Helvetica, sans-serif; }
nav.contents ul { margin: .3rem 0; }
.chart { margin: .5rem 0; }
"""


def _e(text) -> str:
    return html.escape(_plain(text), quote=True)


def _lines(text) -> str:
    """Escaped text with its line breaks kept (a table cell holding a quote under a count)."""
    return "<br>".join(_e(line) for line in _plain(text).split("\n"))


def _render_html(blocks: list[Block], study_name: str) -> str:
    parts: list[str] = []
    plotly_loaded = False
    contents: list[tuple[str, str]] = []
    for block in blocks:
        if isinstance(block, Heading):
            level = min(block.level + 1, 6)
            if block.level == 1:  # a section: listed in the contents at the top
                anchor = f"section-{len(contents) + 1}"
                contents.append((anchor, block.text))
                parts.append(f'<a id="{anchor}"></a>')
            parts.append(f"<h{level}>{_e(block.text)}</h{level}>")
            if block.level == 0:
                parts.append("<!--contents-->")
        elif isinstance(block, Para):
            lead = f"<strong>{_e(block.lead)}</strong> " if block.lead else ""
            parts.append(f'<p class="note">{lead}{_e(block.text)}</p>' if block.note else f"<p>{lead}{_e(block.text)}</p>")
        elif isinstance(block, Bullets):
            leads = list(block.leads) + [""] * (len(block.items) - len(block.leads))
            parts.append("<ul>" + "".join(f"<li>{f'<strong>{_e(lead)}</strong> ' if lead else ''}{_e(item)}</li>"
                                          for item, lead in zip(block.items, leads)) + "</ul>")
        elif isinstance(block, Table):
            headed = any(block.columns)
            head = "".join(f'<th scope="col">{_e(c)}</th>' for c in block.columns)
            cell = (lambda i, v: f"<td>{_lines(v)}</td>") if headed else (
                lambda i, v: f'<th scope="row">{_lines(v)}</th>' if i == 0 else f"<td>{_lines(v)}</td>")
            body = "".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in block.rows)
            caption = f"<caption>{_e(block.caption)}</caption>" if block.caption else ""
            thead = f"<thead><tr>{head}</tr></thead>" if headed else ""
            kind = "" if headed else ' class="facts"'
            parts.append(f"<table{kind}>{caption}{thead}<tbody>{body}</tbody></table>")
        elif isinstance(block, Quote):
            mark = f'<span class="machine">{_e(MACHINE_MARK)}</span>' if block.machine_only else ""
            parts.append(
                f"<blockquote><p>\u201c{_e(block.text)}\u201d</p><footer>\u2014 {_e(block.reference)}{mark}"
                "</footer></blockquote>"
            )
        elif isinstance(block, SurveyChart):
            parts.append(f'<div class="chart">{_survey_chart_html(block, include_js=not plotly_loaded)}</div>')
            plotly_loaded = True
    nav = ('<nav class="contents" aria-label="Contents"><strong>Contents</strong><ul>'
           + "".join(f'<li><a href="#{a}">{_e(text)}</a></li>' for a, text in contents) + "</ul></nav>")
    parts = [nav if p == "<!--contents-->" else p for p in parts]
    title = _e(f"Findings report: {study_name}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(parts)
        + "\n</main>\n</body>\n</html>\n"
    )


def _survey_chart_html(chart: SurveyChart, *, include_js: bool) -> str:
    """A diverging stacked bar chart: disagree to the left of zero, agree to the right, neutral split across it."""
    import plotly.graph_objects as go

    frame = chart.frame
    places = [str(p) for p in frame[s.PLACE]]
    half_neutral = [v / 2 for v in frame[NEUTRAL_ANSWER]]
    fig = go.Figure()
    # Relative bars stack outwards from zero in trace order: the neutral halves first, then
    # disagree (left) and agree (right).
    traces = [
        (NEUTRAL_ANSWER, [-h for h in half_neutral], False),
        (NEUTRAL_ANSWER, half_neutral, True),
        (DISAGREE, [-v for v in frame[DISAGREE]], True),
        (AGREE, list(frame[AGREE]), True),
    ]
    rank = {DISAGREE: 1, NEUTRAL_ANSWER: 2, AGREE: 3}
    for name, x, legend in traces:
        fig.add_trace(
            go.Bar(
                y=places,
                x=x,
                name=name,
                orientation="h",
                marker_color=_SURVEY_COLOURS[name],
                legendgroup=name,
                legendrank=rank[name],
                showlegend=legend,
                customdata=list(frame[name]),
                hovertemplate=f"%{{y}}: %{{customdata:.0f}}% {name.lower()}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="relative",
        height=140 + 45 * len(places),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
        xaxis={"title": "% of respondents (disagree left, agree right)", "range": [-100, 100],
               "zeroline": True, "zerolinecolor": "#505a5f", "ticksuffix": "%"},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": -0.35, "traceorder": "normal"},
        font={"family": "Arial, Helvetica, sans-serif", "size": 13},
        plot_bgcolor="#ffffff",
    )
    return fig.to_html(
        full_html=False,
        include_plotlyjs=bool(include_js),
        div_id=chart.chart_id or None,
        config={"displaylogo": False, "responsive": True},
    )
