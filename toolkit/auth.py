"""Dashboard users: who may log in, with which role, checked against a password hash.

The users file is TOML kept **outside the repository and the study** (default
``~/.config/toolkit/users.toml``; set ``TOOLKIT_USERS`` to use another file), so it is
never committed, exported or copied with a store. It holds one table per user::

    [[user]]
    name = "asha"
    role = "researcher"
    password = "scrypt$32768$8$3$<salt, base64>$<hash, base64>"

Passwords are never stored: each one is hashed with :func:`hashlib.scrypt` and a random
16-byte salt, and the string says how it was made, so the cost can be raised later
without breaking old entries. Checks use :func:`hmac.compare_digest`. Writes go to a
temporary file in the same folder that then replaces the old one (readable by its owner
only, mode 0600), so a crash never leaves half a file.

A new password must be at least :data:`MIN_PASSWORD_LENGTH` characters and must not be a
common one: :func:`password_problem` checks it against the 30,000 most common passwords
(``toolkit/rules/common_passwords.txt``, shipped as data), also with digits or symbols added
and letters swapped for look-alikes (``P@ssw0rd2024``), and refuses the user's own name.

The dashboard asks for a sign-in only when it is served beyond this machine
(``toolkit dashboard --host 0.0.0.0``); sessions, throttling and single sign-on live in
:mod:`toolkit.signin`, the server in :mod:`toolkit.serve`, the pages' side in ``dashboards/access.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from toolkit.errors import ConfigError
from toolkit.schema import ROLES

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "User",
    "add_user",
    "check_password",
    "hash_password",
    "list_users",
    "password_problem",
    "remove_user",
    "user_fingerprint",
    "users_path",
    "verify",
]

log = logging.getLogger(__name__)

USERS_ENV = "TOOLKIT_USERS"
MIN_PASSWORD_LENGTH = 12

# OWASP's scrypt setting "N=2^15, r=8, p=3" (about 32 MiB and a tenth of a second per check).
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 3
_SALT_BYTES = 16
_HASH_BYTES = 32
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@ -]{0,63}$")
_FIX = (
    f"Fix or delete the file, or point {USERS_ENV} at another one, "
    "then add users with `toolkit users add NAME --role researcher`."
)


@dataclass(frozen=True)
class User:
    """A person using the dashboard.

    Examples
    --------
    >>> User("asha", "researcher").can_decide
    True
    """

    name: str
    role: str

    @property
    def can_decide(self) -> bool:
        """Whether this user may accept, reject or recode codings (researchers only)."""
        return self.role == "researcher"


def users_path() -> Path:
    """The users file: ``$TOOLKIT_USERS`` if set, else ``~/.config/toolkit/users.toml``.

    Examples
    --------
    >>> users_path().name  # doctest: +SKIP
    'users.toml'
    """
    env = os.environ.get(USERS_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "toolkit" / "users.toml"


# --- hashing -------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # maxmem must cover 128 * r * n bytes (plus slack), or OpenSSL refuses.
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * r * n + 2**20
    )


def hash_password(password: str) -> str:
    """Hash ``password`` with scrypt and a new random salt, as ``scrypt$n$r$p$salt$hash``.

    Examples
    --------
    >>> hash_password("correct horse battery").startswith("scrypt$32768$8$3$")
    True
    """
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("not a scrypt$n$r$p$salt$hash string")
    n, r, p = (int(x) for x in parts[1:4])
    if n < 2 or n & (n - 1) or not (1 <= r <= 64) or not (1 <= p <= 64) or n > 2**22:
        raise ValueError("scrypt settings out of range")
    salt = base64.b64decode(parts[4], validate=True)
    digest = base64.b64decode(parts[5], validate=True)
    if not salt or not digest:
        raise ValueError("empty salt or hash")
    return n, r, p, salt, digest


def check_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches the ``scrypt$...`` string (constant-time comparison).

    Examples
    --------
    >>> h = hash_password("correct horse battery")
    >>> check_password("correct horse battery", h), check_password("wrong horse battery", h)
    (True, False)
    """
    try:
        n, r, p, salt, digest = _parse_hash(encoded)
    except ValueError:
        return False
    candidate = _scrypt(password, salt, n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest)


# --- what a password may be -----------------------------------------------------------------------

_LOOKALIKES = str.maketrans({"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s", "7": "t", "1": "i",
                             "!": "i", "|": "l", "+": "t", "8": "b", "9": "g"})
_AFFIXES = "0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~ "
_GOOD_ADVICE = "three or four unrelated words make a good one"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower-cased), read once.

    Examples
    --------
    >>> "password" in common_passwords(), len(common_passwords()) > 20_000
    (True, True)
    """
    text = resources.files("toolkit.rules").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _variants(password: str) -> set[str]:
    """The password lower-cased, with look-alikes undone and digits/symbols around it removed."""
    lower = password.lower()
    found = {lower, lower.translate(_LOOKALIKES), lower.replace("1", "l").translate(_LOOKALIKES)}
    found.add(lower.strip(_AFFIXES).translate(_LOOKALIKES))  # "Password2024!" and "P@ssw0rd2024!"
    for word in found.copy():  # grows while it is read
        found.update((word.strip(_AFFIXES), word.rstrip(_AFFIXES), word.lstrip(_AFFIXES)))
        found.add("".join(word.split()))  # "pass word" is "password"
    return {word for word in found if len(word) >= 4}


def _repeats(password: str) -> bool:
    """True if the password is one short unit repeated ("abcabcabcabc", "xxxxxxxxxxxx")."""
    size = len(password)
    return any(size % unit == 0 and password[:unit] * (size // unit) == password for unit in range(1, size // 2 + 1))


def password_problem(password: str, *, name: str = "") -> str | None:
    """What is wrong with ``password`` as a new password for ``name``, or None if nothing.

    Refused: fewer than :data:`MIN_PASSWORD_LENGTH` characters; spaces at either end; only digits;
    one short unit repeated; the user's name in it; a password from the bundled list of common
    passwords, also with digits or symbols added around it or letters swapped for look-alikes.

    Examples
    --------
    >>> password_problem("password12") is not None, password_problem("P@ssw0rd2024!") is not None
    (True, True)
    >>> password_problem("kettle orbit violet harbour") is None
    True
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return f"too short; use at least {MIN_PASSWORD_LENGTH} characters ({_GOOD_ADVICE})."
    if password.strip() != password:
        return "must not start or end with a space. Choose another."
    if password.isdigit():
        return f"only digits; use words instead ({_GOOD_ADVICE})."
    if _repeats(password.lower()):
        return f"the same few characters repeated; choose another ({_GOOD_ADVICE})."
    clean_name = "".join(name.lower().split()) if isinstance(name, str) else ""
    if len(clean_name) >= 3 and clean_name in "".join(password.lower().split()):
        return "must not contain the user name. Choose another."
    if _variants(password) & common_passwords():
        return (
            "too common: it is, or is built on, one of the 30,000 passwords people use most, which attackers try "
            f"first. Choose another ({_GOOD_ADVICE})."
        )
    return None



# --- the file ------------------------------------------------------------------------------------


def _resolve(path: str | Path | None) -> Path:
    return Path(path).expanduser() if path is not None else users_path()


def _read(path: Path) -> list[dict]:
    """Every user entry in the file (with hashes); an absent file has none."""
    if not path.exists():
        return []
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, expected the dashboard users file (TOML). {_FIX}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable TOML users file ({exc}). {_FIX}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the dashboard users file ({exc.strerror}). {_FIX}") from None
    entries = data.get("user", [])
    unknown = sorted(set(data) - {"user"})
    if unknown or not isinstance(entries, list):
        raise ConfigError(
            f"{path}: expected only [[user]] tables, found {', '.join(unknown) or type(entries).__name__}. {_FIX}"
        )
    users: list[dict] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}, user {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a [[user]] table. {_FIX}")
        name, role, password = entry.get("name"), entry.get("role"), entry.get("password")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: no name. {_FIX}")
        if role not in ROLES:
            raise ConfigError(f"{where} ({name}): role {role!r}, expected one of {', '.join(ROLES)}. {_FIX}")
        try:
            _parse_hash(password if isinstance(password, str) else "")
        except ValueError:
            raise ConfigError(
                f"{where} ({name}): the password entry is not a scrypt$n$r$p$salt$hash string. "
                f"Set a new password with `toolkit users add {name} --role {role}`."
            ) from None
        if name in seen:
            raise ConfigError(f"{where}: {name!r} appears twice. Remove one with a text editor. {_FIX}")
        seen.add(name)
        users.append({"name": name, "role": role, "password": password})
    return users


def _toml_string(value: str) -> str:
    # JSON's escapes (\" \\ \n \t \uXXXX) are all valid in a TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def _write(path: Path, users: list[dict]) -> None:
    lines = [
        "# Dashboard users of the qualitative toolkit. Manage with `toolkit users add|remove|list`.",
        "# Passwords are stored as scrypt hashes only. Keep this file readable by you alone (mode 0600).",
        "",
    ]
    for user in users:
        lines += [
            "[[user]]",
            f"name = {_toml_string(user['name'])}",
            f"role = {_toml_string(user['role'])}",
            f"password = {_toml_string(user['password'])}",
            "",
        ]
    text = "\n".join(lines)
    from toolkit.io import write_text

    try:
        write_text(path, text, private=True)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot write the dashboard users file ({exc.strerror}). "
            f"Check the folder's permissions or set {USERS_ENV} to a file you can write."
        ) from None


def _check_name(name: str) -> str:
    clean = name.strip() if isinstance(name, str) else ""
    if not _NAME_RE.match(clean):
        raise ConfigError(
            f"user name {name!r}: expected 1 to 64 letters, digits, spaces or . _ @ -, starting with a letter or "
            "digit. Choose another name."
        )
    return clean


def add_user(name: str, role: str, password: str, *, path: str | Path | None = None) -> None:
    """Add a user, or set a new role and password for an existing one.

    Parameters
    ----------
    name : the login name (1-64 letters, digits, spaces, ``. _ @ -``).
    role : one of :data:`toolkit.schema.ROLES` (``researcher``, ``reviewer``).
    password : at least :data:`MIN_PASSWORD_LENGTH` characters and not a common password
        (:func:`password_problem`); only its hash is stored.
    path : the users file (default: :func:`users_path`).

    Examples
    --------
    >>> add_user("asha", "researcher", "a long passphrase", path=tmp / "users.toml")  # doctest: +SKIP
    """
    name = _check_name(name)
    if role not in ROLES:
        raise ConfigError(f"role {role!r} for {name}: expected one of {', '.join(ROLES)}.")
    problem = password_problem(password, name=name)
    if problem:
        raise ConfigError(f"password for {name}: {problem}")
    target = _resolve(path)
    users = [u for u in _read(target) if u["name"] != name]
    users.append({"name": name, "role": role, "password": hash_password(password)})
    _write(target, users)
    log.info("users file %s: set user %s (%s)", target, name, role)


def remove_user(name: str, *, path: str | Path | None = None) -> None:
    """Remove a user; a name that is not in the file is an error that lists who is.

    Examples
    --------
    >>> remove_user("asha", path=tmp / "users.toml")  # doctest: +SKIP
    """
    target = _resolve(path)
    users = _read(target)
    kept = [u for u in users if u["name"] != name]
    if len(kept) == len(users):
        known = ", ".join(u["name"] for u in users) or "nobody yet"
        raise ConfigError(f"{target}: no user {name!r}. Users: {known}.")
    _write(target, kept)
    log.info("users file %s: removed user %s", target, name)


def list_users(*, path: str | Path | None = None) -> list[dict]:
    """The users as ``{"name", "role"}`` dicts, sorted by name; hashes are never returned.

    Examples
    --------
    >>> list_users(path=tmp / "users.toml")  # doctest: +SKIP
    [{'name': 'asha', 'role': 'researcher'}]
    """
    return sorted(({"name": u["name"], "role": u["role"]} for u in _read(_resolve(path))), key=lambda u: u["name"])


# A hash to check against when the name is unknown, so that a wrong name takes as long as
# a wrong password and the timing does not tell which one was wrong.
_DUMMY_HASH: str | None = None


def verify(name: str, password: str, *, path: str | Path | None = None) -> User | None:
    """The :class:`User` if ``name`` and ``password`` match the users file, else None.

    A wrong name and a wrong password take the same time and give the same answer.

    Examples
    --------
    >>> verify("asha", "a long passphrase", path=tmp / "users.toml")  # doctest: +SKIP
    User(name='asha', role='researcher')
    """
    global _DUMMY_HASH
    name = name.strip() if isinstance(name, str) else ""
    entry = next((u for u in _read(_resolve(path)) if u["name"] == name), None)
    if entry is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(16))
        check_password(password or "", _DUMMY_HASH)
        log.info("dashboard login refused")  # never log what was typed: a password may be in the name box
        return None
    if not check_password(password or "", entry["password"]):
        log.info("dashboard login refused")
        return None
    return User(name=entry["name"], role=entry["role"])


def user_fingerprint(name: str, *, path: str | Path | None = None) -> tuple[str, str] | None:
    """``(role, fingerprint)`` of ``name``'s current entry, or None if there is no such user.

    The fingerprint is a short hash of the stored password hash: it changes when the password
    does, so a session cookie that carries it ends when the password is changed or the user is
    removed (:mod:`toolkit.signin`). It reveals nothing about the password.

    Examples
    --------
    >>> user_fingerprint("asha", path=tmp / "users.toml")  # doctest: +SKIP
    ('researcher', '3f0c9a1e52d4b7a8')
    """
    entry = next((u for u in _read(_resolve(path)) if u["name"] == name), None)
    if entry is None:
        return None
    digest = hashlib.sha256(b"toolkit session\0" + entry["password"].encode("utf-8")).hexdigest()[:16]
    return entry["role"], digest
