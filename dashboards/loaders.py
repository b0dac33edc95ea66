"""The dashboard's only door to the data: cached loaders over :mod:`toolkit.api`.

Every number and citation comes from the toolkit's read model (:mod:`toolkit.analysis`, through
:class:`toolkit.api.Study`), so the pages show what the workbook and the report say; pages only
lay it out. One cached loader per table. Each is keyed by the study folder and the store's
change stamp (:meth:`toolkit.api.Study.stamp`), so a decision saved by anyone
shows on the next rerun without clearing caches by hand. The :class:`Study`
(config, store connection, codebook) is a cached resource, made once per process.
Writes (decisions, summaries, curation, comments, topic edits, exports) go
through here too. No language model is ever loaded by the dashboard.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from toolkit import api
from toolkit import schema as s
from toolkit.analysis.matrix import cooccurring_participants, cooccurring_segments
from toolkit.analysis.quotes import theme_sizes as count_themes
from toolkit.analysis.segments import by_keys
from toolkit.errors import ToolkitError

RESEARCHER, REVIEWER = s.ROLES
STUDY_ENV = "TOOLKIT_STUDY"
AUTH_ENV = "TOOLKIT_AUTH"
USER_KEY = "user"
"""Where app.py puts the signed-in user for this script run (``access.current_user()``)."""
STUDY_ARG = "--study"
PAGE_SIZE = 25
"""Quotes per page in every list of quotes."""


@dataclass(frozen=True)
class LocalUser:
    """The user when ``dashboards/access.py`` is not installed: one local researcher."""

    name: str = "local researcher"
    role: str = RESEARCHER


# --------------------------------------------------------------------------- who and which study
def study_arg(argv: list[str] | None = None) -> str | None:
    """The study folder from ``streamlit run dashboards/app.py -- --study PATH``, else ``$TOOLKIT_STUDY``."""
    argv = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(argv):
        if arg == STUDY_ARG and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(STUDY_ARG + "="):
            return arg.split("=", 1)[1]
    return os.environ.get(STUDY_ENV) or None


NO_STUDY = ("No study chosen. Start the dashboard with `toolkit dashboard PATH`, or "
            "`streamlit run dashboards/app.py -- --study PATH`, or set TOOLKIT_STUDY=PATH.")


def study_path() -> str:
    """The study folder this dashboard shows; the page says how to choose one when none was given.

    Never a silent fallback to the sample study: a researcher who forgot the folder would otherwise
    review, and write decisions into, the wrong study.
    """
    from toolkit.config import find_study

    chosen = study_arg()
    if not chosen:
        st.error(NO_STUDY)
        st.stop()
    try:
        return str(find_study(chosen))
    except ToolkitError as exc:
        st.error(f"The study cannot be opened: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers calm


def _login_required() -> bool:
    try:
        from access import auth_required
    except ModuleNotFoundError as exc:
        if exc.name != "access":
            raise
        return os.environ.get(AUTH_ENV, "").strip().lower() == "required"
    return auth_required()


def user() -> Any:
    """The signed-in user (set by app.py from ``access.current_user``).

    Without one, the dashboard falls back to one local researcher only while no login is
    required; when it is (``TOOLKIT_AUTH=required``, or served beyond this machine) the page
    stops instead, so nothing is ever shown or written as a researcher by default.
    """
    person = st.session_state.get(USER_KEY)
    if person:
        return person
    if _login_required():
        st.stop()
    return LocalUser()


def is_researcher() -> bool:
    """Whether the user may decide, edit, curate and export (reviewers read and comment)."""
    return getattr(user(), "role", None) == RESEARCHER


@st.cache_resource(show_spinner="Opening the study…")
def _study(path: str) -> api.Study:
    study = api.open_study(path)
    study.codebook  # noqa: B018 - read once per process, not on a page's first paint
    return study


def study() -> api.Study:
    """The open study; a problem opening it is shown on the page, which then stops."""
    try:
        return _study(study_path())
    except ToolkitError as exc:
        st.error(f"The study cannot be opened: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers calm


def stamp() -> str:
    """The store's change stamp (changes with every write)."""
    return study().stamp()


def command(stage: str) -> str:
    """The command line that runs ``stage`` on this study, e.g. ``toolkit topics interviews``."""
    root = Path(study_path())
    try:
        shown = root.relative_to(Path.cwd())
    except ValueError:
        shown = root
    return f"toolkit {stage} {shown}"


# --------------------------------------------------------------------------- cached reads
@st.cache_data(show_spinner="Reading segments…", max_entries=4)
def _segments(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).segments()


@st.cache_data(show_spinner=False, max_entries=4)
def _codings(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).codings()


@st.cache_data(show_spinner=False, max_entries=8)
def _matrix(path: str, stamp: str, rows: str) -> pd.DataFrame:
    return _study(path).framework_matrix(rows=rows)


@st.cache_data(show_spinner=False, max_entries=8)
def _theme_counts(path: str, stamp: str, by: str) -> pd.DataFrame:
    return _study(path).theme_counts(by=by)


@st.cache_data(show_spinner=False, max_entries=8)
def _cooccurrence(path: str, stamp: str, unit: str) -> pd.DataFrame:
    return _study(path).cooccurrence(unit=unit)


@st.cache_data(show_spinner=False, max_entries=4)
def _likert_percentages(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).likert_percentages()


@st.cache_data(show_spinner=False, max_entries=4)
def _text_answers(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).text_answers()


@st.cache_data(show_spinner=False, max_entries=4)
def _topics(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).topics()


@st.cache_data(show_spinner=False, max_entries=8)
def _topic_distribution(path: str, stamp: str, by: str) -> pd.DataFrame:
    return _study(path).topic_distribution(by=by)


@st.cache_data(show_spinner=False, max_entries=4)
def _candidate_themes(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).candidate_themes()


@st.cache_data(show_spinner=False, max_entries=8)
def _place_view(path: str, stamp: str, by: str) -> pd.DataFrame:
    return _study(path).place_view(by=by)


@st.cache_data(show_spinner=False, max_entries=4)
def _topic_relations(path: str, stamp: str) -> pd.Series:
    return _study(path).topic_relations()


@st.cache_data(show_spinner=False, max_entries=4)
def _review_progress(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).review_progress()


@st.cache_data(show_spinner=False, max_entries=8)
def _good_practice(path: str, stamp: str, include_excluded: bool) -> pd.DataFrame:
    return _study(path).good_practice(include_excluded=include_excluded)


@st.cache_data(show_spinner=False, max_entries=4)
def _decisions(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).decisions()


@st.cache_data(show_spinner=False, max_entries=4)
def _comments(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).comments()


@st.cache_data(show_spinner=False, max_entries=4)
def _status(path: str, stamp: str) -> api.StudyStatus:
    return _study(path).status()


@st.cache_data(show_spinner=False, max_entries=4)
def _orphaned_work(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).orphaned_work()


@st.cache_data(show_spinner=False, max_entries=512)
def _context(path: str, stamp: str, segment_key: str, window: int) -> pd.DataFrame:
    return _study(path).context(segment_key, window=window)


def segments() -> pd.DataFrame:
    """Every evidence segment with its resolved coding, topic and review status."""
    return _segments(study_path(), stamp())


def codings() -> pd.DataFrame:
    """Resolved codings, one row per segment × theme."""
    return _codings(study_path(), stamp())


def framework_matrix(rows: str = s.PLACE) -> pd.DataFrame:
    return _matrix(study_path(), stamp(), rows)


def theme_counts(by: str = s.PLACE) -> pd.DataFrame:
    return _theme_counts(study_path(), stamp(), by)


def cooccurrence(unit: str = "segment") -> pd.DataFrame:
    return _cooccurrence(study_path(), stamp(), unit)


def likert_percentages() -> pd.DataFrame:
    return _likert_percentages(study_path(), stamp())


def text_answers() -> pd.DataFrame:
    return _text_answers(study_path(), stamp())


def topics() -> pd.DataFrame:
    return _topics(study_path(), stamp())


def topic_distribution(by: str = s.PLACE) -> pd.DataFrame:
    return _topic_distribution(study_path(), stamp(), by)


def candidate_themes() -> pd.DataFrame:
    return _candidate_themes(study_path(), stamp())


def place_view(by: str = s.PLACE) -> pd.DataFrame:
    return _place_view(study_path(), stamp(), by)


def topic_relations() -> pd.Series:
    return _topic_relations(study_path(), stamp())


def review_progress() -> pd.DataFrame:
    return _review_progress(study_path(), stamp())


def good_practice(include_excluded: bool = False) -> pd.DataFrame:
    return _good_practice(study_path(), stamp(), include_excluded)


def decisions() -> pd.DataFrame:
    """Every human decision, oldest first: who decided what, and when."""
    return _decisions(study_path(), stamp())


def comments() -> pd.DataFrame:
    return _comments(study_path(), stamp())


def status() -> api.StudyStatus:
    return _status(study_path(), stamp())


def orphaned_work() -> pd.DataFrame:
    """Human work whose passage is no longer in the study (kept, listed, never dropped)."""
    return _orphaned_work(study_path(), stamp())


def context(segment_key: str, window: int = 2) -> pd.DataFrame:
    return _context(study_path(), stamp(), segment_key, window)


def theme_names() -> dict[str, str]:
    """``theme id -> name`` in codebook order."""
    return study().theme_names()


def quotes(**filters: Any) -> pd.DataFrame:
    """Segments narrowed in memory (no SQL): see :func:`toolkit.api.filter_quotes`."""
    return api.filter_quotes(segments(), codings(), **filters)


def segments_by_keys(keys: list[str]) -> pd.DataFrame:
    """The segments behind a number, in the order given."""
    return by_keys(segments(), list(keys))


def cooccurring(theme_a: str, theme_b: str) -> tuple[list[str], list[str]]:
    """The segments coded with both themes, and the participants coded with both (behind a co-occurrence cell)."""
    frame = codings()
    return cooccurring_segments(frame, theme_a, theme_b), cooccurring_participants(frame, theme_a, theme_b)


def theme_sizes(frame: pd.DataFrame) -> pd.Series:
    """Segments per primary theme of ``frame``, largest first, uncoded last (:func:`toolkit.analysis.quotes.theme_sizes`)."""
    return count_themes(frame)


# --------------------------------------------------------------------------- writes
def record_decisions(keys: list[str], decision: str, **kwargs: Any) -> int:
    """Append a decision by the signed-in researcher on one or more segments."""
    _need_researcher()
    return study().record_decisions(keys, decision=decision, coder=user().name, **kwargs)


def add_summary(row_dimension: str, row_value: str, theme: str, text: str) -> int:
    _need_researcher()
    return study().add_summary(row_dimension=row_dimension, row_value=row_value, theme=theme, text=text,
                               author=user().name)


def curate_practice(segment_key: str, included: bool, **kwargs: Any) -> int:
    _need_researcher()
    return study().curate_practice(segment_key, included=included, author=user().name, **kwargs)


def add_comment(text: str, **kwargs: Any) -> int:
    """Anyone signed in may comment; the comment records their role."""
    return study().add_comment(text, author=user().name, author_role=getattr(user(), "role", REVIEWER), **kwargs)


def edit_topics(action: str, **kwargs: Any) -> Any:
    """Rename, merge or split topics (through the write model; merges and splits re-fit the topics)."""
    _need_researcher()
    current = study()
    if action == "rename":
        return current.rename_topic(kwargs["topic"], name=kwargs["label"], author=user().name)
    if action == "merge":
        return current.merge_topics(kwargs["topics"], name=kwargs.get("label"), author=user().name)
    if action == "split":
        return current.split_topic(kwargs["topic"], parts=kwargs.get("parts", 2), author=user().name)
    raise ValueError(f"Unknown topic edit {action!r}: rename, merge or split.")


def add_topic_to_codebook(topic: int, *, as_: str = "theme", parent: str | None = None,
                          name: str | None = None) -> Any:
    """Append a topic to the study's codebook as a draft theme or sub-theme (researchers only)."""
    _need_researcher()
    return study().add_topic_to_codebook(topic, author=user().name, as_=as_, parent=parent, name=name)


def export_bytes(path: str, fmt: str, out_name: str) -> bytes:
    """Write one export into a temporary folder and return its bytes (several files come zipped).

    Meant for ``st.download_button(data=functools.partial(export_bytes, ...))``: it runs when the
    button is pressed, on another thread, so it reads no session state; the page decides who sees
    which button.
    """
    with tempfile.TemporaryDirectory(prefix="toolkit-export-") as tmp:
        files = _study(path).export(fmt, Path(tmp) / out_name)
        if len(files) == 1:
            return Path(files[0]).read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, Path(file).name)
        return buffer.getvalue()


def matrix_csv(rows: str) -> bytes:
    """The framework matrix as CSV, with the segment keys behind every cell."""
    _need_researcher()
    frame = framework_matrix(rows).copy()
    frame[api.SEGMENT_KEYS] = frame[api.SEGMENT_KEYS].map(lambda keys: " ".join(keys))
    return frame.to_csv(index=False).encode("utf-8-sig")


def _need_researcher() -> None:
    if not is_researcher():
        raise PermissionError("Only researchers can do this; reviewers read and comment.")
