"""From barrier to remedy: each barrier one place reports, beside what the other places report on the same theme.

The study exists to help places overcome the barriers others have overcome: pick a place and see, theme
by theme, its people's barriers next to the enablers and curated practices of the other places.
"""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import need_segments, plain, quote_list, theme_label
from toolkit import schema as s
from toolkit.analysis import columns as cols
from toolkit.analysis.remedies import split_practices

st.title("From barrier to remedy")
need_segments("the barrier-to-remedy view")
table = loaders.barrier_remedies()
if table.empty:
    st.info("No barriers are coded yet: there is nothing to set beside the other places' enablers.")
    st.stop()
st.caption("People are counted, not sentences. Practices are the curated ones; the machine's proposals are "
           "named apart until a researcher reviews them (Good practice page). A barrier no other place reports "
           "an enabler for is a gap.")
practices = loaders.practices()
c1, c2 = st.columns(2)
places = list(dict.fromkeys(table[cols.BARRIER_PLACE]))
place = c1.selectbox("Barriers reported in", places, key="rem-place")
themes = list(dict.fromkeys(table.loc[table[cols.BARRIER_PLACE] == place, s.THEME]))
chosen = c2.multiselect("Themes", themes, format_func=theme_label, key="rem-themes")
mine = table[(table[cols.BARRIER_PLACE] == place) & (table[s.THEME].isin(chosen or themes))]

for theme, group in mine.groupby(s.THEME, sort=False):
    first = group.iloc[0]
    st.markdown(f"### {plain(first[cols.THEME_NAME])}")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Barrier in {plain(place)}**: {first['barrier_people']} "
                    f"{'person' if first['barrier_people'] == 1 else 'people'}")
        if first["barrier_quote"]:
            st.markdown(f"\u201c{plain(first['barrier_quote'])}\u201d")
            st.caption(plain(first["barrier_reference"]))
        if st.toggle("All the barrier passages", key=f"rem-b-{theme}"):
            quote_list(loaders.segments_by_keys(list(first["barrier_segments"])), key=f"rem-b-{theme}")
    with right:
        for row in group.to_dict("records"):
            if not row[cols.OTHER_PLACE]:
                st.warning("No other place reports an enabler or a practice on this theme.")
                continue
            st.markdown(f"**{plain(row[cols.OTHER_PLACE])}**: {row['enabler_people']} reporting enablers")
            curated, proposed = split_practices(row["practices"], row["practice_ids"], practices)
            if curated:
                st.markdown("Practices: " + "; ".join(f"**{plain(p)}**" for p in curated))
            if proposed:
                st.caption("Proposed from the coding, not yet reviewed: " + "; ".join(proposed))
            if row["enabler_quote"]:
                st.markdown(f"\u201c{plain(row['enabler_quote'])}\u201d")
                st.caption(plain(row["enabler_reference"]))
            if st.toggle(f"All enabler passages in {row[cols.OTHER_PLACE]}", key=f"rem-e-{theme}-{row[cols.OTHER_PLACE]}"):
                quote_list(loaders.segments_by_keys(list(row["enabler_segments"])),
                           key=f"rem-e-{theme}-{row[cols.OTHER_PLACE]}")
    st.divider()
