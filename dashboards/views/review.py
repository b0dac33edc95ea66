"""Review: turn the machine's suggestions into validated findings.

* **Queue**: the segment the coder is least sure of, or whose evidence disagrees, comes first; every
  decision retrains the coder and re-ranks the queue. Filters, and accepting a theme's surest codings in bulk.
* **Missed evidence**: uncoded segments that are probably codable, and passages like any quote.
* **QA sample**: a stratified random sample coded blind; precision and recall with intervals.
* **Double coding**: a batch for two people, their agreement, and the resolution of disagreements.
* **In bulk** and **Who decided what**, as before.

Every decision is appended with the reviewer's name and time (never overwritten); the latest wins.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import background
import blind_loaders
import loaders
from views.common import (
    comment_box,
    context_table,
    is_transcript,
    need_segments,
    quote_text,
    reference_box,
    theme_label,
)
from toolkit import api
from toolkit import schema as s
from toolkit.analysis.validation import HIGH_CONFIDENCE

NO_THEME = "(no theme)"

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


def say(kind: str, text: str) -> None:
    st.session_state["review-message"] = (kind, text)


def decide(keys: list[str], decision: str, fields: dict[str, str] | None = None) -> None:
    """Button callback (runs before the rerun): the decision, then the coder refits and the queue re-ranks.

    ``fields`` maps decision arguments to the widget keys that hold them (read at click time).
    """
    kwargs = {name: st.session_state.get(widget) for name, widget in (fields or {}).items()}
    if "note" in kwargs:
        kwargs["note"] = kwargs["note"] or None
    if kwargs.get("theme") == NO_THEME:
        decision, kwargs = "reject", {k: v for k, v in kwargs.items() if k not in ("theme", "polarity")}
    try:
        result = loaders.decide(keys, decision, **kwargs)
    except Exception as exc:  # noqa: BLE001 - shown to the researcher, the page stays up
        say("error", str(exc))
    else:
        say("success", f"Saved: {decision} on {result.stored} segment(s) by {loaders.user().name}. The coder, "
                       f"retrained on {result.trained_on} decision(s), re-ranked the queue in {result.seconds:.1f} s.")


def call(action, *args, done: str, widgets: tuple[str, ...] = ()) -> None:
    """Button callback for the QA and double-coding writes; ``widgets`` are read at click time and passed after ``args``."""
    try:
        out = action(*args, *(st.session_state.get(w) for w in widgets))
    except Exception as exc:  # noqa: BLE001 - shown to the researcher
        say("error", str(exc))
    else:
        say("success", done.format(out=out))


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
        known = confidence is not None and not pd.isna(confidence)
        parts.append("suggested by the machine" + (f" (confidence {confidence:.2f})" if known else ""))
    elif isinstance(status, str):
        parts.append(status + (f" by {by}" if by else ""))
    return " · ".join(parts)


def suggestion(row: dict) -> str:
    theme = row.get("suggested_theme")
    if not isinstance(theme, str):
        return f"no theme (its best guess has confidence {row.get('theme_confidence', 0):.2f})"
    polarity = row.get("suggested_polarity")
    confidence = row.get("polarity_confidence")
    known = isinstance(confidence, float) and not pd.isna(confidence)
    pol = f" · {polarity}" + (f" ({confidence:.2f})" if known else "") if isinstance(polarity, str) else ""
    return f"**{theme_label(theme)}** ({row.get('theme_confidence', 0):.2f}){pol}"


def theme_and_polarity(prefix: str, theme: str | None = None, polarity: str | None = None, *,
                       allow_none: bool = True) -> None:
    options = ([NO_THEME] if allow_none else []) + list(names)
    c = st.columns(2)
    c[0].selectbox("Theme", options, format_func=lambda t: t if t == NO_THEME else theme_label(t),
                   index=options.index(theme) if theme in options else 0, key=f"{prefix}-theme")
    c[1].selectbox("Polarity", list(s.POLARITIES),
                   index=list(s.POLARITIES).index(polarity) if polarity in s.POLARITIES else 0, key=f"{prefix}-polarity")


def picked(prefix: str) -> tuple[str | None, str | None]:
    theme = st.session_state.get(f"{prefix}-theme")
    return (None, None) if theme in (None, NO_THEME) else (theme, st.session_state.get(f"{prefix}-polarity"))


message = st.session_state.pop("review-message", None)
if message:
    getattr(st, message[0])(message[1])

queue_tab, missed_tab, qa_tab, double_tab, bulk, history = st.tabs(
    ["Queue", "Missed evidence", "QA sample", "Double coding", "In bulk", "Who decided what"])

# --------------------------------------------------------------------------- the queue that learns
with queue_tab:
    study = loaders.study()
    c = st.columns(4)
    status = c[0].selectbox("Show", [api.UNREVIEWED, api.REVIEWED, "all", "machine", api.UNCODED], key="review-status")
    theme = c[1].selectbox("Theme", [None, *names], format_func=theme_label, key="review-theme")
    place = c[2].selectbox("Place", [None, *study.places], format_func=lambda p: p or "(any)", key="review-place")
    paths = sorted(loaders.segments()[s.PATH].dropna().unique())
    source = c[3].selectbox("Source", [None, *paths], format_func=lambda p: p or "(any)", key="review-source")
    queue = loaders.review_queue(status=status, theme=theme, place=place, source=source, k=20)
    session = loaders.review_session()
    st.caption(f"Most useful first: the coder (retrained on {session.trained_on} decision(s)) is least sure of these, "
               "or its evidence disagrees; spread over themes and places. Segments waiting in a QA sample or a "
               "double-coding batch are kept out until they are coded blind.")
    if queue.empty:
        st.success("Nothing left to review with these filters.")
    else:
        position = int(st.number_input(f"Segment (of {len(queue)})", 1, len(queue), 1, key="review-position")) - 1
        row = queue.iloc[min(position, len(queue) - 1)].to_dict()
        key = row[s.SEGMENT_KEY]
        with st.container(border=True):
            quote_text(row[s.TEXT])
            reference_box(row[api.REFERENCE])
        st.markdown(f"**Current coding:** {describe_coding(row)}")
        st.markdown(f"**The coder now suggests:** {suggestion(row)}")
        st.caption(f"Why now: {row['reasons']} (priority {row['priority']:.2f}) · segment key {key}")
        if is_transcript(row):
            with st.expander("The turns around it"):
                context_table(key)
        others = loaders.codings()
        others = others[others[s.SEGMENT_KEY] == key]
        if len(others) > 1:
            st.caption("All codings: " + "; ".join(f"{theme_label(t)} ({p})" for t, p in zip(others[s.THEME],
                                                                                               others[s.POLARITY])))
        if researcher:
            note_key = f"review-note-{key}"
            st.text_input("Note (saved with the decision)", key=note_key)
            with st.container(horizontal=True):
                st.button("Accept", key="review-accept", type="primary", disabled=not isinstance(row[s.THEME], str),
                          on_click=decide, args=([key], "accept", {"note": note_key}),
                          help=None if isinstance(row[s.THEME], str) else "Nothing to accept: recode it instead.")
                st.button("Reject", key="review-reject", on_click=decide, args=([key], "reject", {"note": note_key}))
            with st.container(border=True):
                st.markdown("**Or recode it** (filled in with the coder's suggestion)")
                start_theme = row["suggested_theme"] if isinstance(row.get("suggested_theme"), str) else row[s.THEME]
                start_polarity = row["suggested_polarity"] if isinstance(row.get("suggested_polarity"), str) else (
                    row[s.POLARITY])
                r = st.columns(3)
                r[0].selectbox("Recode as theme", list(names), format_func=theme_label,
                               index=list(names).index(start_theme) if start_theme in names else 0,
                               key=f"review-theme-{key}")
                r[1].selectbox("Polarity", list(s.POLARITIES),
                               index=list(s.POLARITIES).index(start_polarity) if start_polarity in s.POLARITIES else 0,
                               key=f"review-polarity-{key}")
                r[2].checkbox("Good practice", value=False, key=f"review-gp-{key}")
                st.button("Recode", key="review-recode", on_click=decide,
                          args=([key], "recode", {"theme": f"review-theme-{key}", "polarity": f"review-polarity-{key}",
                                                  "note": note_key, "good_practice": f"review-gp-{key}"}))
        decided = loaders.decisions()
        decided = decided[decided[s.SEGMENT_KEY] == key]
        if not decided.empty:
            st.markdown("**Decisions on this segment** (latest last)")
            st.dataframe(decided[[s.CODER, s.DECISION, s.THEME, s.POLARITY, s.NOTE, s.CREATED_AT]], hide_index=True)
        comment_box(key=f"review-{key}", segment_key=key)
        with st.expander("Next in the queue"):
            nxt = queue.iloc[position + 1: position + 11]
            st.dataframe(nxt.assign(suggested=nxt["suggested_theme"].map(lambda t: theme_label(t) if isinstance(t, str)
                                                                         else NO_THEME))
                         [[api.REFERENCE, "suggested", "suggested_polarity", "priority", "reasons"]], hide_index=True)
    if researcher:
        with st.expander("Accept the surest codings of one theme"):
            b = st.columns(2)
            bulk_theme = b[0].selectbox("Theme", list(names), format_func=theme_label, key="review-bulk-theme")
            floor = b[1].slider("Confidence at least", 0.5, 1.0, HIGH_CONFIDENCE, 0.01, key="review-bulk-confidence")
            sure = loaders.bulk_candidates(bulk_theme, floor)
            st.caption(f"{len(sure)} unreviewed machine coding(s) of {theme_label(bulk_theme)} at or above {floor:.2f} "
                       "that the retrained coder still reads the same way.")
            if not sure.empty:
                st.dataframe(sure[[api.REFERENCE, s.POLARITY, s.CONFIDENCE, s.TEXT]].head(50), hide_index=True)

            def accept_theme(theme_id: str, minimum: float) -> None:
                try:
                    result = loaders.bulk_accept(theme_id, minimum)
                except Exception as exc:  # noqa: BLE001
                    say("error", str(exc))
                else:
                    say("success", f"Accepted {result.stored} coding(s) of {theme_label(theme_id)}; queue re-ranked "
                                   f"in {result.seconds:.1f} s.")

            st.button(f"Accept {len(sure)}", key="review-bulk-theme-accept", disabled=sure.empty,
                      on_click=accept_theme, args=(bulk_theme, floor))

# --------------------------------------------------------------------------- recall
with missed_tab:
    missed = loaders.missed_evidence(k=50)
    st.caption("Participant segments the coder left uncoded that are probably codable: its best theme is just under "
               "its threshold, or they read like passages people coded. Reviewing them measures what the machine misses.")
    if missed.empty:
        st.success("No uncoded segment is waiting.")
    else:
        labels = {k: f"{r} · suggested {theme_label(t) if isinstance(t, str) else NO_THEME} ({c:.2f})"
                  for k, r, t, c in zip(missed[s.SEGMENT_KEY], missed[api.REFERENCE], missed["suggested_theme"],
                                        missed["codability"])}
        chosen = st.selectbox("Segment", list(labels), format_func=labels.get, key="missed-pick")
        row = missed.set_index(s.SEGMENT_KEY).loc[chosen]
        with st.container(border=True):
            quote_text(row[s.TEXT])
            reference_box(row[api.REFERENCE])
        if researcher:
            theme_and_polarity(f"missed-{chosen}", row["suggested_theme"], None)
            st.button("Save", key="missed-save", on_click=decide,
                      args=([chosen], "add", {"theme": f"missed-{chosen}-theme", "polarity": f"missed-{chosen}-polarity"}))
    st.markdown("**Find passages like this one**")
    like = st.text_area("A quote (or leave empty to use the segment chosen above)", key="similar-text")
    if st.button("Find similar passages", key="similar-find"):
        try:
            found = loaders.similar_passages(text=like or None, segment_key=None if like else (
                st.session_state.get("missed-pick")))
        except Exception as exc:  # noqa: BLE001
            st.error(str(exc))
        else:
            st.dataframe(found[["similarity", api.REFERENCE, s.THEME, s.POLARITY, s.STATUS, s.TEXT]], hide_index=True)

# --------------------------------------------------------------------------- quality assurance
with qa_tab:
    samples = blind_loaders.qa_samples()
    report = loaders.validation()
    qa = report.qa
    st.caption("A random sample per theme (and of uncoded segments), coded blind: you code each passage before seeing "
               "the machine's code. From it the machine's precision and recall, with 95% intervals.")
    if researcher:
        with st.expander("Draw a QA sample" if samples.empty else "Draw a new QA sample", expanded=samples.empty):
            d = st.columns(3)
            width = d[0].slider("Interval width at most", 0.1, 0.5, 0.3, 0.05, key="qa-width",
                                help="0.3 means each theme's precision is known to within about ±15 points.")
            expected = d[1].slider("Accuracy you expect", 0.5, 0.95, 0.5, 0.05, key="qa-expected",
                                   help="0.5 is the most cautious (largest) sample.")
            d[2].number_input("Seed", 0, 10**6, 1, key="qa-seed")
            plan = blind_loaders.qa_plan(width, expected)
            st.dataframe(plan.assign(stratum=plan[s.STRATUM].map(lambda t: theme_label(t) if t in names else
                                                                  "(left uncoded)")), hide_index=True)
            st.button(f"Draw {int(plan['size'].sum())} segments", key="qa-draw", on_click=call,
                      args=(blind_loaders.draw_qa_sample,),
                      kwargs={"done": "Drew QA sample {out}.", "widgets": ("qa-width", "qa-expected", "qa-seed")})
    if not samples.empty:
        sample_id = str(samples.iloc[0][s.SAMPLE_ID])
        pending = blind_loaders.qa_pending(sample_id)
        planned = blind_loaders.qa_size(sample_id)
        st.progress(1 - len(pending) / planned if planned else 1.0,
                    text=f"QA sample {sample_id}: {planned - len(pending)} of {planned} coded blind")
        if researcher and not pending.empty:
            key = pending.iloc[0][s.SEGMENT_KEY]
            item = loaders.segments_by_keys([key]).iloc[0].to_dict()
            with st.container(border=True):
                quote_text(item[s.TEXT])
                reference_box(item[api.REFERENCE])
            st.caption("Blind: the machine's coding is shown only after you save yours.")
            theme_and_polarity("qa")

            def save_qa(sid: str, segment_key: str) -> None:
                theme_id, polarity = picked("qa")
                machine = blind_loaders.qa_machine_coding(sid, segment_key)
                call(blind_loaders.record_qa_coding, sid, segment_key, theme_id, polarity,
                     done=f"Saved blind. You: {theme_label(theme_id) if theme_id else NO_THEME}"
                          f"{' · ' + polarity if theme_id else ''}; the machine had: "
                          f"{theme_label(machine[0]) if machine[0] else NO_THEME}"
                          f"{' · ' + str(machine[1]) if machine[0] else ''}.")

            st.button("Save blind coding", key="qa-save", type="primary", on_click=save_qa, args=(sample_id, key))
    if qa is not None and qa.coded:
        m = st.columns(4)
        m[0].metric("Theme right", f"{100 * qa.theme_accuracy.value:.0f}%",
                    help=qa.theme_accuracy.text())
        m[1].metric("Polarity right", f"{100 * qa.polarity_accuracy.value:.0f}%" if qa.polarity_accuracy.known else "n/a",
                    help=qa.polarity_accuracy.text())
        m[2].metric("Kappa (theme)", f"{qa.theme_kappa:.2f}" if qa.theme_kappa == qa.theme_kappa else "n/a")
        m[3].metric("Coded blind", f"{qa.coded}/{qa.planned}")
        table = qa.themes.assign(theme=qa.themes[s.THEME].map(theme_label),
                                 precision=qa.themes["precision"].map(lambda e: e.text()),
                                 recall=qa.themes["recall"].map(lambda e: e.text()))
        st.dataframe(table[[s.THEME, "machine", "precision", "recall"]], hide_index=True)
        st.dataframe(qa.polarity.assign(precision=qa.polarity["precision"].map(lambda e: e.text()),
                                        recall=qa.polarity["recall"].map(lambda e: e.text())), hide_index=True)

# --------------------------------------------------------------------------- double coding
with double_tab:
    st.caption("Two people code the same segments without seeing each other's codes; their agreement is reported "
               "(kappa and alpha), and a researcher settles each disagreement.")
    if researcher:
        with st.expander("Assign a batch to two people"):
            a = st.columns(4)
            a[0].text_input("First coder", value=loaders.user().name, key="double-a")
            a[1].text_input("Second coder", key="double-b")
            a[2].number_input("Segments", 1, 500, 30, key="double-size")
            a[3].number_input("Seed", 0, 10**6, 1, key="double-seed")
            st.button("Assign", key="double-assign", on_click=call, args=(blind_loaders.assign_double_coding,),
                      kwargs={"done": "Assigned batch {out}.",
                              "widgets": ("double-a", "double-b", "double-size", "double-seed")})
        mine = blind_loaders.double_pending()
        if not mine.empty:
            batch, key = mine.iloc[0][s.BATCH_ID], mine.iloc[0][s.SEGMENT_KEY]
            st.markdown(f"**Your double coding** ({len(mine)} left, batch {batch})")
            item = loaders.segments_by_keys([key]).iloc[0].to_dict()
            with st.container(border=True):
                quote_text(item[s.TEXT])
                reference_box(item[api.REFERENCE])
            theme_and_polarity("double")

            def save_double(batch_id: str, segment_key: str) -> None:
                theme_id, polarity = picked("double")
                call(blind_loaders.record_double_coding, batch_id, segment_key, theme_id, polarity, done="Saved (blind).")

            st.button("Save my coding", key="double-save", on_click=save_double, args=(batch, key))
    for result in loaders.validation().double:
        st.markdown(f"**Batch {result.batch_id}** ({' and '.join(result.coders)}): {result.coded_by_both} of "
                    f"{result.assigned} coded by both")
        if result.coded_by_both:
            k = st.columns(3)
            k[0].metric("Theme kappa", f"{result.theme_kappa:.2f}" if result.theme_kappa == result.theme_kappa else "n/a")
            k[1].metric("Theme alpha", f"{result.theme_alpha:.2f}" if result.theme_alpha == result.theme_alpha else "n/a")
            k[2].metric("Disagreements resolved", f"{result.resolved}/{len(result.disagreements)}")
        if not result.disagreements.empty:
            st.dataframe(result.disagreements, hide_index=True)
            open_ = result.disagreements[result.disagreements["resolved_by"].isna()]
            if researcher and not open_.empty:
                key = st.selectbox("Resolve", list(open_[s.SEGMENT_KEY]), key=f"double-resolve-pick-{result.batch_id}")
                quote_text(loaders.segments_by_keys([key]).iloc[0][s.TEXT])
                theme_and_polarity(f"resolve-{result.batch_id}")

                def save_resolution(batch_id: str, segment_key: str) -> None:
                    theme_id, polarity = picked(f"resolve-{batch_id}")
                    call(blind_loaders.resolve_disagreement, batch_id, segment_key, theme_id, polarity, done="Resolved.")

                st.button("Save the resolution", key=f"double-resolve-{result.batch_id}", on_click=save_resolution,
                          args=(result.batch_id, key))

# --------------------------------------------------------------------------- in bulk, history
with bulk:
    listed = loaders.review_queue(status=api.UNREVIEWED, k=0)
    page_size = loaders.PAGE_SIZE * 2
    pages = max(1, -(-len(listed) // page_size))
    page = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key="review-bulk-page"))
    shown = listed.iloc[(page - 1) * page_size : page * page_size].assign(
        theme_name=lambda f: f[s.THEME].map(lambda t: theme_label(t) if isinstance(t, str) else None))
    table = shown[[s.SEGMENT_KEY, "theme_name", s.POLARITY, s.CONFIDENCE, s.STATUS, s.PLACE, s.TEXT]]
    chosen_rows = st.dataframe(table, hide_index=True, width="stretch", key="review-bulk-table",
                               on_select="rerun", selection_mode="multi-row") if researcher else st.dataframe(
        table, hide_index=True, width="stretch")
    if researcher:
        rows = list(chosen_rows.selection.rows) if chosen_rows is not None else []
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
        st.caption("Every decision is kept; the latest on a segment wins. 'context' says where it was made "
                   "(review queue, QA sample, double coding, resolution); 'blind' that the machine's code was hidden.")
        st.dataframe(decided.iloc[::-1][[s.CREATED_AT, s.CODER, s.DECISION, s.SEGMENT_KEY, s.THEME, s.POLARITY,
                                         s.CONTEXT, s.BLIND, s.NOTE]], hide_index=True, width="stretch")

background.prepare_review_coder()  # after the page is drawn: the coder the first decision needs, in the background
