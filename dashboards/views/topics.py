"""Topics: what the study talks about, beside the codebook; candidate new themes with their evidence and the
action that adds one to the codebook; what is distinctive of each place; how stable each topic is.
Researchers rename, merge and split topics."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
import loaders
from views.common import comment_box, need_segments, plain, quote_list, theme_label
from toolkit import api
from toolkit import schema as s
from toolkit.analysis import topics as columns
from toolkit.topics.stability import stability_label

FEW_CANDIDATES = 3  # up to this many, each candidate is shown whole; beyond, a table and one candidate at a time


def candidate_detail(row: dict) -> None:
    """Why a topic is a candidate, its evidence and (for researchers) the form that adds it to the codebook."""
    reasons = "\n".join(f"- {plain(reason)}" for reason in row[columns.REASONS])
    st.markdown("**Why it is a candidate** (relative to this study)" + (f"\n{reasons}" if reasons else ""))
    facts = []
    if row[columns.DISTINCTIVE_PLACES]:
        facts.append(f"**Over-represented in:** {plain(', '.join(row[columns.DISTINCTIVE_PLACES]))}")
    facts.append(f"**Keyphrases:** {plain(', '.join(map(str, row[s.KEYWORDS][:8]))) or '-'}")
    quotes = loaders.segments_by_keys(list(row[s.REPRESENTATIVE])) if len(row[s.REPRESENTATIVE]) else pd.DataFrame()
    text_of = dict(zip(quotes[s.SEGMENT_KEY], quotes[s.TEXT])) if not quotes.empty else {}
    passages = [f"\u201c{plain(text_of[key])}\u201d" for key in row[s.REPRESENTATIVE] if key in text_of]
    st.markdown("\n\n".join([*facts, "**Representative passages**", *passages]))
    if loaders.is_researcher():
        with st.form(f"add-theme-{row[s.TOPIC]}"):
            ids = list(loaders.theme_names())
            suggested = row[s.CANDIDATE_KIND] if row[s.CANDIDATE_KIND] in ("theme", "sub_theme") else "theme"
            as_ = st.radio("Add to the codebook as", ["theme", "sub_theme"], horizontal=True,
                           index=["theme", "sub_theme"].index(suggested), key=f"as-{row[s.TOPIC]}",
                           format_func=lambda a: "a theme" if a == "theme" else "a sub-theme of")
            parent_default = row[s.CANDIDATE_PARENT] if row[s.CANDIDATE_PARENT] in ids else (ids[0] if ids else None)
            parent = st.selectbox("Parent theme (for a sub-theme)", ids, format_func=theme_label,
                                  index=ids.index(parent_default) if parent_default in ids else 0,
                                  key=f"parent-{row[s.TOPIC]}")
            name = st.text_input("Name of the new theme", value=str(row[s.KEYWORDS][0]).capitalize()
                                 if row[s.KEYWORDS] else "", key=f"name-{row[s.TOPIC]}")
            if st.form_submit_button("Add to the codebook as a draft"):
                try:
                    added = loaders.add_topic_to_codebook(int(row[s.TOPIC]), as_=as_,
                                                          parent=parent if as_ == "sub_theme" else None,
                                                          name=name or None)
                except Exception as exc:  # noqa: BLE001 - any problem is shown, the page stays up
                    st.error(f"Not added: {exc}")
                else:
                    st.success(added.message())


def candidate_title(row: dict) -> str:
    stable = row[columns.STABILITY_LABEL]
    return f"{row[s.TOPIC]}: {row[s.TOPIC_LABEL]} · {row[s.SIZE]} segments" + (f" · {stable}" if stable else "")


st.title("Topics")
st.caption("Topics are found in the segments themselves (inductively), then set beside the codebook: a topic "
           "that restates a theme says so, and topics the codebook misses are offered as candidate new themes. "
           "Introductions, logistics, times and read-out contact details are set aside, never topics.")
need_segments("the topic map")
topics = loaders.topics()
if topics.empty:
    st.info(f"No topics yet: run `{loaders.command('topics')}`.")
    st.stop()

real = topics[topics[s.TOPIC] != s.OUTLIER_TOPIC]
relations = loaders.topic_relations()
candidates = loaders.candidate_themes()
measured = real[s.STABILITY].notna()
cols = st.columns(4)
cols[0].metric("Topics", len(real))
cols[1].metric("Candidate new themes", len(candidates))
cols[2].metric("Restate a codebook theme", int(real[s.RESTATES_THEME].notna().sum()))
if measured.any():
    weighted = float((real.loc[measured, s.STABILITY] * real.loc[measured, s.SIZE]).sum() / real.loc[measured, s.SIZE].sum())
    cols[3].metric("Stability across seeds", f"{weighted:.2f}",
                   help="Each topic's best match (Jaccard overlap of segments) in fits with other random seeds, "
                        "weighted by size: at least 0.75 stable, under 0.5 a topic that dissolves with the seed.")

# --------------------------------------------------------------------------- candidate new themes
st.subheader("Candidate new themes")
if candidates.empty:
    st.caption("No topic stands apart from the codebook in this study: every topic restates or sits near a theme.")
elif len(candidates) <= FEW_CANDIDATES:
    for row in candidates.to_dict("records"):
        with st.expander(candidate_title(row), expanded=True):
            candidate_detail(row)
else:
    # Master and detail: one table of every candidate, and the one a researcher opens below it.
    st.dataframe(pd.DataFrame({
        s.TOPIC: candidates[s.TOPIC], s.TOPIC_LABEL: candidates[s.TOPIC_LABEL], s.SIZE: candidates[s.SIZE],
        columns.STABILITY_LABEL: candidates[columns.STABILITY_LABEL],
        columns.DISTINCTIVE_PLACES: candidates[columns.DISTINCTIVE_PLACES].map(", ".join),
        s.KEYWORDS: candidates[s.KEYWORDS].map(lambda k: ", ".join(map(str, k[:6]))),
    }), hide_index=True, width="stretch", column_config={
        s.TOPIC: st.column_config.NumberColumn("topic", width=50),
        s.TOPIC_LABEL: st.column_config.TextColumn("label", width=260),
        s.SIZE: st.column_config.NumberColumn("segments", width=70),
        columns.STABILITY_LABEL: st.column_config.TextColumn("stability", width=80),
        columns.DISTINCTIVE_PLACES: st.column_config.TextColumn("over-represented in", width=160),
        s.KEYWORDS: st.column_config.TextColumn("keyphrases", width=320),
    })
    by_topic = {int(row[s.TOPIC]): row for row in candidates.to_dict("records")}
    opened = st.selectbox("Open a candidate", list(by_topic), key="topics-candidate",
                          format_func=lambda t: candidate_title(by_topic[t]))
    with st.container(border=True):
        candidate_detail(by_topic[opened])

# --------------------------------------------------------------------------- all topics
st.subheader("All topics beside the codebook")
charts.show(charts.topic_map(topics))
table = real.assign(**{
    s.KEYWORDS: real[s.KEYWORDS].map(lambda k: ", ".join(map(str, k[:6]))),
    columns.RELATION: real[s.TOPIC].map(relations),
    columns.STABILITY_LABEL: real[s.STABILITY].map(lambda v: stability_label(None if pd.isna(v) else float(v))),
})[[s.TOPIC, s.TOPIC_LABEL, s.SIZE, columns.STABILITY_LABEL, s.KEYWORDS, columns.RELATION]]
st.dataframe(table, hide_index=True, width="stretch", column_config={
    s.TOPIC: st.column_config.NumberColumn("topic", width=50),
    s.TOPIC_LABEL: st.column_config.TextColumn("label (from its most representative passage)", width=260),
    s.SIZE: st.column_config.NumberColumn("segments", width=70),
    columns.STABILITY_LABEL: st.column_config.TextColumn("stability", width=80,
                                         help="stable (>= 0.75), pattern (0.6-0.75), weak (0.5-0.6) or dissolves "
                                              "(< 0.5): how well the topic comes back with other random seeds"),
    s.KEYWORDS: st.column_config.TextColumn("keyphrases", width=320),
    columns.RELATION: st.column_config.TextColumn("beside the codebook", width=320),
})
set_aside = topics[topics[s.TOPIC] == s.OUTLIER_TOPIC]
if not set_aside.empty:
    st.caption(f"{int(set_aside[s.SIZE].iloc[0])} segments are in no topic: introductions, logistics, times and "
               "contact details (structure), segments too short to say anything alone, and outliers.")

# --------------------------------------------------------------------------- places
st.subheader("What is distinctive of each place")
by = st.radio("Compare", list(api.DISTRIBUTION_BY[:1]) + [b for b in api.DISTRIBUTION_BY if b not in (s.PLACE, s.POLARITY)],
              horizontal=True, key="topics-place-by", format_func=lambda b: b.replace("_", " "))
view = loaders.place_view(by)
if view.empty:
    st.caption("Nothing is over-represented anywhere (log-odds z of at least 1.96 against the others).")
else:
    value = st.selectbox(by.replace("_", " ").capitalize(), sorted(view[by].unique()), key="topics-place-value")
    mine = view[view[by] == value]
    st.caption("Topics and keyphrases used distinctly more here than elsewhere: log-odds ratios with an informative "
               "prior (z of at least 1.96), with the share of segments here and elsewhere.")
    left, right = st.columns(2)
    for column, kind, heading in ((left, "topic", "Topics"), (right, "keyphrase", "Keyphrases")):
        part = mine[mine[columns.KIND] == kind]
        with column:
            st.markdown(f"**{heading}**")
            st.dataframe(part[[columns.ITEM, columns.Z, api.SEGMENTS_COL, columns.SHARE_HERE, columns.SHARE_ELSEWHERE]],
                         hide_index=True, width="stretch", column_config={
                             columns.ITEM: st.column_config.TextColumn(kind),
                             columns.SHARE_HERE: st.column_config.NumberColumn("here", format="percent"),
                             columns.SHARE_ELSEWHERE: st.column_config.NumberColumn("elsewhere", format="percent")})
    shown = st.selectbox("Passages that show it", mine[columns.ITEM].tolist(), key="topics-place-item")
    keys = mine.loc[mine[columns.ITEM] == shown, api.SEGMENT_KEYS].iloc[0] if shown is not None else []
    quote_list(loaders.segments_by_keys(list(keys)), key="topics-place-quotes")

by = st.radio("Distribution by", list(api.DISTRIBUTION_BY), horizontal=True, key="topics-by",
              format_func=lambda b: b.replace("_", " "))
charts.show(charts.topic_distribution(loaders.topic_distribution(by), by, candidates=candidates[s.TOPIC]))

# --------------------------------------------------------------------------- one topic
st.subheader("Open a topic")
labels = dict(zip(topics[s.TOPIC], topics[s.TOPIC_LABEL]))
order = sorted(labels, key=lambda t: (t == s.OUTLIER_TOPIC, t))  # outliers last
topic = st.selectbox("Topic", order, format_func=lambda t: f"{t}: {labels[t]}", key="topics-open")
row = topics[topics[s.TOPIC] == topic].iloc[0]
st.markdown(f"**Keyphrases:** {plain(', '.join(map(str, row[s.KEYWORDS]))) or '-'}")
if topic != s.OUTLIER_TOPIC:
    evidence = row[s.EVIDENCE] or {}
    st.markdown(f"**Beside the codebook:** {plain(relations.get(topic, ''))}"
                + (" · :orange-badge[candidate new theme]" if row[s.CANDIDATE_NEW] else ""))
    places = [f"{p['place']} (z {p['z']:.1f})" for p in evidence.get("distinctive_places", [])]
    if places:
        st.markdown(f"**Over-represented in:** {plain(', '.join(places))}")
    if not pd.isna(row[s.STABILITY]):
        st.markdown(f"**Stability:** {row[s.STABILITY]:.2f} ({stability_label(float(row[s.STABILITY]))})")
st.markdown("**Representative quotes**")
quote_list(loaders.segments_by_keys(list(row[s.REPRESENTATIVE])), key=f"topic-rep-{topic}")
if st.toggle(f"Show all {int(row[s.SIZE])} segments in this topic", key=f"topic-all-show-{topic}"):
    quote_list(loaders.quotes(topic=int(topic)), key=f"topic-all-{topic}")
comment_box(key=f"topic-{topic}", topic=int(topic), label="Comment on this topic")

if loaders.is_researcher():
    st.subheader("Edit topics")
    st.caption("Edits are stored and replayed on every topic run; they find their topics again by their segments.")
    tab_rename, tab_merge, tab_split = st.tabs(["Rename", "Merge", "Split"])

    def apply(action: str, **kwargs) -> None:
        try:
            loaders.edit_topics(action, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any problem is shown, the page stays up
            st.error(f"The topic edit failed: {exc}")
        else:
            st.success(f"Saved: {action}." + (" The topics were fitted again." if action != "rename" else ""))

    with tab_rename:
        new_label = st.text_input("New label", value=labels[topic], key="topic-rename-label")
        if st.button("Rename topic", key="topic-rename"):
            apply("rename", topic=int(topic), label=new_label)
    with tab_merge:
        merge = st.multiselect("Topics to merge", list(labels), format_func=lambda t: f"{t}: {labels[t]}",
                               key="topic-merge-list")
        merge_label = st.text_input("Label of the merged topic (optional)", key="topic-merge-label")
        if st.button("Merge topics", key="topic-merge", disabled=len(merge) < 2):
            apply("merge", topics=[int(t) for t in merge], label=merge_label or None)
    with tab_split:
        parts = st.number_input("Split the open topic into", 2, 10, 2, key="topic-split-parts")
        if st.button("Split topic", key="topic-split"):
            apply("split", topic=int(topic), parts=int(parts))
