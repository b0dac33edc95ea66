"""Surveys: agreement by place (diverging bars) and the free-text answers by theme."""

from __future__ import annotations

import streamlit as st

import charts
import loaders
from views.common import quote_list, theme_label
from toolkit import api
from toolkit import schema as s

st.title("Surveys")
percentages = loaders.likert_percentages()
answers = loaders.text_answers()
if percentages.empty and answers.empty:
    if loaders.status().counts.get(s.SOURCES, 0) == 0:
        st.info(f"No sources yet: run `{loaders.command('ingest')}`.")
    else:
        st.info("This study has no survey answers. Add the survey exports to the place folders and run "
                f"`{loaders.command('ingest')}`.")
    st.stop()

st.subheader("Agreement by place")
if percentages.empty:
    st.info("No agreement-scale (Likert) questions in the surveys.")
else:
    charts.show(charts.likert(percentages))
    with st.expander("The numbers (% of answers on the scale; n = answers counted)"):
        st.dataframe(percentages, hide_index=True, width="stretch")

st.subheader("Free-text answers by theme")
if answers.empty:
    st.info("No free-text answers in the surveys.")
    st.stop()
if answers[s.THEME].isna().all() and answers[s.STATUS].eq(api.UNCODED).all() and answers[s.SEGMENT_KEY].isna().all():
    st.info(f"The answers are not coded yet: run `{loaders.command('code')}`.")
    st.dataframe(answers[[s.PLACE, s.QUESTION_TEXT, s.TEXT]], hide_index=True, width="stretch")
    st.stop()
counts = loaders.theme_sizes(answers)  # the largest coded theme first; the answers without a theme last
theme = st.selectbox("Theme", list(counts.index),
                     format_func=lambda t: f"{theme_label(t) if t != api.UNCODED else 'Not coded'} ({counts[t]})",
                     key="surveys-theme")
places = st.multiselect("Place", sorted(answers[s.PLACE].dropna().unique()), key="surveys-place")
keys = answers.loc[answers[s.THEME].fillna(api.UNCODED) == theme, s.SEGMENT_KEY].dropna().tolist()
rows = loaders.segments_by_keys(keys)
if places:
    rows = rows[rows[s.PLACE].isin(places)]
quote_list(rows, key="surveys")
