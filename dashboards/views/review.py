"""Review: accept, reject or recode the machine's codings, one at a time or in bulk.

Every decision is appended with the reviewer's name and time (never overwritten), so
several people can review at once; the latest decision on a segment wins.
"""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import comment_box, context_table, is_transcript, need_segments, quote_text, reference_box, theme_label
from toolkit import api
from toolkit import schema as s

st.title("Review")
need_segments("the review queue")
researcher = loaders.is_researcher()
names = loaders.theme_names()

progress = loaders.review_progress()
overall = progress.iloc[0]
st.progress(float(overall[api.SHARE]),
            text=f"{int(overall[api.REVIEWED])} of {int(overall[api.SEGMENTS_COL])} segments reviewed")
with st.expander("Progress per theme"):
    st.dataframe(progress.assign(**{s.THEME: progress[s.THEME].map(lambda t: names.get(t, t))}), hide_index=True)

if not researcher:
    st.info("You are signed in as a reviewer: you can read and comment; only researchers record decisions.")

c = st.columns(3)
status = c[0].selectbox("Show", [api.UNREVIEWED, api.REVIEWED, "all"], key="review-status")
theme = c[1].selectbox("Theme", [None, *names], format_func=theme_label, key="review-theme")
place = c[2].selectbox("Place", [None, *loaders.study().places], format_func=lambda p: p or "(any)", key="review-place")
queue = loaders.quotes(status=None if status == "all" else status, theme=theme, place=place)
if queue.empty:
    st.success("Nothing left to review with these filters.")
    st.stop()


def decide(keys: list[str], decision: str, fields: dict[str, str] | None = None) -> None:
    """Button callback: runs before the rerun, so the page shows the new state at once.

    ``fields`` maps decision arguments to the widget keys that hold them (read at click time).
    """
    kwargs = {name: st.session_state.get(widget) for name, widget in (fields or {}).items()}
    if "note" in kwargs:
        kwargs["note"] = kwargs["note"] or None
    try:
        n = loaders.record_decisions(keys, decision, **kwargs)
    except Exception as exc:  # noqa: BLE001 - shown to the researcher, the page stays up
        st.session_state["review-message"] = ("error", str(exc))
    else:
        st.session_state["review-message"] = ("success", f"Saved: {decision} on {n} segment(s) by {loaders.user().name}.")


def describe_coding(row: dict) -> str:
    """The segment's current coding in words, e.g. "Trust … · barrier · suggested by the machine (confidence 0.82)"."""
    by = row.get(api.REVIEWED_BY) if isinstance(row.get(api.REVIEWED_BY), str) else None
    if not isinstance(row.get(s.THEME), str):
        if row.get(s.STATUS) == api.REJECTED:
            return "No theme: the machine's coding was rejected" + (f" by {by}." if by else ".")
        return "Not coded by the machine."
    parts = [f"**{theme_label(row[s.THEME])}**"]
    if isinstance(row.get(s.POLARITY), str):
        parts.append(row[s.POLARITY])
    status = row.get(s.STATUS)
    if status == "machine":
        confidence = row.get(s.CONFIDENCE)
        known = confidence is not None and confidence == confidence
        parts.append("suggested by the machine" + (f" (confidence {confidence:.2f})" if known else ""))
    elif isinstance(status, str):
        parts.append(status + (f" by {by}" if by else ""))
    return " · ".join(parts)


message = st.session_state.pop("review-message", None)
if message:
    getattr(st, message[0])(message[1])

one, bulk, history = st.tabs(["One at a time", "In bulk", "Who decided what"])
with one:
    position = int(st.number_input(f"Segment (of {len(queue)})", 1, len(queue), 1, key="review-position")) - 1
    row = queue.iloc[min(position, len(queue) - 1)].to_dict()
    key = row[s.SEGMENT_KEY]
    with st.container(border=True):
        quote_text(row[s.TEXT])
        reference_box(row[api.REFERENCE])
    st.markdown(f"**Current coding:** {describe_coding(row)}")
    if is_transcript(row):
        with st.expander("The turns around it"):
            context_table(key)
    others = loaders.codings()
    others = others[others[s.SEGMENT_KEY] == key]
    if len(others) > 1:
        st.caption("All codings: " + "; ".join(f"{theme_label(t)} ({p})" for t, p in zip(others[s.THEME], others[s.POLARITY])))
    if researcher:
        note_key = f"review-note-{key}"
        st.text_input("Note (saved with the decision)", key=note_key)
        with st.container(horizontal=True):
            st.button("Accept", key="review-accept", type="primary", disabled=not isinstance(row[s.THEME], str),
                      on_click=decide, args=([key], "accept", {"note": note_key}),
                      help=None if isinstance(row[s.THEME], str) else "Nothing to accept: recode it instead.")
            st.button("Reject", key="review-reject", on_click=decide, args=([key], "reject", {"note": note_key}))
        with st.container(border=True):
            st.markdown("**Or recode it**")
            r = st.columns(3)
            r[0].selectbox("Recode as theme", list(names), format_func=theme_label,
                           index=list(names).index(row[s.THEME]) if row[s.THEME] in names else 0,
                           key=f"review-theme-{key}")
            r[1].selectbox("Polarity", list(s.POLARITIES),
                           index=list(s.POLARITIES).index(row[s.POLARITY]) if row[s.POLARITY] in s.POLARITIES else 0,
                           key=f"review-polarity-{key}")
            r[2].checkbox("Good practice", value=bool(row[s.GOOD_PRACTICE]), key=f"review-gp-{key}")
            st.button("Recode", key="review-recode", on_click=decide,
                      args=([key], "recode", {"theme": f"review-theme-{key}", "polarity": f"review-polarity-{key}",
                                              "note": note_key, "good_practice": f"review-gp-{key}"}))
    decided = loaders.decisions()
    decided = decided[decided[s.SEGMENT_KEY] == key]
    if not decided.empty:
        st.markdown("**Decisions on this segment** (latest last)")
        st.dataframe(decided[[s.CODER, s.DECISION, s.THEME, s.POLARITY, s.NOTE, s.CREATED_AT]], hide_index=True)
    comment_box(key=f"review-{key}", segment_key=key)

with bulk:
    page_size = loaders.PAGE_SIZE * 2
    pages = max(1, -(-len(queue) // page_size))
    page = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key="review-bulk-page"))
    shown = queue.iloc[(page - 1) * page_size : page * page_size]
    table = shown[[s.SEGMENT_KEY, api.THEME_NAME, s.POLARITY, s.CONFIDENCE, s.STATUS, api.REVIEWED_BY, s.PLACE, s.TEXT]]
    picked = st.dataframe(table, hide_index=True, width="stretch", key="review-bulk-table",
                          on_select="rerun", selection_mode="multi-row") if researcher else st.dataframe(
        table, hide_index=True, width="stretch")
    if researcher:
        rows = list(picked.selection.rows) if picked is not None else []
        every = st.checkbox(f"All {len(shown)} on this page", key="review-bulk-all")
        keys = list(shown[s.SEGMENT_KEY]) if every else list(shown.iloc[rows][s.SEGMENT_KEY])
        st.caption(f"{len(keys)} selected.")
        themes_here = shown.set_index(s.SEGMENT_KEY)[s.THEME]
        coded_keys = [k for k in keys if isinstance(themes_here.get(k), str)]
        with st.container(horizontal=True):
            st.button(f"Accept {len(coded_keys)} coded", key="review-bulk-accept", disabled=not coded_keys,
                      on_click=decide, args=(coded_keys, "accept"))
            st.button(f"Reject {len(keys)}", key="review-bulk-reject", disabled=not keys,
                      on_click=decide, args=(keys, "reject"))

with history:
    decided = loaders.decisions()
    if decided.empty:
        st.info("No decisions yet.")
    else:
        st.caption("Every decision is kept; the latest on a segment wins.")
        st.dataframe(decided.iloc[::-1][[s.CREATED_AT, s.CODER, s.DECISION, s.SEGMENT_KEY, s.THEME, s.POLARITY, s.NOTE]],
                     hide_index=True, width="stretch")
