"""Review and validation in the exports: what was checked by people, how accurate the machine measured, limits.

The findings report's methods section (:func:`validation_blocks`), its summary's headline
(:func:`headline_blocks`), the caveat under each count table (:func:`count_caveat`), which passages
its Barriers and Enablers lists may quote (:func:`quote_pool`), and the workbook's read-me rows
(:func:`readme_rows`). Every figure comes from :func:`toolkit.analysis.validation.validation_summary`
(the dashboard's Overview prints the same). Counts that rest on machine codings nobody reviewed are
given as estimates with the measured error, never as findings.

Blocks are the report's own (:mod:`toolkit.export.report`), imported when used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from toolkit import schema as s
from toolkit.analysis.columns import REVIEWED_CODINGS
from toolkit.analysis.validation import HIGH_CONFIDENCE, Estimate, ValidationSummary

__all__ = ["count_caveat", "headline_blocks", "quote_pool", "readme_rows", "validation_blocks"]

KIND_NAMES = {"review": "from the review queue", "qa": "blind, in the quality-assurance sample",
              "double": "blind, in double coding", "resolution": "settling double-coding disagreements",
              "import": "imported from other software"}


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _num(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def _est(value: Estimate) -> str:
    return value.text() if value.known else "not measured"


def _reviewers(summary: ValidationSummary) -> str:
    frame = summary.reviewers
    if frame is None or frame.empty:
        return "nobody yet"
    return ", ".join(f"{r[s.CODER]} ({r['segments']})" for r in frame.to_dict("records"))


def _work(summary: ValidationSummary) -> str:
    frame = summary.reviewers
    if frame is None or frame.empty:
        return "none"
    parts = [f"{int(frame[k].sum())} {name}" for k, name in KIND_NAMES.items() if k in frame and int(frame[k].sum())]
    return "; ".join(parts) or "none"


# --------------------------------------------------------------------------- report
def headline_blocks(summary: ValidationSummary) -> list:
    """One paragraph for the report's summary: how much people checked and how accurate the machine measured."""
    from toolkit.export.report import Para

    reviewed = (f"People reviewed {summary.reviewed_segments} of {summary.evidence_segments} passages "
                f"({100 * summary.reviewed_share:.0f}%).")
    qa = summary.qa
    if qa is not None and qa.coded:
        measured = (f" On a random sample of {qa.coded} passages coded blind, the machine's theme was right in "
                    f"{_est(qa.theme_accuracy)} and its barrier/enabler reading in {_est(qa.polarity_accuracy)} of "
                    "themed passages.")
    else:
        measured = " The machine coding's accuracy has not been measured yet (no quality-assurance sample is coded)."
    caveat = (" Counts that include passages nobody reviewed are estimates, not findings; quotes come from reviewed "
              "passages wherever any exist.") if summary.machine_only_segments else ""
    return [Para(reviewed + measured + caveat, note=True)]


def validation_blocks(summary: ValidationSummary, theme_names: Mapping[str, str]) -> list:
    """The methods section's "Review and validation" part (headings, paragraphs, tables, limitations)."""
    from toolkit.export.report import Bullets, Heading, Para, Table

    names = dict(theme_names)
    blocks: list = [Heading("Review and validation", 2)]
    blocks.append(Para(
        f"People reviewed {summary.reviewed_segments} of {summary.evidence_segments} passages "
        f"({100 * summary.reviewed_share:.0f}%); by person: {_reviewers(summary)}. Their work: {_work(summary)}. "
        f"{summary.machine_only_segments} passages carry a machine coding nobody has reviewed. The review queue "
        "puts first the passages the machine is least sure of or where its evidence disagrees, and the coder is "
        "retrained on every decision."
    ))
    blocks.append(Heading("Accuracy of the machine coding (quality-assurance sample)", 3))
    qa = summary.qa
    if qa is None or not qa.coded:
        blocks.append(Para("No quality-assurance sample has been coded yet, so the accuracy of the machine coding "
                           "is not measured and every count that rests on it is unverified."))
    else:
        width = f", planned for 95% intervals at most {qa.target_width:.2f} wide" if qa.target_width else ""
        blocks.append(Para(
            f"A random sample of unreviewed passages, stratified by the machine's theme (and passages it left "
            f"uncoded), fixed by its seed and stored (sample {qa.sample_id}{width}). {qa.coded} of {qa.planned} "
            f"passages were coded blind by {', '.join(qa.coders)}: the reviewer coded each passage before seeing the "
            "machine's coding. Each passage is weighted by its stratum's size; intervals are 95% Wilson intervals."
        ))
        blocks.append(Table(
            ("Measure", "Value"),
            (("Theme right (including 'no theme')", _est(qa.theme_accuracy)),
             ("Barrier/enabler/neutral right, on passages both coded with a theme", _est(qa.polarity_accuracy)),
             ("Theme and polarity both right", _est(qa.both_right)),
             ("Left uncoded and truly without a theme", _est(qa.uncoded_right)),
             (f"Theme right when the machine's confidence was at least {HIGH_CONFIDENCE}", _est(qa.high_confidence)),
             ("Cohen's kappa, machine vs person, theme", _num(qa.theme_kappa)),
             ("Cohen's kappa, machine vs person, polarity", _num(qa.polarity_kappa))),
            caption="The machine's coding against blind human coding",
        ))
        rows = []
        for r in qa.themes.to_dict("records"):
            if not r["machine"] and not r["recall"].known:
                continue  # neither coded by the machine nor found by the person: nothing to say
            estimated = ("n/a" if math.isnan(r["estimated"]) else
                         f"{r['estimated']:.0f} ({r['estimated_low']:.0f}\u2013{r['estimated_high']:.0f})")
            rows.append((names.get(r[s.THEME], r[s.THEME]), str(r["machine"]), _est(r["precision"]),
                         _est(r["recall"]), estimated))
        blocks.append(Table(
            ("Theme", "Machine codings when sampled", "Precision", "Recall", "Estimated passages truly on it"),
            tuple(rows),
            caption="Per theme: precision (of the machine's codings, how many a person gave the same theme), recall "
                    "(of the passages a person gave the theme, how many the machine coded with it), and the estimated "
                    "number of the passages unreviewed when the sample was drawn that are truly on the theme (95% interval)",
        ))
        blocks.append(Table(
            ("Polarity", "Precision", "Recall"),
            tuple((r[s.POLARITY], _est(r["precision"]), _est(r["recall"])) for r in qa.polarity.to_dict("records")),
            caption="Barrier, enabler and neutral: precision and recall on passages both coded with a theme",
        ))
    blocks.append(Heading("Agreement between people (double coding)", 3))
    batches = [d for d in summary.double if d.coded_by_both]
    if not batches:
        blocks.append(Para("No passages have been coded by two people independently yet."))
    else:
        blocks.append(Table(
            ("Batch", "Coders", "Passages coded by both", "Theme kappa", "Theme alpha", "Polarity kappa",
             "Disagreements", "Resolved"),
            tuple((d.batch_id, " and ".join(d.coders), str(d.coded_by_both), _num(d.theme_kappa), _num(d.theme_alpha),
                   _num(d.polarity_kappa), str(len(d.disagreements)), str(d.resolved)) for d in batches),
            caption="Two people coded the same passages blind; Cohen's kappa and Krippendorff's alpha (1 is perfect "
                    "agreement, 0 no better than chance). Resolutions are the codings the report uses.",
        ))
    people = summary.people
    if people is not None and not people.empty:
        blocks.append(Heading("Who the counts rest on", 3))
        blocks.append(Table(
            ("Theme", "Interviewees (reviewed)", "Survey respondents (reviewed)", "Interviewees (machine only)",
             "Survey respondents (machine only)"),
            tuple((names.get(r[s.THEME], r[s.THEME]), str(r["reviewed_interviewees"]), str(r["reviewed_respondents"]),
                   str(r["machine_only_interviewees"]), str(r["machine_only_respondents"]))
                  for r in people.to_dict("records") if any(r[c] for c in people.columns if c != s.THEME)),
            caption="People, not sentences: interviewees and survey respondents with a reviewed coding of each theme, "
                    "and those whose coding of it is the machine's alone (unverified)",
        ))
    blocks.append(Heading("Limitations", 3))
    blocks.append(Bullets(tuple(summary.limitations)))
    return blocks


def count_caveat(summary: ValidationSummary, theme_id: str, rows: pd.DataFrame) -> str | None:
    """A note under a theme's count table when its counts include unreviewed machine codings (None otherwise)."""
    if rows is None or rows.empty or s.STATUS not in rows.columns:
        return None
    machine = int((~rows[s.STATUS].isin(REVIEWED_CODINGS)).sum())
    if not machine:
        return None
    text = (f"These counts include {_n(machine, 'machine coding')} nobody has reviewed: read them as estimates, "
            "not findings.")
    qa = summary.qa
    if qa is not None and qa.coded and theme_id in set(qa.themes[s.THEME]):
        row = qa.themes.set_index(s.THEME).loc[theme_id]
        if row["precision"].known:
            text += f" Measured precision of the machine for this theme: {row['precision'].text()}."
    return text


def quote_pool(rows: pd.DataFrame, summary: ValidationSummary) -> tuple[pd.DataFrame, str | None]:
    """The passages a Barriers or Enablers list may quote, and a note saying what they are.

    Reviewed codings (accepted or recoded by a person) when the list has any. Otherwise only the
    machine's high-confidence codings (at least :data:`HIGH_CONFIDENCE`), said plainly, with their
    measured precision when a QA sample gives it.
    """
    if rows is None or rows.empty:
        return rows, None
    reviewed = rows[rows[s.STATUS].isin(REVIEWED_CODINGS)] if s.STATUS in rows.columns else rows.iloc[0:0]
    if not reviewed.empty:
        left = len(rows) - len(reviewed)
        note = (f"Only passages reviewed by a person are quoted; {_n(left, 'more machine-coded passage')} "
                f"{'awaits' if left == 1 else 'await'} review.") if left else None
        return reviewed, note
    confidence = pd.to_numeric(rows.get(s.CONFIDENCE), errors="coerce").fillna(0.0)
    sure = rows[confidence >= HIGH_CONFIDENCE]
    before = "No passage has been reviewed by a person yet" if summary.reviewed_segments == 0 else (
        "No passage in this list has been reviewed by a person yet")
    note = (f"{before}: these are the machine's high-confidence codings (confidence at least {HIGH_CONFIDENCE}), "
            "not findings")
    qa = summary.qa
    if qa is not None and qa.high_confidence.known:
        note += f"; on the blind QA sample such codings had the right theme in {qa.high_confidence.text()}"
    note += "." if not sure.empty else (f"; none of the {_n(len(rows), 'machine coding')} here reaches that confidence, "
                                        "so none is quoted.")
    return sure, note


# --------------------------------------------------------------------------- workbook
def readme_rows(summary: ValidationSummary, theme_names: Mapping[str, str]) -> list[tuple[str, str]]:
    """Rows (item, value) for the workbook's read-me sheet: review, QA accuracy with intervals, agreement, limits."""
    names = dict(theme_names)
    rows = [
        ("Reviewed by people", (f"{summary.reviewed_segments} of {summary.evidence_segments} passages "
                                f"({100 * summary.reviewed_share:.0f}%); by person: {_reviewers(summary)}")),
        ("Review work", _work(summary)),
        ("Unreviewed machine codings", (f"{summary.machine_only_segments} passages: counts that include them are "
                                        "estimates, not findings")),
    ]
    qa = summary.qa
    if qa is None or not qa.coded:
        rows.append(("Machine accuracy (QA sample)", "not measured: no quality-assurance sample is coded yet"))
    else:
        rows += [
            ("QA sample", (f"{qa.sample_id}: {qa.coded} of {qa.planned} passages coded blind by "
                           f"{', '.join(qa.coders)}; stratified by the machine's theme, weighted by stratum size")),
            ("Machine accuracy: theme (95% CI)", _est(qa.theme_accuracy)),
            ("Machine accuracy: polarity (95% CI)", _est(qa.polarity_accuracy)),
            ("Machine vs person: Cohen's kappa", f"theme {_num(qa.theme_kappa)}, polarity {_num(qa.polarity_kappa)}"),
        ]
        for r in qa.themes.to_dict("records"):
            rows.append((f"Accuracy: {names.get(r[s.THEME], r[s.THEME])}",
                         f"precision {_est(r['precision'])}; recall {_est(r['recall'])}"))
        for r in qa.polarity.to_dict("records"):
            rows.append((f"Accuracy: {r[s.POLARITY]}", f"precision {_est(r['precision'])}; recall {_est(r['recall'])}"))
    batches = [d for d in summary.double if d.coded_by_both]
    if batches:
        for d in batches:
            agreement = (f"{' and '.join(d.coders)} on {d.coded_by_both} passages: theme kappa {_num(d.theme_kappa)}, "
                         f"alpha {_num(d.theme_alpha)}; polarity kappa {_num(d.polarity_kappa)}; "
                         f"{len(d.disagreements)} disagreements, {d.resolved} resolved")
            rows.append((f"Inter-coder agreement: {d.batch_id}", agreement))
    else:
        rows.append(("Inter-coder agreement", "not measured: no passage has been coded by two people"))
    rows += [(f"Limitation {i}", text) for i, text in enumerate(summary.limitations, start=1)]
    return rows

