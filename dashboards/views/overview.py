"""Overview: what the study holds, what to run next, and barriers vs enablers by place."""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import need_segments
from toolkit import plots
from toolkit import schema as s

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
st.subheader("Barriers and enablers by place")
value = st.radio("Count", ["segments", "participants"], horizontal=True, key="overview-value")
st.plotly_chart(plots.plot_polarity_bars(loaders.theme_counts(s.PLACE), value=value), width="stretch")
st.caption("Each bar is traceable: open the Themes page and choose the cell to read the quotes behind it.")

runs = status.runs
if not runs.empty:
    with st.expander("Recent runs"):
        st.dataframe(runs[[s.STAGE, s.STATUS, s.STARTED_AT, s.FINISHED_AT, s.RUN_ID]], hide_index=True)
