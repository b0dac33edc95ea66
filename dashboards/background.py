"""What the dashboard's server does while nobody waits for a page: the review coder's warm-up and the read
model's costliest frames, built ahead.

Two cores and one GIL: work in a background thread makes a page drawn meanwhile slower for everyone. So
``app.py`` wraps each page run in ``ACTIVITY.drawing()``, and background work waits, step by step, while a
page is drawn (:class:`PageActivity`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence

import streamlit as st

import loaders
from toolkit import api
from toolkit.errors import ToolkitError

log = logging.getLogger(__name__)

PAUSE_AT_MOST = 3.0
"""Seconds background work waits for the pages being drawn before it takes a step anyway."""


class PageActivity:
    """How many page runs this server is drawing now, so that background work can give way to them: ``app.py``
    wraps each page run in :meth:`drawing`; background work calls :meth:`wait_until_idle` between its steps."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._drawing = 0

    @contextlib.contextmanager
    def drawing(self):
        with self._changed:
            self._drawing += 1
        try:
            yield
        finally:
            with self._changed:
                self._drawing -= 1
                self._changed.notify_all()

    def wait_until_idle(self, longest: float = PAUSE_AT_MOST) -> bool:
        """Block while a page is being drawn, at most ``longest`` seconds (background work is never starved);
        True when no page is drawing."""
        deadline = time.monotonic() + longest
        with self._changed:
            while self._drawing and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return not self._drawing


ACTIVITY = PageActivity()
"""This server's page runs (one per process: Streamlit imports this module once)."""


READ_AHEAD = ("segments", "codings", "practices", "barrier_remedies")
"""The read model's costliest frames (:class:`toolkit.api.Study` methods), built ahead once a server has drawn its
first page: at 25,000 segments the first visit to Barrier to remedy otherwise spends about 2.5 s on them."""


def read_ahead_of(study: api.Study, names: Sequence[str] | None = None, wait=None) -> list[str]:
    """Build ``study``'s frames ``names`` (default :data:`READ_AHEAD`) in turn, calling ``wait`` before each;
    returns the names built. A failure ends it (logged without its text): the page that shows that frame reads
    it and says why."""
    built = []
    for name in READ_AHEAD if names is None else names:
        (wait or (lambda: None))()
        try:
            getattr(study, name)()  # kept in the study's memo until the store changes
        except Exception as exc:  # noqa: BLE001 - only ahead of time
            log.warning("reading %s ahead failed (%s); the page that shows it will read it", name, type(exc).__name__)
            break
        built.append(name)
    return built


def _read_ahead_then_queue(path: str, study: api.Study) -> None:
    """The frames, then the review session (one per server, shared by every researcher: the stored codings and
    every segment's vector, about 2 s at 25,000 segments)."""
    if read_ahead_of(study, wait=ACTIVITY.wait_until_idle) == list(READ_AHEAD):
        ACTIVITY.wait_until_idle()
        try:
            loaders.review_session_of(path)  # the Review page's first visit then only ranks
        except Exception as exc:  # noqa: BLE001 - only ahead of time: the Review page builds it and says why
            log.warning("building the review queue ahead failed (%s); the Review page will", type(exc).__name__)


@st.cache_resource
def _reading_ahead(path: str, _study: api.Study) -> threading.Thread:
    thread = threading.Thread(target=_read_ahead_then_queue, args=(path, _study), name="read-ahead", daemon=True)
    thread.start()
    return thread


def read_ahead() -> None:
    """Build the read model's costliest frames, then the review queue, in the background, once per server and
    study, giving way to every page drawn meanwhile (:class:`PageActivity`). Called by ``app.py`` after a page
    has been drawn."""
    if not READ_AHEAD:
        return
    try:
        _reading_ahead(loaders.study_path(), loaders.study())
    except ToolkitError as exc:  # the study cannot be opened now: the pages say so; nothing is read ahead
        log.info("not reading ahead (%s)", type(exc).__name__)


def prepare_review_coder() -> None:
    """Fit the review coder in the background (once), so the first decision re-ranks in seconds. Called at the
    end of the Review page: the warm-up then never competes with drawing the page's first view, and it
    gives way, step by step, to every page drawn while it works (:class:`PageActivity`)."""
    if loaders.is_researcher():
        loaders.review_session().prepare(pause=ACTIVITY.wait_until_idle)
