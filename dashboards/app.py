"""The study dashboard: ``streamlit run dashboards/app.py [-- --study PATH]``.

The study folder comes from ``--study PATH`` after ``--``, else ``$TOOLKIT_STUDY``,
else the sample study ``interviews/``. Who is signed in comes from
``dashboards/access.py`` (``current_user()``); without it the dashboard runs for
one local researcher, unless ``TOOLKIT_AUTH=required``, when it shows nothing. Pages
live in ``views/`` (never ``pages/``: Streamlit would list a ``pages/`` folder by itself
whenever a run stops before ``st.navigation``, around the login). Pages only lay out
widgets; data comes through ``loaders``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # streamlit adds it; AppTest and other runners may not
    sys.path.insert(0, str(HERE))

import background  # noqa: E402
import loaders  # noqa: E402

# A local image: a ":material/...:" icon would make every page ask fonts.gstatic.com for it.
st.set_page_config(page_title="Qualitative toolkit", page_icon=str(HERE / "favicon.png"), layout="wide")

try:
    from access import auth_required, current_user
except ModuleNotFoundError as exc:  # only a missing access module falls back; other errors surface
    if exc.name != "access":
        raise

    def current_user() -> loaders.LocalUser:
        return loaders.user()  # a local researcher, or a stopped page when TOOLKIT_AUTH=required

    def auth_required() -> bool:
        return False


# Forget last run's user first: while the login form shows (current_user() stops the run), nobody is signed in.
st.session_state.pop(loaders.USER_KEY, None)
st.session_state[loaders.USER_KEY] = current_user()

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("views/themes.py", title="Themes", icon=":material/grid_on:"),
    st.Page("views/remedies.py", title="Barrier to remedy", icon=":material/compare_arrows:"),
    st.Page("views/quotes.py", title="Quotes", icon=":material/format_quote:"),
    st.Page("views/topics.py", title="Topics", icon=":material/bubble_chart:"),
    st.Page("views/surveys.py", title="Surveys", icon=":material/bar_chart:"),
    st.Page("views/review.py", title="Review", icon=":material/fact_check:"),
    st.Page("views/good_practice.py", title="Good practice", icon=":material/thumb_up:"),
    st.Page("views/memos.py", title="Memos", icon=":material/sticky_note_2:"),
    st.Page("views/export.py", title="Export", icon=":material/download:"),
]
page = st.navigation(PAGES)
with st.sidebar:
    if not auth_required():  # when shared, access.py shows who is signed in above its Log out button
        person = loaders.user()
        st.caption(f"Signed in as **{person.name}** ({person.role})")
    st.caption(f"Study folder: `{loaders.study_path()}`")
try:
    with background.ACTIVITY.drawing():  # background work (the review coder's warm-up) gives way meanwhile
        page.run()
except Exception as exc:  # a store that stays busy is a message with "Try again", never a traceback
    if not loaders.show_if_busy(exc):
        raise
else:
    background.read_ahead()  # once per server: the costliest frames, built while nobody waits for a page
