"""Topics: the topic map, keywords, representative quotes, the nearest codebook theme, candidate new themes;
researchers rename, merge and split topics."""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import comment_box, need_segments, plain, quote_list, theme_label
from toolkit import api, plots
from toolkit import schema as s

st.title("Topics")
need_segments("the topic map")
topics = loaders.topics()
if topics.empty:
    st.info(f"No topics yet: run `{loaders.command('topics')}`.")
    st.stop()

candidates = topics[topics[s.CANDIDATE_NEW].astype(bool) & (topics[s.TOPIC] != s.OUTLIER_TOPIC)]
if not candidates.empty:
    with st.container(border=True):
        st.markdown(f":orange-badge[:material/lightbulb: {len(candidates)} candidate new theme(s)] "
                    "Topics far from every codebook theme: read their quotes (open them below) and decide whether "
                    "the codebook needs a new theme.")
        for row in candidates.to_dict("records"):
            similarity = row[s.THEME_SIMILARITY]
            nearest = (f" · nearest theme: {theme_label(row[s.NEAREST_THEME])} (similarity {similarity:.2f})"
                       if isinstance(row[s.NEAREST_THEME], str) else "")
            st.markdown(f"**{row[s.TOPIC]}: {plain(row[s.TOPIC_LABEL])}** · {int(row[s.SIZE])} segments{nearest}  \n"
                        f"keywords: {plain(', '.join(map(str, row[s.KEYWORDS][:10])))}")

st.plotly_chart(plots.plot_topic_map(topics), width="stretch")

table = topics.assign(**{s.KEYWORDS: topics[s.KEYWORDS].map(lambda k: ", ".join(map(str, k[:6]))),
                         s.NEAREST_THEME: topics[s.NEAREST_THEME].map(lambda t: theme_label(t) if isinstance(t, str) else "")})
table = table[[s.TOPIC, s.CANDIDATE_NEW, s.TOPIC_LABEL, s.SIZE, s.KEYWORDS, s.NEAREST_THEME, s.THEME_SIMILARITY]]
CANDIDATE_ROW = "background-color: #FCE9C8"  # Okabe-Ito orange, light: the map's colour for candidate new themes
st.dataframe(
    table.style.apply(lambda r: [CANDIDATE_ROW if r[s.CANDIDATE_NEW] else ""] * len(r), axis=1),
    hide_index=True, width="stretch",
    column_config={
        s.TOPIC: st.column_config.NumberColumn("topic", width=50),
        s.CANDIDATE_NEW: st.column_config.CheckboxColumn("new?", width=50,
                                                         help="Candidate new theme: far from every codebook theme"),
        s.TOPIC_LABEL: st.column_config.TextColumn("label", width=190),
        s.SIZE: st.column_config.NumberColumn("segments", width=75),
        s.KEYWORDS: st.column_config.TextColumn("keywords", width=420,
                                                help="The topic's six most distinctive words (all of them under "
                                                     "Open a topic)"),
        s.NEAREST_THEME: st.column_config.TextColumn("nearest codebook theme", width=190),
        s.THEME_SIMILARITY: st.column_config.ProgressColumn("similarity", min_value=0.0, max_value=1.0, format="%.2f",
                                                            width=90),
    },
)

by = st.radio("Distribution by", list(api.DISTRIBUTION_BY), horizontal=True, key="topics-by",
              format_func=lambda b: b.replace("_", " "))
st.plotly_chart(plots.plot_topic_distribution(loaders.topic_distribution(by), by, candidates=candidates[s.TOPIC]),
                width="stretch")

st.subheader("Open a topic")
labels = dict(zip(topics[s.TOPIC], topics[s.TOPIC_LABEL]))
order = sorted(labels, key=lambda t: (t == s.OUTLIER_TOPIC, t))  # outliers last
topic = st.selectbox("Topic", order, format_func=lambda t: f"{t}: {labels[t]}", key="topics-open")
row = topics[topics[s.TOPIC] == topic].iloc[0]
st.markdown(f"**Keywords:** {', '.join(map(str, row[s.KEYWORDS])) or '-'}")
nearest = row[s.NEAREST_THEME]
if isinstance(nearest, str):
    similarity = row[s.THEME_SIMILARITY]
    st.markdown(f"**Nearest codebook theme:** {theme_label(nearest)} (similarity {similarity:.2f})"
                + (" · :orange-badge[candidate new theme]" if row[s.CANDIDATE_NEW] else ""))
st.markdown("**Representative quotes**")
quote_list(loaders.segments_by_keys(list(row[s.REPRESENTATIVE])), key=f"topic-rep-{topic}")
with st.expander(f"All {int(row[s.SIZE])} segments in this topic"):
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
