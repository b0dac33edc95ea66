"""Quotes: every evidence segment, filtered by place, organisation, role, theme, polarity, topic, source,
review status and free text; each with its context and a reference to copy."""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import comment_box, need_segments, quote_list, theme_label
from toolkit import api
from toolkit import schema as s

st.title("Quotes")
segments = need_segments("the quote finder")


def options(column: str) -> list:
    return sorted(str(v) for v in segments[column].dropna().unique())


with st.container(border=True):
    c = st.columns(4)
    place = c[0].multiselect("Place", options(s.PLACE), key="q-place")
    organisation = c[1].multiselect("Organisation type", options(s.ORGANISATION_TYPE), key="q-org")
    role = c[2].multiselect("Role", options(s.ROLE), key="q-role")
    source = c[3].multiselect("Source", options(s.PATH), key="q-source")
    c = st.columns(4)
    theme = c[0].multiselect("Theme", list(loaders.theme_names()), format_func=theme_label, key="q-theme")
    polarity = c[1].multiselect("Polarity", list(s.POLARITIES), key="q-polarity")
    topics = loaders.topics()
    topic_labels = dict(zip(topics[s.TOPIC], topics[s.TOPIC_LABEL])) if not topics.empty else {}
    topic = c[2].multiselect("Topic", list(topic_labels), format_func=lambda t: f"{t}: {topic_labels.get(t, '')}",
                             key="q-topic", disabled=not topic_labels,
                             help=None if topic_labels else f"No topics yet: run `{loaders.command('topics')}`")
    status = c[3].multiselect("Status", [*api.REVIEW_STATUSES, *api.CODING_STATUSES], key="q-status")
    search = st.text_input("Search the text", key="q-search", placeholder="e.g. consent, SystmOne, trust")

found = loaders.quotes(place=place, organisation_type=organisation, role=role, theme=theme, polarity=polarity,
                       topic=topic, source=source, status=status, search=search)
st.subheader(f"{len(found)} of {len(segments)} quotes")
shown = quote_list(found, key="quotes")

if not shown.empty:
    st.divider()
    choices = list(shown[s.SEGMENT_KEY])
    preview = dict(zip(shown[s.SEGMENT_KEY], shown[s.TEXT].str.slice(0, 80)))
    key = st.selectbox("Comment on a quote on this page", choices, format_func=lambda k: f"{k}: {preview[k]}…",
                       key="q-comment-key")
    comment_box(key="quotes", segment_key=key)
