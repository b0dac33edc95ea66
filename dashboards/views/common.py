"""Widgets several pages share: a quote card, a paginated quote list, the empty-study message.

Layout only: the data comes from ``loaders``.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import streamlit as st

import loaders
from toolkit import api
from toolkit import schema as s
from toolkit.analysis._frames import records

POLARITY_MARK = {s.BARRIER: ":orange-badge[barrier]", s.ENABLER: ":blue-badge[enabler]",
                 s.NEUTRAL: ":gray-badge[neutral]"}
_INLINE = re.compile(r"([\\`*_\[\]<>$~:|])")
_LINE_START = re.compile(r"^(\s*\d*)([#>+=\-.)])", re.MULTILINE)  # headings, lists, quotes, rules


def plain(text: object) -> str:
    """``text`` escaped so that Streamlit's markdown shows it as written (no links, badges, maths or lists).

    >>> plain("See [PERSON_03]: 1 *or* 2")
    'See \\\\[PERSON\\\\_03\\\\]\\\\: 1 \\\\*or\\\\* 2'
    """
    escaped = _INLINE.sub(r"\\\1", str(text))
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped).replace("\n", "  \n")


def quote_text(text: object) -> None:
    """A quote in the normal text colour (a markdown blockquote is light grey), between quotation marks."""
    st.markdown(f"\u201c{plain(text)}\u201d")


def reference_box(reference: object) -> None:
    """The quote's reference, one click to copy, wrapped so that it is never cut off."""
    st.code(str(reference), language=None, wrap_lines=True)


def is_transcript(row: dict) -> bool:
    """Whether the segment comes from a transcript (survey answers have no turns around them)."""
    return row.get(api.SOURCE_KIND) != "survey" and not pd.isna(row.get(s.TURN_ID))


def need_segments(what: str = "this page") -> pd.DataFrame:
    """The segments, or a message that says what to run (and the page stops)."""
    frame = loaders.segments()
    if frame.empty:
        counts = loaders.status().counts
        if counts.get(s.SOURCES, 0) == 0:
            st.info(f"No sources yet: run `{loaders.command('ingest')}` to read the study's files, then "
                    f"`{loaders.command('code')}`.")
        else:
            st.info(f"Nothing is coded yet, so {what} has nothing to show: run `{loaders.command('code')}`.")
        st.stop()
    return frame


def coding_line(row: dict) -> str:
    """The coding of a quote in one line: theme, polarity, status, who decided last, topic (markdown)."""
    bits = []
    if row.get(api.THEME_NAME) and not pd.isna(row.get(api.THEME_NAME)):
        bits.append(f"**{plain(row[api.THEME_NAME])}**")
    polarity = row.get(s.POLARITY)
    if isinstance(polarity, str):
        bits.append(POLARITY_MARK.get(polarity, plain(polarity)))
    bits.append(f"status: {plain(row.get(s.STATUS))}")
    if isinstance(row.get(api.REVIEWED_BY), str):
        bits.append(f"last decision by {plain(row[api.REVIEWED_BY])}")
    if row.get(s.TOPIC_LABEL) and isinstance(row.get(s.TOPIC_LABEL), str):
        bits.append(f"topic: {plain(row[s.TOPIC_LABEL])}")
    return " · ".join(bits)


def quote_card(row: dict, *, key: str, show_context: bool = True) -> None:
    """One quote: its text, coding, a copyable reference, and on demand the turns around it.

    The text and its coding line are one markdown element (the line small and grey, as a caption), so a
    card is a bordered box of three elements: a page of 25 cards draws 100 elements, not 125.
    """
    with st.container(border=True):
        st.markdown(f"\u201c{plain(row[s.TEXT])}\u201d  \n:gray[:small[{coding_line(row)}]]")
        reference_box(row[api.REFERENCE])
        if show_context and is_transcript(row) and st.toggle("Show the turns around it", key=f"ctx-{key}"):
            context_table(row[s.SEGMENT_KEY])


def context_table(segment_key: str, window: int = 2) -> None:
    """The turns around a segment, the segment's own turn highlighted (one markdown element)."""
    lines = []
    for turn in loaders.context(segment_key, window).to_dict("records"):
        who = turn.get(s.SPEAKER) if isinstance(turn.get(s.SPEAKER), str) else turn.get(s.SPEAKER_ROLE)
        text = f"**{plain(who)}:** {plain(turn[s.TEXT])}"
        lines.append(f":blue-background[{text}]" if turn[api.IS_SEGMENT] else text)
    if lines:
        st.markdown("\n\n".join(lines))


def paginate(frame: pd.DataFrame, *, key: str, page_size: int = loaders.PAGE_SIZE,
             noun: str = "quotes") -> pd.DataFrame:
    """The rows of the chosen page (a page picker shows when there is more than one) and a caption saying which."""
    pages = max(1, math.ceil(len(frame) / page_size))
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key=f"page-{key}"))
    shown = frame.iloc[(page - 1) * page_size : page * page_size]
    st.caption(f"Showing {len(shown)} of {len(frame)} {noun} ({(page - 1) * page_size + 1}–"
               f"{(page - 1) * page_size + len(shown)}).")
    return shown


def quote_list(frame: pd.DataFrame, *, key: str, page_size: int = loaders.PAGE_SIZE) -> pd.DataFrame:
    """Paginated quote cards; returns the rows shown."""
    if frame.empty:
        st.info("No quotes match.")
        return frame
    shown = paginate(frame, key=key, page_size=page_size)
    for row in records(shown):
        quote_card(row, key=f"{key}-{row[s.SEGMENT_KEY]}")
    return shown


def comment_box(*, key: str, segment_key: str | None = None, theme: str | None = None,
                topic: int | None = None, label: str = "Add a comment") -> None:
    """A comment form (reviewers and researchers both comment)."""
    with st.form(f"comment-{key}", clear_on_submit=True):
        text = st.text_area(label, key=f"comment-text-{key}")
        if st.form_submit_button("Save comment") and text.strip():
            loaders.add_comment(text, segment_key=segment_key, theme=theme, topic=topic)
            st.success("Comment saved.")


def theme_label(theme_id: str | None) -> str:
    if theme_id is None:
        return "(any)"
    return loaders.theme_names().get(theme_id, theme_id)
