"""Overview: what the study holds, what to run next, how far it is reviewed and validated, barriers vs enablers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
import loaders
from views.common import need_segments
from toolkit import schema as s


def validation_section() -> None:
    """How much people reviewed, the machine's measured accuracy (QA sample), agreement, and the limitations."""
    report = loaders.validation()
    names = loaders.theme_names()
    st.subheader("Review and validation")
    qa = report.qa
    cols = st.columns(4)
    cols[0].metric("Reviewed by people", f"{100 * report.reviewed_share:.0f}%",
                   help=f"{report.reviewed_segments} of {report.evidence_segments} segments")
    if qa is not None and qa.coded:
        cols[1].metric("Theme right (QA)", f"{100 * qa.theme_accuracy.value:.0f}%", help=qa.theme_accuracy.text())
        polarity = qa.polarity_accuracy
        cols[2].metric("Polarity right (QA)", f"{100 * polarity.value:.0f}%" if polarity.known else "n/a",
                       help=polarity.text())
        cols[3].metric("Machine-human kappa", f"{qa.theme_kappa:.2f}" if qa.theme_kappa == qa.theme_kappa else "n/a",
                       help="Cohen's kappa of theme on the blind QA sample")
    else:
        cols[1].metric("Theme right (QA)", "not measured", help="Draw and code a QA sample on the Review page.")
    reviewers = report.reviewers
    if reviewers is not None and not reviewers.empty:
        st.caption("Reviewed by " + ", ".join(f"{r['coder']} ({r['segments']})" for r in reviewers.to_dict("records"))
                   + f". {report.machine_only_segments} segments carry a machine coding nobody reviewed: counts that "
                   "include them are estimates, not findings.")
    else:
        st.caption("Nobody has reviewed any segment yet: every count below rests on machine coding alone.")
    if qa is not None and qa.coded:
        with st.expander(f"Accuracy per theme and polarity (QA sample {qa.sample_id}: {qa.coded} of {qa.planned} "
                         f"coded blind, 95% intervals)"):
            table = qa.themes[qa.themes["machine"].gt(0) | qa.themes["recall"].map(lambda e: e.known)]
            st.dataframe(pd.DataFrame({
                "theme": table["theme"].map(lambda t: names.get(t, t)),
                "precision": table["precision"].map(lambda e: e.text()),
                "recall": table["recall"].map(lambda e: e.text()),
            }), hide_index=True)
            st.dataframe(pd.DataFrame({
                "polarity": qa.polarity["polarity"],
                "precision": qa.polarity["precision"].map(lambda e: e.text()),
                "recall": qa.polarity["recall"].map(lambda e: e.text()),
            }), hide_index=True)
    agreed = [d for d in report.double if d.coded_by_both]
    for d in agreed:
        st.caption(f"Inter-coder agreement ({' and '.join(d.coders)}, {d.coded_by_both} segments): theme kappa "
                   f"{d.theme_kappa:.2f}, alpha {d.theme_alpha:.2f}; {d.resolved} of {len(d.disagreements)} "
                   "disagreements resolved.")
    with st.expander("Limitations"):
        for item in report.limitations:
            st.markdown(f"- {item}")


study = loaders.study()
st.title("Overview")
st.subheader(study.name)
status = loaders.status()
counts = status.counts

if status.next_command:
    st.info(f"{status.next_step} Run:")
    st.code(status.next_command, language="bash")
elif status.next_step:
    st.info(status.next_step)

places = status.places
corpus = status.corpus  # counted by toolkit.analysis, as in the workbook, the report and `toolkit status`
cols = st.columns(5)
cols[0].metric("Places", len(corpus.places))
cols[1].metric("Interviews", corpus.interviews, help=f"{corpus.interviewees} interviewees")
cols[2].metric("Survey respondents", corpus.survey_respondents, help=f"{corpus.surveys} survey files")
cols[3].metric("Evidence segments", corpus.evidence_segments, help=f"{corpus.coded_segments} of them carry a theme")
cols[4].metric("Reviewed", f"{corpus.reviewed_segments}/{corpus.evidence_segments}")

if status.orphaned:
    st.warning(f"{status.orphaned} piece(s) of human work could not be re-attached after the sources changed. "
               "They are kept, not counted; re-code the passages where they went, or restore the sources.")
    with st.expander("Human work that could not be re-attached"):
        st.dataframe(loaders.orphaned_work(), hide_index=True)

if not places.empty:
    st.subheader("Sources and people per place")
    st.dataframe(places, hide_index=True)

need_segments("the overview")
validation_section()
st.subheader("Barriers and enablers by place")
value = st.radio("Count", ["segments", "participants"], horizontal=True, key="overview-value")
charts.show(charts.polarity_bars(loaders.theme_counts(s.PLACE), value=value))
st.caption("Each bar is traceable: open the Themes page and choose the cell to read the quotes behind it.")

runs = status.runs
if not runs.empty:
    with st.expander("Recent runs"):
        st.dataframe(runs[[s.STAGE, s.STATUS, s.STARTED_AT, s.FINISHED_AT, s.RUN_ID]], hide_index=True)
