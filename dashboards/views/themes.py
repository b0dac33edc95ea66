"""Themes: the framework matrix (cases or groups × themes, with researchers' summaries), its heat map, and
theme co-occurrence.

Rows can be cases (participants), places, organisation types, roles, sectors or any case attribute of
the study; cases can be narrowed by their attributes. Choose a cell to read the passages behind it,
write its summary and memos.
"""

from __future__ import annotations

import streamlit as st

import charts
import loaders
from views.common import comment_box, need_segments, plain, quote_list, theme_label
from toolkit import api
from toolkit import schema as s
from toolkit.analysis.columns import ACROSS_PLACES

st.title("Themes")
need_segments("the framework matrix")
names = loaders.theme_names()
researcher = loaders.is_researcher()

dimensions = list(loaders.row_dimensions())
c1, c2 = st.columns([3, 2])
rows = c1.radio("Rows", dimensions, horizontal=True, key="themes-rows",
                index=dimensions.index(api.PARTICIPANT) if api.PARTICIPANT in dimensions else 0,
                format_func=lambda r: "Cases (participants)" if r == api.PARTICIPANT else r.replace("_", " ").capitalize())
cases = loaders.cases()
filters: dict = {}
with c2.expander("Only some cases"):
    for name in [s.PLACE, s.ORGANISATION_TYPE, *[c for c in cases.columns if c not in api.ROW_DIMENSIONS and c not in
                                                 (api.SOURCE_KIND, s.PATH, api.PARTICIPANT)]]:
        values = sorted({str(v) for v in cases[name].dropna()}) if name in cases.columns else []
        chosen = st.multiselect(name.replace("_", " ").capitalize(), values, key=f"themes-filter-{name}")
        if chosen:
            filters[name] = tuple(chosen)
total = ACROSS_PLACES if rows == s.PLACE else None
if rows == api.PARTICIPANT and st.checkbox("Interviewees only (survey respondents still count in the place rows)",
                                           key="themes-interviewees-only"):
    filters[api.SOURCE_KIND] = ("transcript",)
matrix = loaders.case_matrix(rows, total=total, cases=filters or None)

st.subheader("Framework matrix")
show = st.radio("Cells show", ["Summaries and references", "People and passages"], horizontal=True,
                key="themes-cells")
cells = loaders.framework_cells(rows, total=total, cases=filters or None,
                                references=show == "Summaries and references")
if show == "Summaries and references":
    st.caption("Each cell: the researcher's summary of that row on that theme, then the references behind it "
               "(B barrier, E enabler, N neutral), as in NVivo's framework matrix. Open a cell below to write "
               "its summary.")
else:
    st.caption("Each cell: the **people** with a coding of the theme (interviewees and survey respondents counted "
               "apart), then its **barrier / enabler** segments, as in the workbook.")
cells.index.name = rows.replace("_", " ").capitalize()
st.dataframe(cells, width="stretch", height=min(80 + 38 * len(cells), 640),
             column_config={c: st.column_config.TextColumn(c, width=260) for c in cells.columns})
value = st.selectbox("Heat map shows", [api.PARTICIPANTS, api.INTERVIEWEES, api.SURVEY_RESPONDENTS, s.BARRIER,
                                        s.ENABLER, s.NEUTRAL], key="themes-heat",
                     format_func=lambda v: v.replace("_", " "))
mapped = matrix[matrix[rows] != ACROSS_PLACES]
columns = mapped[rows].nunique()
# a map of hundreds of columns is read by hovering, cell by cell, and takes the browser about a second to draw
# (at 25,000 segments, 344 cases): drawn when asked for; a few dozen columns are drawn at once
if columns <= charts.HEAT_MAP_AT_ONCE or st.toggle(
        f"Draw the heat map of all {columns} {rows.replace('_', ' ')} columns", key=f"themes-heat-all-{rows}",
        help="Or choose fewer rows above (places, organisation types) or only some cases."):
    charts.show(charts.theme_heatmap(mapped, value))

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
if summary:
    st.markdown(f"**Summary** ({plain(cell['summary_author'])}, {str(cell['summary_at'])[:10]}): {plain(summary)}")
if row_value == ACROSS_PLACES:
    st.caption("This row is the synthesis across every place: the report opens each theme with it.")
if researcher:
    with st.form(f"summary-{rows}-{row_value}-{theme}"):
        text = st.text_area("Researcher summary of this cell", value=summary,
                            key=f"summary-text-{rows}-{row_value}-{theme}")
        if st.form_submit_button("Save summary"):
            loaders.add_summary(rows, row_value, theme, text)
            st.success("Summary saved.")
            st.rerun()
    with st.form(f"cell-memo-{rows}-{row_value}-{theme}", clear_on_submit=True):
        memo = st.text_area("Memo on this cell (kept with your name and the time; see Memos)",
                            key=f"cell-memo-text-{rows}-{row_value}-{theme}")
        if st.form_submit_button("Save memo") and memo.strip():
            loaders.add_memo(scope="cell", row_dimension=rows, row_value=row_value, theme=theme, text=memo)
            st.success("Memo saved.")
elif not summary:
    st.markdown("**Summary:** _none yet_")
notes = loaders.memos(scope="cell", theme=theme)
notes = notes[(notes[s.ROW_DIMENSION] == rows) & (notes[s.ROW_VALUE] == str(row_value))] if not notes.empty else notes
for note in notes.to_dict("records"):
    st.caption(f"Memo by {note[s.AUTHOR]}, {str(note[s.CREATED_AT])[:10]}: {plain(note[s.TEXT])}")

st.markdown(f"**Quotes behind this cell** ({len(cell[api.SEGMENT_KEYS])})")
quote_list(loaders.segments_by_keys(list(cell[api.SEGMENT_KEYS])), key="cell")
comment_box(key=f"theme-{theme}", theme=theme, label=f"Comment on {theme_label(theme)}")

st.subheader("Themes coded together")
unit = st.radio("Count", ["segment", "participant"], horizontal=True, key="themes-co-unit")
co = loaders.cooccurrence(unit)
charts.show(charts.cooccurrence(co, names, unit=unit + "s"))
if not co.empty:
    c1, c2 = st.columns(2)
    a = c1.selectbox("Theme A", list(co.index), format_func=theme_label, key="co-a")
    b = c2.selectbox("Theme B", list(co.columns), index=min(1, len(co.columns) - 1), format_func=theme_label, key="co-b")
    st.caption(f"{int(co.loc[a, b])} {unit}s coded with both.")
    keys, people = loaders.cooccurring(a, b)
    if unit == "participant":
        st.write("Participants: " + (", ".join(people) or "nobody"))
    quote_list(loaders.segments_by_keys(keys), key="co")
