"""Good practice: the library of things that helped, by theme and place, with quotes; researchers curate it."""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import need_segments, paginate, quote_card, theme_label
from toolkit import api
from toolkit import schema as s

st.title("Good practice")
segments = need_segments("the good-practice library")
researcher = loaders.is_researcher()
st.caption("Enabler passages the coder or a reviewer flagged as good practice, plus those researchers added. "
           "A researcher's latest choice on a passage wins.")

library = loaders.good_practice(include_excluded=researcher)
included = library[library[s.INCLUDED].astype(bool)] if not library.empty else library
c = st.columns(2)
themes = c[0].multiselect("Theme", list(dict.fromkeys(included[s.THEME].dropna())) if not included.empty else [],
                          format_func=theme_label, key="gp-theme")
places = c[1].multiselect("Place", sorted(included[s.PLACE].dropna().unique()) if not included.empty else [],
                          key="gp-place")
shown = included
if themes:
    shown = shown[shown[s.THEME].isin(themes)]
if places:
    shown = shown[shown[s.PLACE].isin(places)]

if shown.empty:
    st.info("No good practice in the library yet. Researchers add passages below, or flag them on the Review page.")
else:
    st.subheader(f"{len(shown)} practices")
    order = {theme: i for i, theme in enumerate(loaders.theme_names())}
    shown = shown.assign(_order=shown[s.THEME].map(order).fillna(len(order))).sort_values(
        ["_order", s.PLACE], kind="stable")
    page = paginate(shown, key="gp", noun="practices")
    by_key = segments.set_index(s.SEGMENT_KEY)
    missing = int((~page[s.SEGMENT_KEY].isin(by_key.index)).sum())
    if missing:
        st.caption(f"{missing} passage(s) on this page are no longer in the study (it was segmented again); "
                   "their notes are kept.")
    for theme, group in page.groupby(s.THEME, sort=False):
        st.markdown(f"### {theme_label(theme)}")
        for place, rows in group.groupby(s.PLACE, sort=False):
            st.markdown(f"**{place}**")
            for row in rows.to_dict("records"):
                if isinstance(row.get(s.TITLE), str) and row[s.TITLE]:
                    st.markdown(f"**{row[s.TITLE]}**")
                if isinstance(row.get(s.NOTE), str) and row[s.NOTE]:
                    st.caption(f"Note ({row.get(s.AUTHOR) or 'researcher'}): {row[s.NOTE]}")
                if row[s.SEGMENT_KEY] not in by_key.index:
                    continue  # curated before the study was re-segmented: nothing to show
                full = {**by_key.loc[row[s.SEGMENT_KEY]].to_dict(), s.SEGMENT_KEY: row[s.SEGMENT_KEY]}
                quote_card(full, key=f"gp-{row[s.SEGMENT_KEY]}")

if researcher:
    st.divider()
    st.subheader("Curate")
    excluded = library[~library[s.INCLUDED].astype(bool)] if not library.empty else library
    if not excluded.empty:
        with st.expander(f"{len(excluded)} passage(s) taken out of the library"):
            st.dataframe(excluded[[s.SEGMENT_KEY, api.THEME_NAME, s.PLACE, s.AUTHOR, s.TEXT]], hide_index=True)
    enablers = segments[segments[s.POLARITY] == s.ENABLER]
    search = st.text_input("Find an enabler passage to add or edit", key="gp-search")
    pool = enablers
    if search.strip():
        pool = pool[pool[s.TEXT].str.contains(search.strip(), case=False, regex=False)]
    in_library = set(included[s.SEGMENT_KEY]) if not included.empty else set()
    choices = list(dict.fromkeys([*shown[s.SEGMENT_KEY]] if not shown.empty else [])) + [
        k for k in pool[s.SEGMENT_KEY].head(200) if k not in in_library]
    if not choices:
        st.info("No enabler passages match.")
        st.stop()
    text_of = dict(zip(segments[s.SEGMENT_KEY], segments[s.TEXT].str.slice(0, 90)))
    key = st.selectbox("Passage", choices, key="gp-key",
                       format_func=lambda k: f"{'✓ ' if k in in_library else ''}{text_of.get(k, k)}…")
    current = library[library[s.SEGMENT_KEY] == key].to_dict("records")
    current = current[0] if current else {}
    with st.form(f"gp-form-{key}"):
        keep = st.checkbox("In the library", value=bool(current.get(s.INCLUDED, True)))
        title = st.text_input("Title", value=current.get(s.TITLE) or "")
        names = list(loaders.theme_names())
        segment_theme = segments.set_index(s.SEGMENT_KEY).at[key, s.THEME]
        default_theme = current.get(s.THEME) or (segment_theme if isinstance(segment_theme, str) else None)
        theme = st.selectbox("Theme", names, format_func=theme_label,
                             index=names.index(default_theme) if default_theme in names else 0)
        note = st.text_area("Note", value=current.get(s.NOTE) or "")
        if st.form_submit_button("Save"):
            loaders.curate_practice(key, keep, theme=theme, title=title, note=note)
            st.success("Saved.")
            st.rerun()
