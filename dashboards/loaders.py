"""The dashboard's only door to the data: cached loaders over :mod:`toolkit.api`.

Every number and citation comes from the toolkit's read model (:mod:`toolkit.analysis`, through
:class:`toolkit.api.Study`), so the pages show what the workbook and the report say; pages only
lay it out. One cached loader per table. Each is keyed by the study folder and the store's
change stamp (:meth:`toolkit.api.Study.stamp`: the change tokens every committed write renews,
one small query), so a decision saved by anyone shows on the next rerun without clearing
caches by hand.

Two :class:`Study` objects are cached resources, made once per process: the pages read through
one whose store is opened read-only (``Store(url, read_only=True)``: it can run no DDL and write
nothing; a store that does not exist yet is opened by the writer instead), and writes
(decisions, summaries, curation, comments, topic edits) go through the write model on a
writer's store. No language model is ever loaded by the dashboard.

A busy store (a run holding SQLite's write lock, a PostgreSQL lock or deadlock) never crashes a
page: reads are tried again with backoff for up to :data:`READ_DEADLINE` seconds, writes of
human work for up to :data:`toolkit.store.busy.WRITE_DEADLINE` (in the store, which only retries
what was rolled back, so nothing is saved twice); then the page says so, with a button to try
again (:func:`show_if_busy`, called by ``app.py`` around every page).
"""

from __future__ import annotations

import functools
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
from toolkit.analysis.matrix import cooccurring_participants, cooccurring_segments, framework_cell
from toolkit.analysis.quotes import theme_sizes as count_themes
from toolkit.analysis.segments import by_keys
from toolkit.errors import ToolkitError
from toolkit.store.busy import StoreBusyError, busy_reason, retry_when_busy

RESEARCHER, REVIEWER = s.ROLES
STUDY_ENV = "TOOLKIT_STUDY"
AUTH_ENV = "TOOLKIT_AUTH"
USER_KEY = "user"
"""Where app.py puts the signed-in user for this script run (``access.current_user()``)."""
STUDY_ARG = "--study"
PAGE_SIZE = 25
"""Quotes per page in every list of quotes."""
READ_DEADLINE = 10.0
"""Seconds a page keeps trying to read a busy store before it says so (with a button to try again)."""
BUSY_RETRY_KEY = "store-busy-retry"


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


@st.cache_resource
def _memo(path: str) -> dict:
    """What the read and the write model of one study share: frames built from the store, each under the
    store's stamp (:meth:`toolkit.api.Study._cached`), so the review queue never builds them again."""
    return {}


@st.cache_resource(show_spinner=False)  # quick; and the server may open it ahead, outside any page
def _writer(path: str) -> api.Study:
    """The study on a writer's store: what decisions, summaries and edits go through (the write model)."""
    opened = api.open_study(path)
    study = api.Study(opened.config, opened.store, memo=_memo(path))
    study.codebook  # noqa: B018 - read once per process, not on a page's first paint
    return study


@st.cache_resource(show_spinner="Opening the study…")
def _study(path: str) -> api.Study:
    """The study as the pages read it: on a read-only store, or the writer's while there is no store yet."""
    from toolkit.config import load_config
    from toolkit.store import Store

    config = load_config(path)
    try:
        store = Store(config.store_url, read_only=True, study=config.root)
    except ToolkitError as exc:
        if busy_reason(exc):
            raise
        return _writer(path)  # no store yet, or a SQLite file its writer brings up to date
    study = api.Study(config, store, memo=_memo(path))
    study.codebook  # noqa: B018
    return study


def study() -> api.Study:
    """The open study (for reading); a problem opening it is shown on the page, which then stops."""
    return _open(_study)


def writer() -> api.Study:
    """The open study on a writer's store (for the write model)."""
    return _open(_writer)


def _open(opener) -> api.Study:
    path = study_path()
    try:
        return retry_when_busy(lambda: opener(path), deadline=READ_DEADLINE, what="opening the study",
                               where=_where(path), then=_AGAIN)
    except StoreBusyError:
        raise
    except ToolkitError as exc:
        st.error(f"The study cannot be opened: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers calm


def stamp() -> str:
    """The store's change stamp (changes with every write)."""
    return study().stamp()


# --------------------------------------------------------------------------- a busy store
_AGAIN = "Press \"Try again\" in a moment."
_NOT_SAVED = "Nothing was saved. A run is probably writing to the store: save again in a moment."


@functools.lru_cache(maxsize=8)
def _where(path: str) -> str:
    """The store's location for messages (a server URL without its password)."""
    try:
        from toolkit.config import load_config
        from toolkit.store.urls import redacted_url, resolve_store_url

        return redacted_url(resolve_store_url(load_config(path).store_url))
    except Exception:  # noqa: BLE001 - only for a message
        return "the project store"


def _read(fn):
    """A loader that tries again with backoff while the store is busy, then raises :class:`StoreBusyError`."""

    @functools.wraps(fn)
    def read(*args, **kwargs):
        return retry_when_busy(lambda: fn(*args, **kwargs), deadline=READ_DEADLINE, what="reading the study",
                               where=_where(study_path()), then=_AGAIN)

    return read


def _write(fn):
    """A write that says "the store is busy, nothing was saved" instead of failing with a database error.

    The store itself tries again while busy (only what was rolled back, so never twice); here a
    busy error that is left becomes a :class:`StoreBusyError` a page shows (the review page in its
    message, the others through :func:`show_if_busy`).
    """

    @functools.wraps(fn)
    def write(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            reason = busy_reason(exc)
            if reason is None:
                raise
            attempts = getattr(exc, "attempts", 0)
            tried = f", still after {attempts} tries" if attempts > 1 else ""
            raise StoreBusyError(f"The study's store at {_where(study_path())} is busy ({reason}{tried}). {_NOT_SAVED}",
                                 reason=reason, attempts=attempts) from None

    return write


def show_if_busy(exc: BaseException) -> bool:
    """Show a busy store's message and a "Try again" button; ``False`` when ``exc`` is another error.

    ``app.py`` calls it around every page: a store that stays busy is a message, never a traceback.
    """
    if busy_reason(exc) is None:
        return False
    message = str(exc) if isinstance(exc, StoreBusyError) else (
        f"The study's store is busy ({busy_reason(exc)}). A run is probably writing to it. {_AGAIN}")
    st.warning(message, icon="⏳")
    st.button("Try again", key=BUSY_RETRY_KEY)  # a click reruns the page
    return True


def command(stage: str) -> str:
    """The command line that runs ``stage`` on this study, e.g. ``toolkit topics interviews``."""
    root = Path(study_path())
    try:
        shown = root.relative_to(Path.cwd())
    except ValueError:
        shown = root
    return f"toolkit {stage} {shown}"


# --------------------------------------------------------------------------- cached reads
# The two frames with a row per segment are kept as they are (st.cache_resource), not pickled and unpickled
# on every call as st.cache_data does (a page asks for them several times a run: at 25,000 segments each
# copy cost about half a second). Callers get a shallow copy: with pandas' copy-on-write, nothing a page
# does to it reaches the kept frame.
@st.cache_resource(show_spinner="Reading segments…", max_entries=4)
def _segments(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).segments()


@st.cache_resource(show_spinner=False, max_entries=4)
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


@_read
def segments() -> pd.DataFrame:
    """Every evidence segment with its resolved coding, topic and review status."""
    return _segments(study_path(), stamp()).copy(deep=False)


@_read
def codings() -> pd.DataFrame:
    """Resolved codings, one row per segment × theme."""
    return _codings(study_path(), stamp()).copy(deep=False)


@_read
def framework_matrix(rows: str = s.PLACE) -> pd.DataFrame:
    return _matrix(study_path(), stamp(), rows)


@_read
def theme_counts(by: str = s.PLACE) -> pd.DataFrame:
    return _theme_counts(study_path(), stamp(), by)


@_read
def cooccurrence(unit: str = "segment") -> pd.DataFrame:
    return _cooccurrence(study_path(), stamp(), unit)


@_read
def likert_percentages() -> pd.DataFrame:
    return _likert_percentages(study_path(), stamp())


@_read
def text_answers() -> pd.DataFrame:
    return _text_answers(study_path(), stamp())


@_read
def topics() -> pd.DataFrame:
    return _topics(study_path(), stamp())


@_read
def topic_distribution(by: str = s.PLACE) -> pd.DataFrame:
    return _topic_distribution(study_path(), stamp(), by)


@_read
def candidate_themes() -> pd.DataFrame:
    return _candidate_themes(study_path(), stamp())


@_read
def place_view(by: str = s.PLACE) -> pd.DataFrame:
    return _place_view(study_path(), stamp(), by)


@_read
def topic_relations() -> pd.Series:
    return _topic_relations(study_path(), stamp())


@_read
def review_progress() -> pd.DataFrame:
    return _review_progress(study_path(), stamp())


@_read
def good_practice(include_excluded: bool = False) -> pd.DataFrame:
    return _good_practice(study_path(), stamp(), include_excluded)


@_read
def decisions() -> pd.DataFrame:
    """Every human decision, oldest first: who decided what, and when."""
    return _decisions(study_path(), stamp())


@_read
def comments() -> pd.DataFrame:
    return _comments(study_path(), stamp())


@_read
def status() -> api.StudyStatus:
    return _status(study_path(), stamp())


@_read
def orphaned_work() -> pd.DataFrame:
    """Human work whose passage is no longer in the study (kept, listed, never dropped)."""
    return _orphaned_work(study_path(), stamp())


@_read
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


# --------------------------------------------------------------------------- framework analysis (issue 15)
@st.cache_data(show_spinner=False, max_entries=16)
def _framework(path: str, stamp: str, rows: str, total: str | None, cases: tuple) -> pd.DataFrame:
    return _study(path).framework_matrix(rows=rows, total=total, cases=dict(cases) or None)


@st.cache_data(show_spinner=False, max_entries=4)
def _cases(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).cases()


@st.cache_data(show_spinner=False, max_entries=4)
def _memos(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).memos()


@st.cache_data(show_spinner="Grouping good-practice passages into practices…", max_entries=4)
def _practices(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).practices()


@st.cache_data(show_spinner=False, max_entries=4)
def _practice_candidates(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).practice_candidates()


@st.cache_data(show_spinner="Setting barriers beside the other places' remedies…", max_entries=4)
def _remedies(path: str, stamp: str) -> pd.DataFrame:
    return _study(path).barrier_remedies()


def case_matrix(rows: str, *, total: str | None = None, cases: dict | None = None) -> pd.DataFrame:
    """The framework matrix by any row dimension (a case attribute too), optionally for some cases only."""
    return _framework(study_path(), stamp(), rows, total, tuple(sorted((cases or {}).items())))


@st.cache_data(show_spinner=False, max_entries=16)
def _framework_cells(path: str, stamp: str, rows: str, total: str | None, cases: tuple, references: bool) -> pd.DataFrame:
    matrix = _framework(path, stamp, rows, total, cases)
    if not references:
        return api.matrix_cells(matrix)
    codings = _codings(path, stamp)
    polarity = dict(zip(codings[s.SEGMENT_KEY], codings[s.POLARITY]))
    frame = matrix.assign(_cell=[framework_cell(r, people=rows != api.PARTICIPANT, polarity_of=polarity,
                                                max_references=3) for r in matrix.to_dict("records")])
    return frame.pivot(index=rows, columns=api.THEME_NAME, values="_cell").reindex(
        index=list(dict.fromkeys(frame[rows])), columns=list(dict.fromkeys(frame[api.THEME_NAME])))


def framework_cells(rows: str, *, total: str | None = None, cases: dict | None = None,
                    references: bool = True) -> pd.DataFrame:
    """The framework matrix as the wide table the Themes page shows: row values × theme names, each cell its
    summary and first references (``references``), else its people and barrier / enabler segments
    (:func:`toolkit.api.matrix_cells`). Kept until the store changes: it is the page's costliest table."""
    return _framework_cells(study_path(), stamp(), rows, total, tuple(sorted((cases or {}).items())), references)


def cases() -> pd.DataFrame:
    """One row per case with its attributes (the study's own manifest columns included)."""
    return _cases(study_path(), stamp())


def row_dimensions() -> tuple[str, ...]:
    """What the framework matrix's rows can be in this study (its case attributes included)."""
    return study().row_dimensions()


def memos(search: str | None = None, **filters: Any) -> pd.DataFrame:
    """Every memo with what it is about; ``search`` and ``scope``/``author``/``theme`` narrow in memory."""
    from toolkit.analysis.memos import search_memos

    return search_memos(_memos(study_path(), stamp()), search, **filters)


def practices() -> pd.DataFrame:
    """Curated practices, then the machine's proposals."""
    return _practices(study_path(), stamp())


def practice_candidates() -> pd.DataFrame:
    """Good-practice passages with why each is not a practice (``screen``), if it is not."""
    return _practice_candidates(study_path(), stamp())


def barrier_remedies() -> pd.DataFrame:
    """Each place's barriers beside the other places' enablers and practices, theme by theme."""
    return _remedies(study_path(), stamp())


@_write
def add_memo(**kwargs: Any) -> int:
    """A memo by the signed-in researcher."""
    _need_researcher()
    return writer().add_memo(author=user().name, **kwargs)


@_write
def save_practice(**kwargs: Any) -> str:
    """Curate a practice (or a new version of one) as the signed-in researcher."""
    _need_researcher()
    return writer().save_practice(author=user().name, **kwargs)


# --------------------------------------------------------------------------- writes
@_write
def record_decisions(keys: list[str], decision: str, **kwargs: Any) -> int:
    """Append a decision by the signed-in researcher on one or more segments."""
    _need_researcher()
    return writer().record_decisions(keys, decision=decision, coder=user().name, **kwargs)


@_write
def add_summary(row_dimension: str, row_value: str, theme: str, text: str) -> int:
    _need_researcher()
    return writer().add_summary(row_dimension=row_dimension, row_value=row_value, theme=theme, text=text,
                                author=user().name)


@_write
def curate_practice(segment_key: str, included: bool, **kwargs: Any) -> int:
    _need_researcher()
    return writer().curate_practice(segment_key, included=included, author=user().name, **kwargs)


@_write
def add_comment(text: str, **kwargs: Any) -> int:
    """Anyone signed in may comment; the comment records their role."""
    return writer().add_comment(text, author=user().name, author_role=getattr(user(), "role", REVIEWER), **kwargs)


@_write
def edit_topics(action: str, **kwargs: Any) -> Any:
    """Rename, merge or split topics (through the write model; merges and splits re-fit the topics)."""
    _need_researcher()
    current = writer()
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
    return writer().add_topic_to_codebook(topic, author=user().name, as_=as_, parent=parent, name=name)


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


def matrix_csv(path: str, rows: str) -> bytes:
    """The framework matrix by ``rows`` as CSV, with the segment keys behind every cell.

    Meant for ``st.download_button(data=functools.partial(matrix_csv, ...))`` like :func:`export_bytes`:
    built when the button is pressed (a study has one matrix per row dimension; building them all on
    the page's first paint took seconds at 25,000 segments), reading no session state.
    """
    frame = _study(path).framework_matrix(rows=rows).copy()
    frame[api.SEGMENT_KEYS] = frame[api.SEGMENT_KEYS].map(lambda keys: " ".join(keys))
    frame["references"] = frame["references"].map(lambda refs: " | ".join(refs))
    return frame.to_csv(index=False).encode("utf-8-sig")


def _need_researcher() -> None:
    if not is_researcher():
        raise PermissionError("Only researchers can do this; reviewers read and comment.")


# --------------------------------------------------------------------------- the review loop (issue 14)
# The review session holds the study's coder, refitted on every decision: one per study and process.
@st.cache_resource(show_spinner=False)  # the page shows its own spinner; the server may also build it ahead
def review_session_of(path: str):
    """The review session of the study at ``path`` (built once per process; any thread may ask for it)."""
    session = _writer(path).review_session()  # it records decisions: the writer's store
    session.refresh()  # from the stored codings when they are current: no fit yet
    return session


def review_session():
    """The study's :class:`toolkit.review.queue.ReviewSession` (shared by everyone using this dashboard)."""
    with st.spinner("Preparing the review queue (loading the coder and the study's sentence vectors)…"):
        return review_session_of(study_path())  # (shown only when it takes more than half a second)


def review_queue(**filters: Any) -> pd.DataFrame:
    """Segments to review, the most useful first (theme, place, source, status filters; see ``ReviewSession.queue``)."""
    return review_session().queue(**filters)


@_write
def decide(keys: list[str], decision: str, **kwargs: Any):
    """A decision by the signed-in researcher through the review session: stored, then the coder refits and re-ranks."""
    _need_researcher()
    return review_session().decide(keys, decision, coder=user().name, **kwargs)


def bulk_candidates(theme: str, min_confidence: float) -> pd.DataFrame:
    return review_session().bulk_candidates(theme, min_confidence=min_confidence)


@_write
def bulk_accept(theme: str, min_confidence: float):
    _need_researcher()
    return review_session().bulk_accept(theme, min_confidence=min_confidence, coder=user().name)


def missed_evidence(k: int = 50) -> pd.DataFrame:
    """Uncoded participant segments that are probably codable, most likely first."""
    return review_session().missed(k=k)


def similar_passages(*, segment_key: str | None = None, text: str | None = None, k: int = 10) -> pd.DataFrame:
    return review_session().similar(segment_key=segment_key, text=text, k=k)


@st.cache_data(show_spinner=False, max_entries=4)
def _validation(path: str, stamp: str):
    return _study(path).validation()


def validation():
    """How much was reviewed and by whom, QA accuracy with intervals, agreement, limitations."""
    return _validation(study_path(), stamp())
