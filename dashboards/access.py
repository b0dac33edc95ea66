"""Who is using the dashboard, and with which role.

Two cases:

* **On this machine only** (``toolkit dashboard``, bound to 127.0.0.1, ``TOOLKIT_AUTH``
  unset or ``off``): no sign-in. The user is a local researcher named by ``TOOLKIT_USER``
  or the operating-system account.
* **Shared** (``toolkit dashboard --host 0.0.0.0`` sets ``TOOLKIT_AUTH=required``): people sign
  in before any page runs, either with a name and password on the server's sign-in page
  (``/toolkit/sign-in``, :mod:`toolkit.serve`; it sets a signed, expiring, HttpOnly session
  cookie, so a reload keeps them signed in) or through their organisation's single sign-on
  (Streamlit's ``st.login``, OpenID Connect; :mod:`toolkit.signin` maps them to a role).
  A "Sign out" button sits in the sidebar.

The entry page calls :func:`current_user` once, **before** ``st.navigation`` (while nobody is
signed in, a sign-in page is the only page); pages hide what the role may not do (reviewers read
and comment; they do not accept, reject or recode).

Tests can skip the sign-in by putting a :class:`~toolkit.auth.User` in
``st.session_state["toolkit_user"]`` before the run (AppTest's ``at.session_state``).
"""

from __future__ import annotations

import getpass
import ipaddress
import logging
import os
import time
from collections.abc import Mapping

import streamlit as st

from toolkit import auth, signin
from toolkit.auth import User
from toolkit.errors import ConfigError

__all__ = ["SESSION_KEY", "User", "auth_required", "current_user", "log_out"]

log = logging.getLogger(__name__)

SESSION_KEY = "toolkit_user"
_SIGNED_OUT_KEY = "toolkit_signed_out"
AUTH_ENV = "TOOLKIT_AUTH"
USER_ENV = "TOOLKIT_USER"
SIGN_IN_URL = "/toolkit/sign-in"
SIGN_OUT_URL = "/toolkit/sign-out"


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
    """True when a sign-in is needed: ``TOOLKIT_AUTH=required``, or the server is bound beyond localhost.

    ``TOOLKIT_AUTH=off`` turns the sign-in off only while the server listens on a loopback address.
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
def _sign_in():
    """The server's sign-in settings, session signer and revocation list (shared with its routes)."""
    from toolkit.serve import sign_in_state

    return sign_in_state(signin.load_sign_in(), auth.users_path())


def _request_cookies() -> Mapping[str, str]:
    """The cookies the browser sent when it opened this session's websocket."""
    try:
        return st.context.cookies or {}
    except Exception:  # noqa: BLE001 - no browser (AppTest)
        return {}


def _sso_claims() -> dict:
    """The signed-in person's OpenID Connect claims (``st.user``), or ``{}``."""
    try:
        claims = st.user.to_dict()
    except Exception:  # noqa: BLE001 - no [auth] secrets: single sign-on is off
        return {}
    return claims if claims.get("is_logged_in") else {}


def log_out() -> None:
    """Sign this browser session out (the password session is revoked on the server too)."""
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[_SIGNED_OUT_KEY] = True
    try:
        state = _sign_in()
        session = state.session(_request_cookies().get(signin.SESSION_COOKIE))
        if session is not None:
            state.revoked.revoke(session)
    except ConfigError:
        pass


def _still_valid(user: User) -> User | None:
    """The user as the users file has them now (a removed user is signed out, a new role applies)."""
    try:
        for entry in auth.list_users():
            if entry["name"] == user.name:
                return User(name=user.name, role=entry["role"])
    except ConfigError:
        return None
    return None


def _link(label: str, href: str) -> None:
    # target=_self: the server's sign-in pages are ordinary pages of this site, not new tabs.
    st.markdown(f'<a href="{href}" target="_self">{label}</a>', unsafe_allow_html=True)


def _gate(body) -> None:
    """Show only ``body`` as the page, whatever address was asked for, and stop the script.

    The page is registered with ``st.navigation`` on purpose: a script run that never calls
    ``st.navigation`` makes Streamlit fall back to listing every file in a ``pages/`` folder beside
    the entry script as a page of its own, run directly at ``/NAME`` without this check. The app's
    pages therefore live in ``dashboards/views/``, which Streamlit never lists by itself.
    """
    st.navigation([st.Page(body, title="Sign in", url_path="sign-in", default=True)], position="hidden").run()
    st.stop()


def _not_signed_in() -> None:
    st.title("Sign in")
    if st.session_state.get(_SIGNED_OUT_KEY):
        st.success("You have signed out.")
    else:
        st.caption("This dashboard is shared over the network, so it needs to know who you are.")
    _link("Sign in", SIGN_OUT_URL)  # clears any old session cookie, then shows the sign-in page


def _no_role(identity: str):
    def page() -> None:
        st.title("No access")
        st.error(f"You signed in as {identity or 'someone'}, but that account has no role on this dashboard. Ask "
                 "whoever runs it to add you, then sign in again.")
        st.button("Sign out", key="toolkit_sso_sign_out", on_click=st.logout)

    return page


def _sso_expired(claims: Mapping, hours: float) -> bool:
    """Streamlit keeps a single sign-on for 30 days; here it lasts ``session_hours`` from the provider's sign-in."""
    issued = claims.get("iat")
    return not isinstance(issued, (int, float)) or time.time() - issued > hours * 3600


def _sso_expired_page() -> None:
    st.title("Sign in")
    st.info("Your sign-in has ended. Sign in again to go on.")
    st.button("Sign in again", key="toolkit_sso_again", on_click=st.login, args=(signin.SSO_PROVIDER,))


def _sidebar(user: User, *, sso: bool) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        # A callback, not `if st.button(...)`: with st.navigation a button drawn before the page runs
        # did not report its click in the browser (Streamlit 1.67); callbacks run before the script.
        st.button("Sign out", key="toolkit_log_out", on_click=st.logout if sso else log_out)


def current_user() -> User:
    """The user of this browser session; shows a sign-in page and stops the script until there is one.

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
        return injected if isinstance(injected, User) else _local_user()
    if isinstance(injected, User):  # the tests' hook
        user = _still_valid(injected)
        if user is not None:
            st.session_state[SESSION_KEY] = user
            _sidebar(user, sso=False)
            return user
        st.session_state.pop(SESSION_KEY, None)
        st.warning("Your account was removed or changed; please sign in again.")
    try:
        state = _sign_in()
    except ConfigError as exc:  # the details (paths on the server) go to the server's log, not the network
        log.error("dashboard sign-in unavailable: %s", exc)
        st.error("Signing in is not possible: the server's sign-in settings cannot be read. Ask whoever runs the "
                 "dashboard to check the server's log.")
        st.stop()
    if not st.session_state.get(_SIGNED_OUT_KEY):
        session = state.session(_request_cookies().get(signin.SESSION_COOKIE))
        if session is not None:
            entry = auth.user_fingerprint(session.name, path=state.users_path)
            if entry is not None:
                user = User(name=session.name, role=entry[0])
                _sidebar(user, sso=False)
                return user
    sso = state.settings.sso
    claims = _sso_claims() if sso is not None else {}
    if claims and _sso_expired(claims, state.settings.session_hours):
        _gate(_sso_expired_page)
    if claims:
        user, identity = signin.sso_user(claims, sso)
        if user is None:
            log.info("single sign-on without a role on this dashboard")
            _gate(_no_role(identity))
        _sidebar(user, sso=True)
        return user
    if sso is not None and st.query_params.get("sso"):
        st.login(signin.SSO_PROVIDER)
        st.stop()
    _gate(_not_signed_in)
    raise AssertionError("unreachable: the sign-in gate stops the script")  # pragma: no cover
