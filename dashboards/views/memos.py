"""Memos: what researchers wrote about the project, cases, themes, matrix cells, sources and passages.

Searchable; every memo keeps its author and time, and reaches every export (the workbook's Memos sheet,
the report's appendix, REFI-QDA notes that NVivo and QualCoder read).
"""

from __future__ import annotations

import streamlit as st

import loaders
from views.common import need_segments, paginate, plain, theme_label
from toolkit import api
from toolkit import schema as s
from toolkit.analysis import columns as cols

SCOPES = {"project": "the project", "case": "a case", "theme": "a theme", "cell": "a matrix cell",
          "source": "a source", "passage": "a passage"}

st.title("Memos")
segments = need_segments("memos")
c = st.columns([3, 2, 2])
search = c[0].text_input("Search memos", key="memo-search")
scope = c[1].selectbox("About", [None, *s.MEMO_SCOPES], format_func=lambda v: "anything" if v is None else SCOPES[v],
                       key="memo-scope")
authors = sorted(set(loaders.memos()[s.AUTHOR].dropna())) if not loaders.memos().empty else []
author = c[2].selectbox("Author", [None, *authors], format_func=lambda v: "anyone" if v is None else v,
                        key="memo-author")
found = loaders.memos(search or None, scope=scope, author=author)
if found.empty:
    st.info("No memos match." if search or scope or author else "No memos yet: researchers write them below, or on a "
            "matrix cell (Themes).")
else:
    st.caption(f"{len(found)} memo(s), newest first.")
    for memo in paginate(found.iloc[::-1], key="memos", noun="memos").to_dict("records"):
        with st.container(border=True):
            title = f"**{plain(memo[s.TITLE])}** · " if isinstance(memo[s.TITLE], str) and memo[s.TITLE] else ""
            st.markdown(f"{title}{plain(memo[cols.ABOUT])}")
            st.markdown(plain(memo[s.TEXT]))
            st.caption(f"{memo[s.AUTHOR]}, {str(memo[s.CREATED_AT])[:16].replace('T', ' ')}")

if loaders.is_researcher():
    st.divider()
    st.subheader("Write a memo")
    about = st.selectbox("About", list(s.MEMO_SCOPES), format_func=SCOPES.get, key="memo-new-scope")
    target: dict = {}
    if about == "case":
        cases = loaders.cases()
        target["participant"] = st.selectbox("Case", list(cases[api.PARTICIPANT]), key="memo-new-case")
    elif about == "theme":
        target["theme"] = st.selectbox("Theme", list(loaders.theme_names()), format_func=theme_label,
                                       key="memo-new-theme")
    elif about == "cell":
        dims = list(loaders.row_dimensions())
        dim = st.selectbox("Rows", dims, key="memo-new-dim")
        values = list(dict.fromkeys(loaders.case_matrix(dim)[dim]))
        target.update(row_dimension=dim, row_value=st.selectbox("Row", values, key="memo-new-row"),
                      theme=st.selectbox("Theme", list(loaders.theme_names()), format_func=theme_label,
                                         key="memo-new-cell-theme"))
    elif about == "source":
        target["path"] = st.selectbox("Source", list(loaders.study().sources()[s.PATH]), key="memo-new-source")
    elif about == "passage":
        query = st.text_input("Find the passage", key="memo-new-find")
        pool = segments[segments[s.TEXT].str.contains(query.strip(), case=False, regex=False)] if query.strip() \
            else segments.head(0)
        if not pool.empty:
            text_of = dict(zip(pool[s.SEGMENT_KEY], pool[s.TEXT].str.slice(0, 90)))
            target["segment_key"] = st.selectbox("Passage", list(pool[s.SEGMENT_KEY].head(100)),
                                                 format_func=lambda k: text_of.get(k, k), key="memo-new-passage")
        else:
            st.caption("Type some words of the passage to find it.")
    with st.form("memo-new", clear_on_submit=True):
        title = st.text_input("Title (optional)")
        text = st.text_area("Memo")
        ready = about != "passage" or "segment_key" in target
        if st.form_submit_button("Save memo", disabled=not ready) and text.strip():
            loaders.add_memo(scope=about, title=title or None, text=text, **target)
            st.success("Memo saved.")
            st.rerun()
