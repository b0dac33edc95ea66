"""Serve the Streamlit dashboard on a study, answering only the browsers it should.

``toolkit dashboard [STUDY]`` serves on this machine only (127.0.0.1) with no sign-in.
``--host 0.0.0.0`` (or any address other than loopback) shares it on the network: then
everyone signs in (names and passwords from :mod:`toolkit.auth`, or organisational single
sign-on, :mod:`toolkit.signin`), and the server refuses to start while nobody could.

How: Streamlit 1.67 runs on Starlette and uvicorn and offers ``st.App``, an ASGI app that
takes extra routes and middleware (its supported extension point; no private code is
patched). ``toolkit dashboard`` builds one and runs it **in its own process** (no child
process), so stopping the command by Ctrl+C, SIGTERM or SIGKILL stops the server with it.
In front of Streamlit, :class:`GuardMiddleware`

* refuses any HTTP request or websocket whose ``Host`` is not this dashboard's address
  (``127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT`` when local: a web page on another
  site that re-points its name at 127.0.0.1, "DNS rebinding", gets 403), and any websocket or
  cross-site request whose ``Origin`` is not the dashboard's own;
* adds a Content-Security-Policy that lets pages load and connect to this server only (and
  never be framed), so nothing a page shows can make the browser ask another site for anything;
* when sign-in is needed, sends page loads without a session to ``/toolkit/sign-in``.

The dashboard reads the store only; starting it changes nothing in the study.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from toolkit import auth, signin
from toolkit.config import StudyConfig
from toolkit.errors import ConfigError

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Guard",
    "GuardMiddleware",
    "build_app",
    "dashboard_app_path",
    "dashboard_command",
    "dashboard_env",
    "is_loopback",
    "local_guard",
    "serve_dashboard",
    "shared_guard",
    "sign_in_routes",
]

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
AUTH_ENV = "TOOLKIT_AUTH"
SIGN_IN_PATH = "/toolkit/sign-in"
SIGN_OUT_PATH = "/toolkit/sign-out"
SSO_QUERY = "sso"
# Streamlit's own paths: assets, the websocket, uploads, media, its st.login routes. Never redirected to sign-in.
_NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/", "/toolkit/", "/auth/", "/oauth2callback",
              "/favicon.png", "/manifest.json")
CSP = (
    "default-src 'self' data: blob:; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-src 'self' blob: data:; worker-src 'self' blob:; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)
_SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cross-origin-opener-policy": b"same-origin",
}


def is_loopback(host: str) -> bool:
    """True if ``host`` is only reachable from this machine (``localhost``, 127.0.0.0/8, ``::1``).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: may resolve beyond this machine


def dashboard_app_path() -> Path:
    """``dashboards/app.py`` of the repository the toolkit is installed from (editable install).

    Examples
    --------
    >>> dashboard_app_path().name  # doctest: +SKIP
    'app.py'
    """
    app = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
    if not app.is_file():
        raise ConfigError(
            f"{app}: the dashboard's entry page is missing. The dashboard runs from a checkout of the repository "
            "installed with `pip install -e .` (what `make run` does); reinstall from the repository root."
        )
    return app


def _check_port(port: int) -> int:
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"dashboard port {port!r}: expected a number from 1 to 65535, such as 8501.")
    return port


def _check_host(host: str) -> str:
    if not isinstance(host, str) or not host.strip():
        raise ConfigError("dashboard host is empty: use 127.0.0.1 (this machine) or 0.0.0.0 (the network).")
    return host.strip()


def dashboard_command(study_root: str | Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The command line that serves the dashboard on ``study_root`` (``python -m toolkit dashboard ...``).

    Examples
    --------
    >>> dashboard_command("interviews", port=8502)[1:4]  # doctest: +SKIP
    ['-m', 'toolkit', 'dashboard']
    """
    return [sys.executable, "-m", "toolkit", "dashboard", str(Path(study_root).resolve()),
            "--host", _check_host(host), "--port", str(_check_port(port))]


def _needs_sign_in(host: str, env: Mapping[str, str]) -> bool:
    return not is_loopback(host) or env.get(AUTH_ENV, "").strip().lower() == "required"


def dashboard_env(host: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the dashboard runs with when served on ``host``.

    When sign-in is needed (beyond loopback, or ``TOOLKIT_AUTH=required``), ``TOOLKIT_AUTH=required``
    is set (overriding ``off``), the users and sign-in files are pinned, and serving is refused while
    nobody could sign in (no users and no single sign-on).

    Examples
    --------
    >>> dashboard_env("127.0.0.1", {}).get("TOOLKIT_AUTH") is None
    True
    """
    env = dict(os.environ if base is None else base)
    if not _needs_sign_in(host, env):
        return env
    users = _env_path(env, auth.USERS_ENV, auth.users_path)
    sign_in = _env_path(env, signin.SIGN_IN_ENV, lambda: users.parent / "sign-in.toml")
    settings = signin.load_sign_in(sign_in, environ=env)
    if not auth.list_users(path=users) and settings.sso is None:
        raise ConfigError(
            f"refusing to share the dashboard on {host}: nobody can sign in, {users} has no users and {sign_in} sets "
            "up no single sign-on. Add a user first with `toolkit users add NAME --role researcher` (reviewers: "
            "`--role reviewer`), or serve on this machine only with `--host 127.0.0.1`."
        )
    env[AUTH_ENV] = "required"
    env[auth.USERS_ENV] = str(users)
    env[signin.SIGN_IN_ENV] = str(sign_in)
    return env


def _env_path(env: Mapping[str, str], name: str, default) -> Path:
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else default()


# --- who may talk to the server ------------------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    """The addresses the dashboard answers at.

    ``hosts`` are exact ``host:port`` values of the ``Host`` header (local), or host names whose
    port is not checked (shared: a TLS proxy in front answers on 443). ``origins`` are the exact
    ``scheme://host:port`` a websocket or cross-site request may come from; when shared, a request
    may also come from its own ``Host`` (the page it was served on).
    """

    hosts: frozenset[str]
    origins: frozenset[str]
    exact: bool

    def host_allowed(self, host: str | None) -> bool:
        if not host or any(c in host for c in "/@?#\\ ") or len(host) > 255:
            return False
        host = host.lower()
        if self.exact:
            return host in self.hosts
        try:
            name = urlsplit("//" + host).hostname
        except ValueError:
            return False
        return bool(name) and name in self.hosts

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        if not origin or not self.host_allowed(host):
            return False
        origin = origin.lower().rstrip("/")
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        return not self.exact and parts.scheme in ("http", "https") and parts.netloc == host.lower()


def local_guard(port: int) -> Guard:
    """This machine only: ``127.0.0.1:PORT``, ``localhost:PORT`` and ``[::1]:PORT``, exactly.

    Examples
    --------
    >>> guard = local_guard(8501)
    >>> guard.host_allowed("127.0.0.1:8501"), guard.host_allowed("attacker.example:8501")
    (True, False)
    >>> guard.origin_allowed("http://localhost:8501", "localhost:8501"), guard.origin_allowed(
    ...     "http://localhost:3000", "localhost:8501")
    (True, False)
    """
    names = ["127.0.0.1", "localhost", "[::1]"]
    hosts = {f"{name}:{port}" for name in names} | (set(names) if port == 80 else set())
    return Guard(hosts=frozenset(hosts), origins=frozenset(f"http://{h}" for h in hosts), exact=True)


def _machine_names(bound: str) -> set[str]:
    """This machine's names and addresses (no network requests: the local interfaces and resolver)."""
    names = {"localhost", "127.0.0.1", "::1", socket.gethostname().lower(), socket.getfqdn().lower()}
    try:
        import psutil

        for addresses in psutil.net_if_addrs().values():
            names.update(a.address.split("%")[0].lower() for a in addresses if a.family in (socket.AF_INET,
                                                                                             socket.AF_INET6))
    except Exception:  # best effort; people can set url instead
        log.debug("could not list this machine's addresses", exc_info=True)
    if bound not in ("0.0.0.0", "::"):
        names.add(bound.strip("[]").lower())
    return {name for name in names if name}


def shared_guard(host: str, settings: signin.SignInSettings) -> Guard:
    """Shared on the network: the settings' ``url`` host and this machine's own names and addresses.

    Examples
    --------
    >>> guard = shared_guard("0.0.0.0", signin.SignInSettings(url="https://dash.example.org"))
    >>> guard.host_allowed("dash.example.org"), guard.host_allowed("attacker.example")
    (True, False)
    """
    names = _machine_names(host)
    origins = set()
    if settings.url:
        names.add(urlsplit(settings.url).hostname)
        origins.add(settings.url.lower())
    return Guard(hosts=frozenset(names), origins=frozenset(origins), exact=False)


class GuardMiddleware:
    """ASGI middleware: refuses foreign Host/Origin, adds security headers, sends page loads to sign-in.

    ``session_ok(cookies) -> bool`` says whether a request carries a session (only asked when
    ``sign_in`` is true).
    """

    def __init__(self, app, *, guard: Guard, sign_in: bool = False, session_ok=None) -> None:
        self.app = app
        self.guard = guard
        self.sign_in = sign_in
        self.session_ok = session_ok or (lambda cookies: False)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import Headers

        headers = Headers(scope=scope)
        host, origin = headers.get("host"), headers.get("origin")
        if scope["type"] == "websocket":
            if not self.guard.origin_allowed(origin, host):
                log.warning("refused a websocket from another site (Host %r, Origin %r)", host, origin)
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        if not self.guard.host_allowed(host):
            log.warning("refused a request for another site's name (Host %r)", host)
            await self._plain(send, 403, "This dashboard does not answer to that address. Open it at the address "
                                         "`toolkit dashboard` printed.")
            return
        if origin is not None and origin != "null" and not self.guard.origin_allowed(origin, host):
            log.warning("refused a cross-site request (Origin %r)", origin)
            await self._plain(send, 403, "Requests from other sites are refused.")
            return
        if self.sign_in and self._page_without_session(scope, headers):
            target = SIGN_IN_PATH + "?next=" + quote(scope.get("path") or "/", safe="/")
            await self._redirect(send, target)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _SECURITY_HEADERS.items() if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _page_without_session(self, scope, headers) -> bool:
        path = scope.get("path") or "/"
        if scope.get("method") not in ("GET", "HEAD") or path.startswith(_NOT_PAGES):
            return False
        if "text/html" not in headers.get("accept", ""):
            return False
        query = scope.get("query_string", b"").decode("latin-1")
        if any(part.split("=")[0] == SSO_QUERY for part in query.split("&")):
            return False  # on its way to single sign-on (the page calls st.login)
        from starlette.requests import cookie_parser

        return not self.session_ok(cookie_parser(headers.get("cookie", "")))

    @staticmethod
    async def _plain(send, status: int, text: str) -> None:
        body = text.encode("utf-8")
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            *_SECURITY_HEADERS.items()]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _redirect(send, target: str) -> None:
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", target.encode("latin-1")), (b"content-length", b"0"), (b"cache-control", b"no-store"),
            *_SECURITY_HEADERS.items()]})
        await send({"type": "http.response.body", "body": b""})


# --- the sign-in pages ----------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Sign in · Qualitative toolkit</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7f9; color: #1c1e21; margin: 0; }}
main {{ max-width: 24rem; margin: 8vh auto; background: #fff; padding: 2rem; border-radius: .5rem;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
label {{ display: block; margin: 1rem 0 .3rem; font-weight: 600; }}
input {{ width: 100%; box-sizing: border-box; padding: .55rem; font-size: 1rem; border: 1px solid #999;
        border-radius: .3rem; }}
button, .sso {{ margin-top: 1.4rem; width: 100%; padding: .65rem; font-size: 1rem; border: 0; border-radius: .3rem;
          background: #0072B2; color: #fff; cursor: pointer; display: block; text-align: center;
          text-decoration: none; box-sizing: border-box; }}
.sso {{ background: #1c1e21; }}
.error {{ background: #fdecea; color: #8a1c0c; padding: .7rem; border-radius: .3rem; margin-top: 1rem; }}
.note {{ color: #555; font-size: .9rem; }}
</style></head>
<body><main>
<h1>Sign in</h1>
<p class="note">This dashboard is shared over the network, so it needs to know who you are.</p>
{message}
{form}
{sso}
</main></body></html>
"""
_FORM = """<form method="post" action="{action}" autocomplete="on">
<input type="hidden" name="next" value="{next}">
<label for="name">Name</label><input id="name" name="name" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"""


def _safe_next(value: object) -> str:
    text = value if isinstance(value, str) else "/"
    if not text.startswith("/") or text.startswith("//") or "\\" in text or any(ord(c) < 32 for c in text):
        return "/"
    return text


@dataclass
class _SignInState:
    settings: signin.SignInSettings
    users_path: Path
    signer: signin.SessionSigner
    revoked: signin.RevokedSessions
    throttle: signin.SignInThrottle

    def session(self, token: str | None) -> signin.Session | None:
        session = self.signer.read(token)
        if session is None or session.sid in self.revoked:
            return None
        entry = auth.user_fingerprint(session.name, path=self.users_path)
        return session if entry is not None and entry[1] == session.fingerprint else None


def _page(state: _SignInState, *, next_path: str = "/", message: str = "", status: int = 200, headers=None):
    from starlette.responses import HTMLResponse

    try:
        has_users = bool(auth.list_users(path=state.users_path))
    except ConfigError as exc:  # the details (a path on the server) go to the server's log, not the network
        log.error("dashboard sign-in: %s", exc)
        has_users, message = False, "Signing in with a password is not possible now: ask whoever runs the dashboard."
    form = _FORM.format(action=SIGN_IN_PATH, next=html.escape(next_path)) if has_users else ""
    sso = ""
    if state.settings.sso is not None:
        sso = (f'<a class="sso" href="/?{SSO_QUERY}=1">Sign in with {html.escape(state.settings.sso.label)}</a>')
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    body = _PAGE.format(message=shown, form=form, sso=sso)
    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store", **(headers or {})})


def sign_in_routes(state: _SignInState) -> list:
    """The Starlette routes of password sign-in (``/toolkit/sign-in``) and sign-out (``/toolkit/sign-out``)."""
    from anyio import to_thread
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    async def show(request):
        return _page(state, next_path=_safe_next(request.query_params.get("next")))

    async def submit(request):
        form = await request.form()
        name, password = str(form.get("name") or ""), str(form.get("password") or "")
        next_path = _safe_next(form.get("next"))
        if not request.headers.get("origin"):  # a browser always sends Origin with a form post
            return _page(state, next_path=next_path, message="Sign in from the dashboard's own page.", status=403)
        if not name.strip() or not password:
            return _page(state, next_path=next_path, message="Enter your name and password.", status=400)
        address = request.client.host if request.client else None
        attempt = state.throttle.begin(name, address)
        if isinstance(attempt, signin.Refusal):
            log.warning("dashboard sign-in refused: too many failures (%s)", attempt.which)
            return _page(state, next_path=next_path, message=attempt.message, status=429,
                         headers={"retry-after": str(max(1, round(attempt.retry_after)))})
        try:
            user = await to_thread.run_sync(lambda: auth.verify(name, password, path=state.users_path))
            entry = auth.user_fingerprint(user.name, path=state.users_path) if user else None
        except ConfigError as exc:
            log.error("dashboard sign-in: %s", exc)
            return _page(state, next_path=next_path, status=503)
        if user is None or entry is None:
            return _page(state, next_path=next_path, status=401,
                         message="Name or password not recognised. Check both and try again.")
        state.throttle.succeeded(attempt)
        token, _ = state.signer.issue(user.name, entry[1])
        log.info("dashboard sign-in (%s)", user.role)
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(signin.SESSION_COOKIE, token, max_age=int(state.signer.max_age_seconds), path="/",
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        response.headers["cache-control"] = "no-store"
        return response

    async def sign_out(request):
        session = state.session(request.cookies.get(signin.SESSION_COOKIE))
        if session is not None:
            state.revoked.revoke(session)
        response = RedirectResponse(SIGN_IN_PATH, status_code=303)
        response.delete_cookie(signin.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return [Route(SIGN_IN_PATH, show, methods=["GET"]), Route(SIGN_IN_PATH, submit, methods=["POST"]),
            Route(SIGN_OUT_PATH, sign_out, methods=["GET", "POST"])]


def sign_in_state(settings: signin.SignInSettings, users_path: Path, *, clock=None) -> _SignInState:
    """The pieces the sign-in routes and the pages share (one signer, revocation list and throttle)."""
    secret = signin.server_secret(settings.folder)
    signer = signin.SessionSigner(secret, max_age_seconds=settings.session_hours * 3600)
    throttle = signin.SignInThrottle(settings.limits, **({"clock": clock} if clock else {}))
    return _SignInState(settings, users_path, signer, signin.revoked_sessions(settings.folder), throttle)


# --- the app and the process ---------------------------------------------------------------------


def _sso_cookie_name() -> str:
    # Streamlit's st.login identity cookie: only its presence is checked here (Streamlit verifies it).
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

    return USER_COOKIE_NAME


def build_app(study_root: str | Path, *, host: str, port: int, env: Mapping[str, str]):
    """The ``st.App`` serving the dashboard on ``study_root``, guarded, with sign-in when ``env`` asks for it."""
    import streamlit as st
    from starlette.middleware import Middleware

    app_path = dashboard_app_path()
    if _needs_sign_in(host, env):
        settings = signin.load_sign_in(Path(env[signin.SIGN_IN_ENV]), environ=env)
        state = sign_in_state(settings, Path(env[auth.USERS_ENV]))
        # With sign-in, the names people (or a TLS proxy in front) use are answered too, even on loopback.
        guard = shared_guard(host, settings)
        sso_cookie = _sso_cookie_name()

        def session_ok(cookies: Mapping[str, str]) -> bool:
            return state.session(cookies.get(signin.SESSION_COOKIE)) is not None or (
                settings.sso is not None and sso_cookie in cookies)

        cookie_secret = signin.derive_key(signin.server_secret(settings.folder), "streamlit auth")
        return st.App(app_path, routes=sign_in_routes(state), secrets=settings.streamlit_secrets(cookie_secret),
                      middleware=[Middleware(GuardMiddleware, guard=guard, sign_in=True, session_ok=session_ok)]), guard
    guard = local_guard(port)
    return st.App(app_path, middleware=[Middleware(GuardMiddleware, guard=guard)]), guard


def run_config(host: str, port: int, guard: Guard, url: str | None = None) -> dict:
    """Streamlit's settings for ``App.run``: bound where asked, no telemetry, no file watching."""
    shown = urlsplit(url).hostname if url else ("127.0.0.1" if is_loopback(host) else socket.gethostname())
    names = sorted({urlsplit("//" + h).hostname or h for h in guard.hosts} if guard.exact else guard.hosts)
    return {
        "server.address": host,
        "server.port": port,
        "server.headless": True,
        "server.allowedHosts": [n.strip("[]") for n in names],  # Streamlit's own websocket check, as well as ours
        "server.enableCORS": True,
        "server.enableXsrfProtection": True,
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        "server.enableAgentApi": False,
        "browser.gatherUsageStats": False,
        "browser.serverAddress": shown,  # printed; also keeps Streamlit from asking the internet for our address
        "client.toolbarMode": "minimal",  # no "Deploy" button, no developer menu
    }


def _run_app(app, config: Mapping, study_root: Path) -> None:
    # App.run treats sys.argv[0] as the launcher and hands the rest to the page as its arguments.
    sys.argv = [str(dashboard_app_path()), "--study", str(study_root)]
    app.run(config=dict(config))


def serve_dashboard(config: StudyConfig, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve the dashboard on ``config``'s study in this process until stopped (Ctrl+C, SIGTERM).

    Examples
    --------
    >>> serve_dashboard(load_config("interviews"))  # doctest: +SKIP
    """
    host, port = _check_host(host), _check_port(port)
    env = dashboard_env(host)
    study_root = Path(config.root).resolve()
    app, guard = build_app(study_root, host=host, port=port, env=env)
    os.environ.clear()
    os.environ.update(env)
    os.environ["TOOLKIT_STUDY"] = str(study_root)
    url = None
    if env.get(AUTH_ENV) == "required":
        url = signin.load_sign_in(Path(env[signin.SIGN_IN_ENV]), environ=env).url
        if not is_loopback(host) and not (url or "").startswith("https://"):
            log.warning("the dashboard is served over plain HTTP: names, passwords and pseudonymised text cross the "
                        "network unencrypted. Put it behind an HTTPS reverse proxy (README, 'Deployment').")
    where = "on the network, sign-in required" if env.get(AUTH_ENV) == "required" else "on this machine only"
    log.info("serving the dashboard for %s at http://%s:%s (%s)", study_root, host, port, where)
    _run_app(app, run_config(host, port, guard, url), study_root)
    return 0
