"""Who is using the dashboard, and with which role.

Two cases:

* **On this machine only** (``toolkit dashboard``, bound to 127.0.0.1, ``TOOLKIT_AUTH``
  unset or ``off``): no login. The user is a local researcher named by ``TOOLKIT_USER``
  or the operating-system account.
* **Served beyond this machine** (``toolkit dashboard --host 0.0.0.0`` sets
  ``TOOLKIT_AUTH=required``): a login form checked against the users file
  (:mod:`toolkit.auth`); the page stops until someone logs in. A log-out button sits in
  the sidebar. After five failed attempts for a name, each further attempt waits longer.

The entry page calls :func:`current_user` once, **before** ``st.navigation`` (while nobody is
logged in, the login page is the only page); pages hide what the role may not do (reviewers read
and comment; they do not accept, reject or recode).

Tests can skip the form by putting a :class:`~toolkit.auth.User` in
``st.session_state["toolkit_user"]`` before the run (AppTest's ``at.session_state``).
"""

from __future__ import annotations

import getpass
import ipaddress
import logging
import os
import threading
import time

import streamlit as st

from toolkit import auth
from toolkit.auth import User
from toolkit.errors import ConfigError

__all__ = ["User", "current_user", "auth_required", "log_out", "SESSION_KEY"]

log = logging.getLogger(__name__)

SESSION_KEY = "toolkit_user"
_FAILED_KEY = "toolkit_login_failures"
AUTH_ENV = "TOOLKIT_AUTH"
USER_ENV = "TOOLKIT_USER"
FREE_ATTEMPTS = 5
MAX_DELAY_S = 30.0


def _is_loopback(host: str | None) -> bool:
    if not host:
        return True  # unset: Streamlit's default; the launcher always sets it
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_required() -> bool:
    """True when a login is needed: ``TOOLKIT_AUTH=required``, or the server is bound beyond localhost.

    ``TOOLKIT_AUTH=off`` turns the login off only while the server listens on a loopback address.
    """
    setting = os.environ.get(AUTH_ENV, "").strip().lower()
    if setting == "required":
        return True
    try:
        address = st.get_option("server.address")
    except Exception:  # noqa: BLE001 - no config (raw mode): treat as local
        address = None
    return not _is_loopback(address)


def _local_user() -> User:
    name = os.environ.get(USER_ENV, "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name in some containers
            name = "researcher"
    return User(name=name, role="researcher")


@st.cache_resource
def _failures() -> tuple[threading.Lock, dict[str, int]]:
    """Failed attempts per name, shared by every browser session of this server.

    Each session also counts its own failures (``_FAILED_KEY``), so trying many names from
    one browser slows down as well; the larger of the two counts sets the delay.
    """
    return threading.Lock(), {}


def _delay_for(failures: int) -> float:
    if failures < FREE_ATTEMPTS:
        return 0.0
    return min(2.0 ** (failures - FREE_ATTEMPTS + 1), MAX_DELAY_S)


def log_out() -> None:
    """Forget the logged-in user of this browser session."""
    st.session_state.pop(SESSION_KEY, None)


def _still_valid(user: User) -> User | None:
    """The user as the users file has them now (a removed user is logged out, a new role applies)."""
    try:
        for entry in auth.list_users():
            if entry["name"] == user.name:
                return User(name=user.name, role=entry["role"])
    except ConfigError:
        return None
    return None


def _login_gate() -> None:
    """Show only the login page, whatever address was asked for, and stop the script.

    The login page is registered with ``st.navigation`` on purpose: a script run that never
    calls ``st.navigation`` makes Streamlit fall back to listing every file in a ``pages/`` folder
    beside the entry script as a page of its own, run directly at ``/NAME`` without this check.
    The app's pages therefore live in ``dashboards/views/``, which Streamlit never lists by itself.
    """
    st.navigation([st.Page(_login_form, title="Log in", url_path="login", default=True)], position="hidden").run()
    st.stop()


def _login_form() -> None:
    _, middle, _ = st.columns([1, 2, 1])  # a narrow form, also in the app's wide layout
    with middle:
        _login_form_body()


def _login_form_body() -> None:
    st.title("Log in")
    st.caption("This dashboard is shared over the network, so it needs your name and password.")
    try:
        has_users = bool(auth.list_users())
    except ConfigError as exc:  # the details (a path on the server) go to the server's log, not the network
        log.error("dashboard login unavailable: %s", exc)
        st.error("Logging in is not possible: the server's users file cannot be read. Ask whoever runs the "
                 "dashboard to check the server's log.")
        st.stop()
    if not has_users:
        st.error("No users are set up on the server yet. Whoever runs the dashboard should run "
                 "`toolkit users add NAME --role researcher` there, then reload this page.")
        st.stop()
    with st.form("login", clear_on_submit=True):
        name = st.text_input("Name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        st.stop()
    lock, failures = _failures()
    key = name.strip().lower()
    with lock:
        count = max(failures.get(key, 0), st.session_state.get(_FAILED_KEY, 0))
    delay = _delay_for(count)
    if delay:
        with st.spinner(f"Too many failed attempts; waiting {delay:.0f} seconds before checking..."):
            time.sleep(delay)
    user = auth.verify(name, password) if name.strip() and password else None
    if user is None:
        with lock:
            failures[key] = failures.get(key, 0) + 1
        st.session_state[_FAILED_KEY] = st.session_state.get(_FAILED_KEY, 0) + 1
        st.error("Name or password not recognised. Check both and try again.")
        st.stop()
    with lock:
        failures.pop(key, None)
    st.session_state.pop(_FAILED_KEY, None)
    st.session_state[SESSION_KEY] = user
    log.info("dashboard login (%s)", user.role)
    st.rerun()


def _sidebar(user: User) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        # A callback, not `if st.button(...)`: with st.navigation a button drawn before the page runs
        # did not report its click in the browser (Streamlit 1.67); callbacks run before the script.
        st.button("Log out", key="toolkit_log_out", on_click=log_out)


def current_user() -> User:
    """The user of this browser session; shows the login form and stops the page until there is one.

    Returns
    -------
    User
        ``.name`` and ``.role`` (one of :data:`toolkit.schema.ROLES`).

    Examples
    --------
    >>> user = current_user()  # doctest: +SKIP
    >>> if user.role == "researcher":  # doctest: +SKIP
    ...     st.button("Accept")
    """
    injected = st.session_state.get(SESSION_KEY)
    if not auth_required():
        if isinstance(injected, User):
            return injected
        return _local_user()
    if isinstance(injected, User):
        user = _still_valid(injected)
        if user is None:
            log_out()
            st.warning("Your account was removed or changed; please log in again.")
        else:
            if user != injected:
                st.session_state[SESSION_KEY] = user
            _sidebar(user)
            return user
    _login_gate()
    raise AssertionError("unreachable: the login form stops or reruns the script")  # pragma: no cover
