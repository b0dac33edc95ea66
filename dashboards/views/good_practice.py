"""Good practice: the practices places ran that helped, curated from the good-practice passages.

The machine groups near-duplicate good-practice passages into proposed practices (hypotheticals, barriers
and asides set aside); a researcher adopts a proposal as a practice, writes what it is, where, who runs
it, the evidence that it helped, its status and transferability, and links or unlinks passages. Below,
the passage library itself, curated as before.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import loaders
from views.common import need_segments, paginate, plain, quote_card, theme_label
from toolkit import api
from toolkit.analysis import columns as cols
from toolkit import schema as s

STATUS_WORDS = {"candidate": "candidate", "reviewed": "reviewed", "confirmed": "confirmed",
                "not_a_practice": "not a practice"}
SCREEN_WORDS = {"hypothetical": "a hypothetical", "barrier": "a barrier", "aside": "an aside",
                "taken out": "taken out by a researcher"}
PAGE = 10  # quote cards a page here (the other pages show 25): two lists of them share this page

st.title("Good practice")
segments = need_segments("the good-practice library")
researcher = loaders.is_researcher()
by_key = segments.set_index(s.SEGMENT_KEY)
practices = loaders.practices()
candidates = loaders.practice_candidates()

st.subheader("Practices")
st.caption("Curated practices first, then what the machine proposes from good-practice passages nobody has "
           "curated yet (passages of one place that read alike). Adopt a proposal to curate it.")
c = st.columns(3)
places = c[0].multiselect("Place", sorted({p for p in practices[s.PLACE].dropna()}) if not practices.empty else [],
                          key="pr-place")
origins = c[1].multiselect("Origin", [cols.CURATED, cols.PROPOSED], default=[cols.CURATED, cols.PROPOSED],
                           key="pr-origin")
statuses = c[2].multiselect("Status", list(s.PRACTICE_STATUSES), default=list(s.PRACTICE_STATUSES[:3]),
                            format_func=STATUS_WORDS.get, key="pr-status")
shown = practices
if not shown.empty:
    shown = shown[shown[cols.ORIGIN].isin(origins) & shown[s.STATUS].isin(statuses)]
    if places:
        shown = shown[shown[s.PLACE].isin(places)]
if shown.empty:
    st.info("No practices match. Good-practice passages appear once the coder has flagged some, or a researcher "
            "adds them to the library below.")
else:
    table = pd.DataFrame({
        "Practice": shown[s.TITLE], "Origin": shown[cols.ORIGIN], "Status": shown[s.STATUS].map(STATUS_WORDS),
        "Place": shown[s.PLACE], "Theme": shown[api.THEME_NAME], "Passages": shown[cols.N_PASSAGES],
        "People": shown[api.PARTICIPANTS], "What it is": shown[s.DESCRIPTION],
    })
    st.dataframe(table, hide_index=True, width="stretch")

options = list(practices[s.GROUP_ID]) if not practices.empty else []
if options:
    titles = dict(zip(practices[s.GROUP_ID], practices[s.TITLE]))
    origin_of = dict(zip(practices[s.GROUP_ID], practices[cols.ORIGIN]))
    chosen = st.selectbox("Open a practice", options, key="pr-open",
                          format_func=lambda g: f"{titles[g]} ({origin_of[g]})")
    row = practices[practices[s.GROUP_ID] == chosen].iloc[0].to_dict()
    proposed = row[cols.ORIGIN] == cols.PROPOSED
    st.markdown(f"### {plain(row[s.TITLE])}")
    facts = [("What it is", row[s.DESCRIPTION]), ("Where", row[s.PLACE]), ("Who runs it", row[s.WHO_RUNS]),
             ("Evidence that it helped", row[s.EVIDENCE]), ("Transferability", row[s.TRANSFERABILITY]),
             ("Status", STATUS_WORDS.get(row[s.STATUS], row[s.STATUS]))]
    known = [f"**{label}:** {plain(value)}" for label, value in facts if isinstance(value, str) and value.strip()]
    if known:
        st.markdown("\n\n".join(known))
    if proposed:
        st.caption("Proposed by the machine: not yet reviewed by a researcher.")
    keys = list(row[cols.PASSAGES])
    st.markdown(f"**Linked passages** ({len(keys)}, from {row[api.PARTICIPANTS]} people)")
    for key in paginate(pd.DataFrame({s.SEGMENT_KEY: keys}), key=f"pr-{chosen}", noun="passages",
                        page_size=PAGE)[s.SEGMENT_KEY]:
        if key in by_key.index:
            quote_card({**by_key.loc[key].to_dict(), s.SEGMENT_KEY: key}, key=f"pr-{chosen}-{key}", show_context=False)
    if researcher:
        with st.form(f"pr-form-{chosen}"):
            st.markdown("**Curate this practice**" if not proposed else "**Adopt this proposal as a practice**")
            title = st.text_input("Title", value=row[s.TITLE] or "")
            description = st.text_area("What it is", value=row[s.DESCRIPTION] or "")
            place = st.text_input("Where", value=row[s.PLACE] or "")
            who_runs = st.text_input("Who runs it", value=row[s.WHO_RUNS] or "")
            evidence = st.text_area("Evidence that it helped", value=row[s.EVIDENCE] or "")
            transferability = st.text_area("Transferability (what another place would need)",
                                           value=row[s.TRANSFERABILITY] or "")
            names = list(loaders.theme_names())
            theme = st.selectbox("Theme", names, format_func=theme_label,
                                 index=names.index(row[s.THEME]) if row[s.THEME] in names else 0)
            status = st.selectbox("Status", list(s.PRACTICE_STATUSES), format_func=STATUS_WORDS.get,
                                  index=list(s.PRACTICE_STATUSES).index(row[s.STATUS]) if not proposed else 1)
            text_of = {k: str(by_key.at[k, s.TEXT])[:80] for k in keys if k in by_key.index}
            keep = st.multiselect("Linked passages (untick to unlink)", keys, default=keys,
                                  format_func=lambda k: text_of.get(k, k))
            if st.form_submit_button("Save practice"):
                loaders.save_practice(group_id=None if proposed else chosen, title=title, description=description,
                                      place=place, who_runs=who_runs, evidence=evidence,
                                      transferability=transferability, theme=theme, status=status, passages=keep,
                                      unlink=[k for k in keys if k not in keep] if not proposed else [])
                st.success("Practice saved.")
                st.rerun()

screened = candidates[candidates[cols.SCREEN].notna()] if not candidates.empty else candidates
if not screened.empty:
    with st.expander(f"{len(screened)} good-practice passage(s) set aside as not practices"):
        st.caption("Hypotheticals, barriers and asides the screens found (rules/practices.yaml), and passages a "
                   "researcher took out. Add one to a practice by curating it in the library below.")
        st.dataframe(pd.DataFrame({"Why": screened[cols.SCREEN].map(SCREEN_WORDS), "Place": screened[s.PLACE],
                                   "Participant": screened[api.PARTICIPANT], "Passage": screened[s.TEXT]}),
                     hide_index=True, width="stretch")

st.divider()
st.subheader("Passage library")
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
    st.markdown(f"**{len(shown)} passages**")
    order = {theme: i for i, theme in enumerate(loaders.theme_names())}
    shown = shown.assign(_order=shown[s.THEME].map(order).fillna(len(order))).sort_values(
        ["_order", s.PLACE], kind="stable")
    page = paginate(shown, key="gp", noun="passages", page_size=PAGE)
    missing = sum(key not in by_key.index for key in page[s.SEGMENT_KEY])  # not isin: 0.1 s against 25k keys
    if missing:
        st.caption(f"{missing} passage(s) on this page are no longer in the study (it was segmented again); "
                   "their notes are kept.")
    for theme, group in page.groupby(s.THEME, sort=False):
        st.markdown(f"#### {theme_label(theme)}")
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
    st.subheader("Curate the library")
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
    text_of = {k: str(by_key.at[k, s.TEXT])[:90] for k in choices if k in by_key.index}
    key = st.selectbox("Passage", choices, key="gp-key",
                       format_func=lambda k: f"{'✓ ' if k in in_library else ''}{text_of.get(k, k)}…")
    current = library[library[s.SEGMENT_KEY] == key].to_dict("records")
    current = current[0] if current else {}
    with st.form(f"gp-form-{key}"):
        keep = st.checkbox("In the library", value=bool(current.get(s.INCLUDED, True)))
        title = st.text_input("Title", value=current.get(s.TITLE) or "")
        names = list(loaders.theme_names())
        segment_theme = by_key.at[key, s.THEME]
        default_theme = current.get(s.THEME) or (segment_theme if isinstance(segment_theme, str) else None)
        theme = st.selectbox("Theme", names, format_func=theme_label,
                             index=names.index(default_theme) if default_theme in names else 0)
        note = st.text_area("Note", value=current.get(s.NOTE) or "")
        if st.form_submit_button("Save"):
            loaders.curate_practice(key, keep, theme=theme, title=title, note=note)
            st.success("Saved.")
            st.rerun()
