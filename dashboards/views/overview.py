"""Overview: what the study holds, what to run next, and barriers vs enablers by place."""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import need_segments
from toolkit import api, plots
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
cols = st.columns(5)
cols[0].metric("Places", len(places))
cols[1].metric("Interviews", int(places["transcripts"].sum()) if not places.empty else 0)
cols[2].metric("Survey respondents", int(places["respondents"].sum()) if not places.empty else 0)
segments = loaders.segments()
coded = int(segments[s.THEME].notna().sum()) if not segments.empty else 0
reviewed = int((segments[api.REVIEW_STATUS] == api.REVIEWED).sum()) if not segments.empty else 0
cols[3].metric("Evidence segments", len(segments), help=f"{coded} of them carry a theme")
cols[4].metric("Reviewed", f"{reviewed}/{len(segments)}")

if not places.empty:
    st.subheader("Sources per place")
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
