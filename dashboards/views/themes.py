"""Themes: the framework matrix (with researchers' summaries), its heat map, and theme co-occurrence.

Every number can be opened: choose a cell to read the quotes behind it.
"""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import comment_box, need_segments, quote_list, theme_label
from toolkit import api, plots
from toolkit import schema as s

st.title("Themes")
need_segments("the framework matrix")
names = loaders.theme_names()

rows = st.radio("Rows", list(api.ROW_DIMENSIONS), horizontal=True, key="themes-rows",
                format_func=lambda r: r.replace("_", " ").capitalize())
matrix = loaders.framework_matrix(rows)

st.subheader("Framework matrix")
st.caption("One row per theme. Each cell: the **people** with a coding of the theme (interviewees and survey "
           "respondents counted apart), then its **barrier / enabler** segments, as in the workbook. "
           "Open a cell below for its quotes.")
cells = api.matrix_cells(matrix).T  # themes as rows: their long names read down, the places go across
cells.index.name = "Theme"
st.dataframe(cells, width="stretch", height="content",
             column_config={"Theme": st.column_config.TextColumn("Theme", width=330, pinned=True),
                            **{c: st.column_config.TextColumn(c, help="people · barrier / enabler segments")
                               for c in cells.columns}})
value = st.selectbox("Heat map shows", [api.PARTICIPANTS, api.INTERVIEWEES, api.SURVEY_RESPONDENTS, s.BARRIER,
                                        s.ENABLER, s.NEUTRAL], key="themes-heat",
                     format_func=lambda v: v.replace("_", " "))
st.plotly_chart(plots.plot_theme_heatmap(matrix, value), width="stretch")

st.subheader("Open a cell")
c1, c2 = st.columns(2)
row_value = c1.selectbox(rows.replace("_", " ").capitalize(), list(dict.fromkeys(matrix[rows])), key="themes-cell-row")
theme = c2.selectbox("Theme", list(dict.fromkeys(matrix[s.THEME])), format_func=theme_label, key="themes-cell-theme")
cell = matrix[(matrix[rows] == row_value) & (matrix[s.THEME] == theme)].iloc[0]
m = st.columns(5)
m[0].metric("Interviewees", int(cell[api.INTERVIEWEES]))
m[1].metric("Survey respondents", int(cell[api.SURVEY_RESPONDENTS]))
m[2].metric("Barrier segments", int(cell[s.BARRIER]))
m[3].metric("Enabler segments", int(cell[s.ENABLER]))
m[4].metric("Neutral segments", int(cell[s.NEUTRAL]))

summary = cell[s.SUMMARY] if isinstance(cell[s.SUMMARY], str) else ""
if loaders.is_researcher():
    with st.form(f"summary-{rows}-{row_value}-{theme}"):
        text = st.text_area("Researcher summary of this cell", value=summary, key=f"summary-text-{rows}-{row_value}-{theme}")
        if st.form_submit_button("Save summary"):
            loaders.add_summary(rows, row_value, theme, text)
            st.success("Summary saved.")
            st.rerun()
else:
    st.markdown(f"**Summary:** {summary or '_none yet_'}")

st.markdown(f"**Quotes behind this cell** ({len(cell[api.SEGMENT_KEYS])})")
quote_list(loaders.segments_by_keys(list(cell[api.SEGMENT_KEYS])), key="cell")
comment_box(key=f"theme-{theme}", theme=theme, label=f"Comment on {theme_label(theme)}")

st.subheader("Themes coded together")
unit = st.radio("Count", ["segment", "participant"], horizontal=True, key="themes-co-unit")
co = loaders.cooccurrence(unit)
st.plotly_chart(plots.plot_cooccurrence(co, names, unit=unit + "s"), width="stretch")
if not co.empty:
    c1, c2 = st.columns(2)
    a = c1.selectbox("Theme A", list(co.index), format_func=theme_label, key="co-a")
    b = c2.selectbox("Theme B", list(co.columns), index=min(1, len(co.columns) - 1), format_func=theme_label, key="co-b")
    st.caption(f"{int(co.loc[a, b])} {unit}s coded with both.")
    keys, people = loaders.cooccurring(a, b)
    if unit == "participant":
        st.write("Participants: " + (", ".join(people) or "nobody"))
    quote_list(loaders.segments_by_keys(keys), key="co")
