"""From barrier to remedy: each barrier one place reports, beside what the other places report on the same theme.

The study exists to help places overcome the barriers others have overcome: pick a place and see, theme
by theme, its people's barriers next to the enablers and curated practices of the other places.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import loaders
from views.common import need_segments, plain, quote_list, theme_label
from toolkit import schema as s
from toolkit.analysis import columns as cols
from toolkit.analysis.remedies import split_practices

FEW_THEMES = 3  # up to this many themes, each is shown whole; beyond, a table of them all and one theme at a time


def theme_detail(theme: str, group: pd.DataFrame, place: str, practices: pd.DataFrame) -> None:
    """One theme: the place's barrier (people, a quote, all its passages on demand) beside each other place's
    enablers and practices."""
    first = group.iloc[0]
    st.markdown(f"### {plain(first[cols.THEME_NAME])}")
    left, right = st.columns(2)
    with left:
        people = first["barrier_people"]
        lines = [f"**Barrier in {plain(place)}**: {people} {'person' if people == 1 else 'people'}"]
        if first["barrier_quote"]:
            lines += [f"\u201c{plain(first['barrier_quote'])}\u201d", f":gray[:small[{plain(first['barrier_reference'])}]]"]
        st.markdown("  \n".join(lines))
        if st.toggle("All the barrier passages", key=f"rem-b-{theme}"):
            quote_list(loaders.segments_by_keys(list(first["barrier_segments"])), key=f"rem-b-{theme}")
    with right:
        for row in group.to_dict("records"):
            if not row[cols.OTHER_PLACE]:
                st.warning("No other place reports an enabler or a practice on this theme.")
                continue
            lines = [f"**{plain(row[cols.OTHER_PLACE])}**: {row['enabler_people']} reporting enablers"]
            curated, proposed = split_practices(row["practices"], row["practice_ids"], practices)
            if curated:
                lines.append("Practices: " + "; ".join(f"**{plain(p)}**" for p in curated))
            if proposed:
                lines.append(f":gray[:small[Proposed from the coding, not yet reviewed: {plain('; '.join(proposed))}]]")
            if row["enabler_quote"]:
                lines += [f"\u201c{plain(row['enabler_quote'])}\u201d",
                          f":gray[:small[{plain(row['enabler_reference'])}]]"]
            st.markdown("  \n".join(lines))
            if st.toggle(f"All enabler passages in {row[cols.OTHER_PLACE]}", key=f"rem-e-{theme}-{row[cols.OTHER_PLACE]}"):
                quote_list(loaders.segments_by_keys(list(row["enabler_segments"])),
                           key=f"rem-e-{theme}-{row[cols.OTHER_PLACE]}")


def theme_table(mine: pd.DataFrame, practices: pd.DataFrame) -> pd.DataFrame:
    """One row a theme: the people with the barrier here, the people reporting enablers elsewhere, the practices."""
    rows = []
    for _, group in mine.groupby(s.THEME, sort=False):
        first = group.iloc[0]
        others = group[group[cols.OTHER_PLACE].fillna("").astype(bool)]
        curated, proposed = [], []
        for row in others.to_dict("records"):
            theirs, machine = split_practices(row["practices"], row["practice_ids"], practices)
            curated += theirs
            proposed += machine
        rows.append({
            "Theme": first[cols.THEME_NAME], "People with the barrier": int(first["barrier_people"]),
            "Enablers elsewhere (people)": " · ".join(f"{p} {n}" for p, n in zip(others[cols.OTHER_PLACE],
                                                                              others["enabler_people"])) or "none: a gap",
            "Practices elsewhere": "; ".join(dict.fromkeys(curated)),
            "Proposed, not yet reviewed": len(dict.fromkeys(proposed)),
        })
    return pd.DataFrame(rows)


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

groups = dict(list(mine.groupby(s.THEME, sort=False)))
if len(groups) <= FEW_THEMES:
    for theme, group in groups.items():
        theme_detail(theme, group, place, practices)
        st.divider()
else:
    # Master and detail: every theme in one table, and the one opened below it (pick up to three themes
    # above to see them side by side).
    st.caption(f"{len(groups)} themes: open one below, or choose up to {FEW_THEMES} themes above to see them side "
               "by side.")
    st.dataframe(theme_table(mine, practices), hide_index=True, width="stretch", column_config={
        "Theme": st.column_config.TextColumn(width=260),
        "People with the barrier": st.column_config.NumberColumn("people", width=60,
                                                                 help="People with the barrier in this place"),
        "Enablers elsewhere (people)": st.column_config.TextColumn(width=220),
        "Practices elsewhere": st.column_config.TextColumn(width=260, help="Curated practices of the other places"),
        "Proposed, not yet reviewed": st.column_config.NumberColumn("proposed", width=70,
                                                                    help="Practices the machine proposes elsewhere, "
                                                                         "not yet reviewed"),
    })
    names = {theme: group.iloc[0][cols.THEME_NAME] for theme, group in groups.items()}
    opened = st.selectbox("Open a theme", list(groups), key=f"rem-open-{place}", format_func=names.get)
    theme_detail(opened, groups[opened], place, practices)
