"""Signing in to a shared dashboard: settings, sessions that survive a reload, throttling, single sign-on.

Nothing here runs at import time. The server (:mod:`toolkit.serve`) and the pages
(``dashboards/access.py``) run in one process and share these pieces:

* **Settings** (:func:`load_sign_in`): an optional, hand-edited TOML file beside the users file
  (``~/.config/toolkit/sign-in.toml``, or ``$TOOLKIT_SIGN_IN``), private to its owner::

      url = "https://dashboard.example.org"   # the address people open (behind the TLS proxy)
      session_hours = 12                      # a sign-in lasts this long, across reloads

      [limits]                                # failed sign-ins (defaults shown)
      account_free = 5                        # per name: then waits of 2, 4, 8, 16 s
      account_lockout = 10                    # per name: locked for lockout_minutes, doubling after
      address_free = 20                       # per network address (IPv6: per /64)
      address_lockout = 50
      lockout_minutes = 15

      [sso]                                   # organisational single sign-on (OpenID Connect)
      label = "NHS.net (Microsoft Entra ID)"
      server_metadata_url = "https://login.microsoftonline.com/<tenant id>/v2.0/.well-known/openid-configuration"
      client_id = "<application (client) id>"
      client_secret_env = "TOOLKIT_SSO_CLIENT_SECRET"   # or client_secret = "..." (then chmod 600)
      match = "email"                         # the claim that names a person below
      require = { tid = "<tenant id>" }       # claims that must have exactly these values
      [sso.users]
      "asha.mukherjee@nhs.net" = "researcher"
      [sso.groups]                            # values of the "groups" claim (Entra: group object ids)
      "5b1c…" = "reviewer"

* **Sessions** (:class:`SessionSigner`): a password sign-in sets an HttpOnly, SameSite=Strict
  cookie holding a signed, expiring token (name, a fingerprint of the stored password hash,
  a session id). Changing the password or removing the user ends it; signing out revokes
  the session id (kept in a private file, so a restart does not bring it back).
* **Throttling** (:class:`SignInThrottle`): failed attempts counted per name and per network
  address, never per browser session, and counted *before* the password is checked, so
  parallel attempts cannot slip past; waits grow, then a lockout that doubles.
* **Single sign-on** (:func:`sso_user`): Streamlit's ``st.login`` (OpenID Connect, with
  Authlib) signs people in; their claims map to the researcher or reviewer role.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import stat
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

from toolkit import auth
from toolkit.auth import User
from toolkit.errors import ConfigError
from toolkit.schema import ROLES

__all__ = [
    "SESSION_COOKIE",
    "SIGN_IN_ENV",
    "Attempt",
    "Limits",
    "Refusal",
    "RevokedSessions",
    "SSOSettings",
    "Session",
    "SessionSigner",
    "SignInSettings",
    "SignInThrottle",
    "derive_key",
    "load_sign_in",
    "revoked_sessions",
    "server_secret",
    "sign_in_path",
    "sso_user",
]

log = logging.getLogger(__name__)

SIGN_IN_ENV = "TOOLKIT_SIGN_IN"
SESSION_COOKIE = "toolkit_session"
SSO_PROVIDER = "sso"  # the name of the st.login provider (Streamlit forbids underscores)
_SECRET_NAME = "dashboard.secret"
_REVOKED_NAME = "dashboard-revoked.json"
_TOP_KEYS = {"url", "session_hours", "limits", "sso"}
_SSO_KEYS = {"label", "server_metadata_url", "client_id", "client_secret", "client_secret_env", "match", "require",
             "users", "groups", "groups_claim", "scope"}


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """How many failed sign-ins are allowed, per name and per network address.

    Up to ``*_free`` failures in a row cost nothing (typing mistakes); after that each attempt
    must wait 2, 4, 8... seconds; from ``*_lockout`` failures the name or address is locked for
    ``lockout_minutes``, doubling with each further failure up to a day. A successful sign-in
    clears the name's count. Failures older than a day are forgotten.
    """

    account_free: int = 5
    account_lockout: int = 10
    address_free: int = 20
    address_lockout: int = 50
    lockout_minutes: float = 15.0
    max_lockout_hours: float = 24.0
    forget_hours: float = 24.0


@dataclass(frozen=True)
class SSOSettings:
    """One OpenID Connect provider and who gets which role."""

    label: str
    server_metadata_url: str
    client_id: str
    client_secret: str = field(repr=False)
    match: str = "email"
    require: Mapping[str, str] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)
    groups_claim: str = "groups"
    scope: str = "openid email profile"


@dataclass(frozen=True)
class SignInSettings:
    """Everything the shared dashboard needs to sign people in (:func:`load_sign_in`)."""

    url: str | None = None
    session_hours: float = 12.0
    limits: Limits = field(default_factory=Limits)
    sso: SSOSettings | None = None
    path: Path | None = None

    @property
    def folder(self) -> Path:
        """Where the server's private files live (beside the settings file)."""
        return (self.path or sign_in_path()).parent

    def streamlit_secrets(self, cookie_secret: str) -> dict:
        """The ``[auth]`` secrets ``st.login`` reads, or ``{}`` without single sign-on (kept in memory only)."""
        if self.sso is None or not self.url:
            return {}
        return {
            "auth": {
                "redirect_uri": self.url.rstrip("/") + "/oauth2callback",
                "cookie_secret": cookie_secret,
                SSO_PROVIDER: {
                    "client_id": self.sso.client_id,
                    "client_secret": self.sso.client_secret,
                    "server_metadata_url": self.sso.server_metadata_url,
                    "client_kwargs": {"scope": self.sso.scope, "prompt": "select_account"},
                },
            }
        }


def sign_in_path() -> Path:
    """The sign-in settings file: ``$TOOLKIT_SIGN_IN``, else ``sign-in.toml`` beside the users file.

    Examples
    --------
    >>> sign_in_path().name  # doctest: +SKIP
    'sign-in.toml'
    """
    env = os.environ.get(SIGN_IN_ENV, "").strip()
    return Path(env).expanduser() if env else auth.users_path().parent / "sign-in.toml"


def _fix(path: Path) -> str:
    return f"Fix {path} (see the README's 'Deployment' section), or move it away to sign in with passwords only."


def _check_url(url: object, path: Path) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise ConfigError(
            f"{path}: url = {url!r}, expected the address people open, such as \"https://dashboard.example.org\" "
            f"(scheme and host, optional port, no path). {_fix(path)}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _roles(table: object, what: str, path: Path) -> dict[str, str]:
    if table is None:
        return {}
    if not isinstance(table, dict) or not all(isinstance(k, str) and v in ROLES for k, v in table.items()):
        raise ConfigError(f"{path}: [{what}] must map names to a role, one of {', '.join(ROLES)}. {_fix(path)}")
    return {key.strip().lower(): value for key, value in table.items()}


def _sso(table: object, path: Path, environ: Mapping[str, str]) -> SSOSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [sso] must be a table. {_fix(path)}")
    unknown = sorted(set(table) - _SSO_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) in [sso]: {', '.join(unknown)}. {_fix(path)}")
    missing = [key for key in ("server_metadata_url", "client_id") if not isinstance(table.get(key), str)]
    if missing:
        raise ConfigError(f"{path}: [sso] needs {' and '.join(missing)}. {_fix(path)}")
    metadata = urlsplit(table["server_metadata_url"])
    if metadata.scheme not in ("http", "https") or not metadata.hostname:
        raise ConfigError(f"{path}: [sso] server_metadata_url must be the provider's https:// address of "
                          f"/.well-known/openid-configuration. {_fix(path)}")
    secret = table.get("client_secret")
    env_name = table.get("client_secret_env")
    if secret is None and isinstance(env_name, str):
        secret = environ.get(env_name)
        if not secret:
            raise ConfigError(f"{path}: [sso] client_secret_env = {env_name!r}, but that variable is not set. "
                              f"Set it in the environment that starts `toolkit dashboard`.")
    if not isinstance(secret, str) or not secret:
        raise ConfigError(f"{path}: [sso] needs client_secret_env (a variable's name) or client_secret. {_fix(path)}")
    if "client_secret" in table and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(f"{path}: holds the single sign-on client secret but others can read it. "
                          f"Run `chmod 600 {path}`.")
    require = table.get("require", {})
    if not isinstance(require, dict) or not all(isinstance(v, str) for v in require.values()):
        raise ConfigError(f"{path}: [sso] require must map claim names to text values. {_fix(path)}")
    users, groups = _roles(table.get("users"), "sso.users", path), _roles(table.get("groups"), "sso.groups", path)
    if not users and not groups:
        raise ConfigError(f"{path}: [sso] gives nobody a role: add [sso.users] or [sso.groups]. {_fix(path)}")
    return SSOSettings(
        label=str(table.get("label") or "your organisation"),
        server_metadata_url=table["server_metadata_url"],
        client_id=table["client_id"],
        client_secret=secret,
        match=str(table.get("match") or "email"),
        require=dict(require),
        users=users,
        groups={key: value for key, value in (table.get("groups") or {}).items()},  # ids are case-sensitive
        groups_claim=str(table.get("groups_claim") or "groups"),
        scope=str(table.get("scope") or "openid email profile"),
    )


def load_sign_in(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> SignInSettings:
    """Read the sign-in settings; an absent file means passwords only, with the default limits.

    Examples
    --------
    >>> load_sign_in(tmp / "none.toml").sso is None  # doctest: +SKIP
    True
    """
    target = Path(path).expanduser() if path is not None else sign_in_path()
    if not target.exists():
        return SignInSettings(path=target)
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{target}: not a readable TOML file ({exc}). {_fix(target)}") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{target}: unknown setting(s) {', '.join(unknown)}; expected {', '.join(sorted(_TOP_KEYS))}. "
                          f"{_fix(target)}")
    url = _check_url(data["url"], target) if "url" in data else None
    hours = data.get("session_hours", 12)
    if not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 30:
        raise ConfigError(f"{target}: session_hours = {hours!r}, expected hours from 0 to 720, such as 12. "
                          f"{_fix(target)}")
    limits_table = data.get("limits", {})
    try:
        limits = Limits(**limits_table)
    except TypeError:
        raise ConfigError(f"{target}: [limits] may set {', '.join(Limits.__dataclass_fields__)}. {_fix(target)}") \
            from None
    sso = _sso(data["sso"], target, os.environ if environ is None else environ) if "sso" in data else None
    if sso is not None and url is None:
        raise ConfigError(f"{target}: single sign-on needs url, the address people open (the provider sends them "
                          f"back to URL/oauth2callback). {_fix(target)}")
    return SignInSettings(url=url, session_hours=float(hours), limits=limits, sso=sso, path=target)


# --- the server's secret ---------------------------------------------------------------------------


def server_secret(folder: str | Path) -> bytes:
    """The server's signing secret: ``dashboard.secret`` in ``folder``, made on first use (mode 0600).

    Deleting the file (then restarting) signs everyone out. A file that others can read is refused.

    Examples
    --------
    >>> len(server_secret(tmp))  # doctest: +SKIP
    32
    """
    from toolkit.io import write_text

    path = Path(folder) / _SECRET_NAME
    if not path.exists():
        write_text(path, secrets.token_hex(32) + "\n", private=True)
        log.info("made a new dashboard signing secret in %s", path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(f"{path}: the dashboard's signing secret is readable by others. Run `chmod 600 {path}` "
                          "(or delete it: a new one is made and everyone signs in again).")
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        raise ConfigError(f"{path}: not a signing secret. Delete it; a new one is made at the next start.") from None


def derive_key(secret: bytes, purpose: str) -> str:
    """A separate key for each use of the one secret (HMAC-SHA256, hex).

    Examples
    --------
    >>> derive_key(b"k" * 32, "a") != derive_key(b"k" * 32, "b")
    True
    """
    return hmac.new(secret, purpose.encode("utf-8"), hashlib.sha256).hexdigest()


# --- sessions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """What a valid session cookie says."""

    name: str
    fingerprint: str
    sid: str
    expires: float


class SessionSigner:
    """Issues and reads the signed, expiring session tokens of password sign-ins.

    Signing is itsdangerous's (HMAC-SHA1 over a derived key); the expiry is inside the signed
    payload and checked against ``clock`` (injectable for tests).

    Examples
    --------
    >>> signer = SessionSigner(b"k" * 32, max_age_seconds=3600, clock=lambda: 1000.0)
    >>> token, session = signer.issue("asha", "f1")
    >>> signer.read(token).name, signer.read(token + "x")
    ('asha', None)
    """

    def __init__(self, secret: bytes, *, max_age_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._serializer = URLSafeSerializer(derive_key(secret, "toolkit session"), salt="toolkit-session")
        self.max_age_seconds = max_age_seconds
        self._clock = clock

    def issue(self, name: str, fingerprint: str) -> tuple[str, Session]:
        session = Session(name, fingerprint, secrets.token_urlsafe(16), self._clock() + self.max_age_seconds)
        payload = {"u": name, "f": fingerprint, "s": session.sid, "e": round(session.expires)}
        return self._serializer.dumps(payload), session

    def read(self, token: str | None) -> Session | None:
        """The session in ``token`` if its signature is right and it has not expired, else None."""
        if not token or len(token) > 4096:
            return None
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            return None
        try:
            session = Session(str(payload["u"]), str(payload["f"]), str(payload["s"]), float(payload["e"]))
        except (KeyError, TypeError, ValueError):
            return None
        return session if self._clock() < session.expires else None


class RevokedSessions:
    """Session ids signed out before they expired, kept in a private JSON file (``dashboard-revoked.json``)."""

    def __init__(self, folder: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(folder) / _REVOKED_NAME
        self._clock = clock
        self._lock = threading.Lock()
        self._ids: dict[str, float] | None = None

    def _load(self) -> dict[str, float]:
        if self._ids is None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._ids = {str(k): float(v) for k, v in data.items()}
            except FileNotFoundError:
                self._ids = {}
            except (ValueError, AttributeError, OSError):
                log.warning("%s is unreadable; signed-out sessions before now may count as signed in again until "
                            "they expire. Delete dashboard.secret to sign everyone out.", self.path)
                self._ids = {}
        return self._ids

    def revoke(self, session: Session) -> None:
        from toolkit.io import write_text

        with self._lock:
            now = self._clock()
            ids = {sid: exp for sid, exp in self._load().items() if exp > now}
            ids[session.sid] = session.expires
            self._ids = ids
            write_text(self.path, json.dumps(ids, sort_keys=True), private=True)

    def __contains__(self, sid: object) -> bool:
        with self._lock:
            return sid in self._load()


_REVOKED: dict[Path, RevokedSessions] = {}
_REVOKED_LOCK = threading.Lock()


def revoked_sessions(folder: str | Path) -> RevokedSessions:
    """The one :class:`RevokedSessions` of ``folder`` in this process (the server's routes and pages share it)."""
    key = Path(folder).resolve()
    with _REVOKED_LOCK:
        if key not in _REVOKED:
            _REVOKED[key] = RevokedSessions(key)
        return _REVOKED[key]


# --- throttling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A sign-in attempt refused before the password was checked."""

    retry_after: float
    locked: bool
    which: str  # "name" or "address"

    @property
    def message(self) -> str:
        """What the person is told: how long, and what to do."""
        where = "for this name" if self.which == "name" else "from your network address"
        if not self.locked:
            return f"Too many failed sign-ins {where}: wait {max(1, round(self.retry_after))} seconds, then try again."
        minutes = max(1, round(self.retry_after / 60))
        span = f"{minutes} minutes" if minutes < 120 else f"{round(minutes / 60)} hours"
        return (f"Too many failed sign-ins {where}: signing in is locked for {span}. If this was not you, tell "
                "whoever runs the dashboard.")


@dataclass
class _State:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Attempt:
    """An attempt let through (and already counted as a failure until :meth:`SignInThrottle.succeeded`)."""

    keys: tuple[tuple[str, str], ...]
    before: tuple[_State, ...]


def _address_key(address: str | None) -> str:
    try:
        ip = ipaddress.ip_address((address or "").strip("[]"))
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))  # one home or office has a whole /64
    return str(ip)


class SignInThrottle:
    """Limits failed sign-ins per name and per network address, across every session of the server.

    Call :meth:`begin` before checking a password: it refuses at once while the name or the
    address must wait or is locked, and otherwise counts the attempt as a failure *before* the
    check, so parallel attempts cannot all slip through. Call :meth:`succeeded` when the
    password was right: the name's count is cleared and the address's count is restored.

    Examples
    --------
    >>> now = [0.0]
    >>> throttle = SignInThrottle(Limits(account_free=1, account_lockout=2), clock=lambda: now[0])
    >>> isinstance(throttle.begin("asha", "192.0.2.1"), Attempt)  # the free attempt
    True
    >>> isinstance(throttle.begin("asha", "192.0.2.1"), Attempt)  # counted; now locked
    True
    >>> throttle.begin("asha", "192.0.2.9").locked
    True
    """

    MAX_KEYS = 100_000

    def __init__(self, limits: Limits = Limits(), *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], _State] = {}

    def _delay(self, kind: str, failures: int) -> float:
        free = self.limits.account_free if kind == "name" else self.limits.address_free
        lockout = self.limits.account_lockout if kind == "name" else self.limits.address_lockout
        if failures <= free:
            return 0.0
        if failures < lockout:
            return float(2 ** (failures - free))
        doubling = min(failures - lockout, 30)
        return min(self.limits.lockout_minutes * 60 * 2**doubling, self.limits.max_lockout_hours * 3600)

    def _is_lockout(self, kind: str, failures: int) -> bool:
        return failures >= (self.limits.account_lockout if kind == "name" else self.limits.address_lockout)

    def begin(self, name: str, address: str | None) -> Attempt | Refusal:
        """Let one attempt through (counted as failed for now), or refuse it with how long to wait."""
        keys = (("name", " ".join(str(name).split()).casefold()), ("address", _address_key(address)))
        with self._lock:
            now = self._clock()
            states = []
            for key in keys:
                state = self._states.get(key)
                if state is not None and now - state.last > self.limits.forget_hours * 3600:
                    state = None
                states.append(state or _State())
            waits = [(s.blocked_until - now, key, s) for key, s in zip(keys, states) if s.blocked_until > now]
            if waits:
                wait, (kind, _), state = max(waits, key=lambda item: item[0])
                return Refusal(retry_after=wait, locked=self._is_lockout(kind, state.failures), which=kind)
            before = tuple(_State(s.failures, s.blocked_until, s.last) for s in states)
            for (kind, value), state in zip(keys, states):
                state.failures += 1
                state.last = now
                state.blocked_until = now + self._delay(kind, state.failures)
                self._states[(kind, value)] = state
            self._prune()
            return Attempt(keys=keys, before=before)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: forget the name's failures, and undo this attempt at the address."""
        with self._lock:
            for key, before in zip(attempt.keys, attempt.before):
                if key[0] == "name" or before.failures == 0:
                    self._states.pop(key, None)
                else:
                    self._states[key] = before

    def _prune(self) -> None:
        if len(self._states) > self.MAX_KEYS:  # keep memory bounded: forget the oldest half
            for key, _ in sorted(self._states.items(), key=lambda item: item[1].last)[: self.MAX_KEYS // 2]:
                del self._states[key]


# --- single sign-on ------------------------------------------------------------------------------


def sso_user(claims: Mapping[str, object], sso: SSOSettings) -> tuple[User | None, str]:
    """The user and role that an OpenID Connect identity maps to, and the identity shown to people.

    ``claims`` are ``st.user``'s (the ID token's). Every ``require`` claim must match exactly;
    the ``match`` claim (lower-cased) is looked up in ``[sso.users]``; failing that, values of the
    groups claim in ``[sso.groups]`` (researcher wins over reviewer). No match: ``(None, identity)``.

    Examples
    --------
    >>> sso = SSOSettings("Entra", "https://id.example/.well-known/openid-configuration", "app", "s",
    ...                   users={"asha@nhs.net": "reviewer"})
    >>> sso_user({"email": "Asha@NHS.net", "is_logged_in": True}, sso)
    (User(name='asha@nhs.net', role='reviewer'), 'asha@nhs.net')
    """
    identity = str(claims.get(sso.match) or "").strip().lower()
    if not identity:
        return None, ""
    for claim, expected in sso.require.items():
        if str(claims.get(claim, "")) != expected:
            log.warning("single sign-on refused: claim %s does not have the required value", claim)
            return None, identity
    role = sso.users.get(identity)
    if role is None:
        found = claims.get(sso.groups_claim) or []
        group_roles = {sso.groups[g] for g in (found if isinstance(found, list) else [found]) if g in sso.groups}
        role = "researcher" if "researcher" in group_roles else next(iter(group_roles), None)
    return (User(name=identity, role=role) if role else None), identity
