"""The key on disk: the ONLY module that reads or writes the pseudonymisation key (and its report).

The key maps pseudonyms back to people: it is personal data. It is written as JSON, atomically,
readable by its owner only (0600, folder 0700), through :func:`toolkit.io.write_text`. Its
default home is outside the study, per user (:func:`default_key_path`); :func:`key_inside_study`
tells a ``doctor``/``status`` command when a key sits beside the data it unlocks.

Examples
--------
>>> from toolkit.pseudonymise.mapping import PseudonymKey
>>> key = parse_key(key_text(PseudonymKey(({"kind": "phone", "value": "07700900123",
...                                         "original": "07700 900123", "code": "PHONE_01"},))))
>>> key.entries[0]["code"]
'PHONE_01'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from pathlib import Path

from toolkit.errors import ConfigError
from toolkit.pseudonymise.mapping import PseudonymKey

log = logging.getLogger(__name__)

KEY_FORMAT = "toolkit-pseudonymisation-key"
KEY_VERSION = 1
KEY_NAME = "pseudonymisation_key.json"
REPORT_NAME = "pseudonymisation_report.md"


def key_text(key: PseudonymKey, *, style: str = "tag") -> str:
    """The key as the JSON text :func:`save_key` writes (for a pipeline that stages files itself)."""
    return json.dumps(
        {
            "format": KEY_FORMAT,
            "version": KEY_VERSION,
            "style": style,
            "entries": [dict(r) for r in key.entries],
            "speakers": [dict(r) for r in key.speakers],
            "respondents": [dict(r) for r in key.respondents],
            **({"secret": key.secret} if key.secret else {}),
        },
        ensure_ascii=False,
        indent=1,
    )


def key_bytes(key: PseudonymKey, *, style: str = "tag") -> bytes:
    """The key as UTF-8 bytes (see :func:`key_text`); write them with ``toolkit.io.write_bytes(..., private=True)``."""
    return key_text(key, style=style).encode("utf-8")


def parse_key(text: str, *, source: str = "the key") -> PseudonymKey:
    """A key from its JSON text; ``source`` names it in error messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not a readable pseudonymisation key ({exc}). Restore it from your backup.") from None
    if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
        raise ConfigError(
            f"{source}: not a pseudonymisation key written by this toolkit (no '{KEY_FORMAT}' format tag)."
        )
    if data.get("version") != KEY_VERSION:
        raise ConfigError(f"{source}: key version {data.get('version')!r}; this toolkit reads version {KEY_VERSION}.")
    try:
        entries = tuple({k: str(r[k]) for k in ("kind", "value", "original", "code")} for r in data.get("entries", []))
        speakers = tuple({k: str(r[k]) for k in ("source", "label", "code")} for r in data.get("speakers", []))
        respondents = tuple({k: str(r[k]) for k in ("source", "key", "code")} for r in data.get("respondents", []))
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{source}: a key row lacks a field ({exc}). Restore the key from your backup.") from None
    return PseudonymKey(entries, speakers, respondents, secret=str(data.get("secret") or ""))


def load_key(path: str | Path) -> PseudonymKey:
    """Read a key written by :func:`save_key`.

    Raises :class:`~toolkit.errors.ConfigError` naming the file when it is missing or unreadable;
    warns (without quoting it) when others can read it.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"No pseudonymisation key at {path}. Check pseudonymisation.key_path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable pseudonymisation key ({exc}). Restore it from your backup.") from None
    key = parse_key(text, source=str(path))
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("the pseudonymisation key is readable by others (mode %o); run chmod 600 on it", mode)
    return key


def load_key_if_any(path: str | Path) -> PseudonymKey | None:
    """The key at ``path``, or ``None`` when there is none yet (a study's first run)."""
    path = Path(path).expanduser()
    return load_key(path) if path.exists() else None


def check_key_path(path: str | Path) -> Path:
    """Refuse a key path inside a folder named ``store``: the key must live apart from the data."""
    path = Path(path).expanduser()
    if any(part.casefold() == "store" for part in path.resolve().parent.parts):
        raise ConfigError(
            f"Refusing to write the pseudonymisation key to {path}: it is inside a folder named 'store', "
            "beside the analysis data it unlocks. Keep it apart: set pseudonymisation.key_path in study.toml "
            "to a private folder outside the study (the default is per user, outside the study)."
        )
    return path


def save_key(path: str | Path, key: PseudonymKey, *, style: str = "tag") -> Path:
    """Write the key as JSON, atomically, readable by its owner only (0600; new folders 0700).

    Examples
    --------
    >>> save_key("~/keys/study/pseudonymisation_key.json", pseudonymiser.to_key())  # doctest: +SKIP
    """
    from toolkit.io import write_text

    path = check_key_path(path)
    _private_parents(path.parent)
    write_text(path, key_text(key, style=style), private=True)
    log.info("pseudonymisation key written: %d values, %d speakers", len(key.entries), len(key.speakers))
    return path


def save_report(path: str | Path, markdown: str) -> Path:
    """Write the residual-risk report (it quotes words of the text: personal data) private to the user."""
    from toolkit.io import write_text

    path = Path(path).expanduser()
    _private_parents(path.parent)
    return write_text(path, markdown, private=True)


def report_path(key_path: str | Path) -> Path:
    """Where the report of a key lives: beside it."""
    return Path(key_path).expanduser().parent / REPORT_NAME


# =========================================================================== where the key lives
def study_key_id(study_root: str | Path, study_name: str = "") -> str:
    """A stable, readable id for a study's key folder: a slug of its name and a hash of its folder.

    Examples
    --------
    >>> study_key_id("/data/studies/three-places", "Three places (sample)")[:13]
    'three-places-'
    """
    root = str(Path(study_root).expanduser().resolve())
    slug = re.sub(r"[^a-z0-9]+", "-", (study_name or Path(root).name).casefold()).strip("-")[:40].strip("-")
    digest = hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug or 'study'}-{digest}"


def user_data_dir() -> Path:
    """The user's private data folder for the toolkit: ``$XDG_DATA_HOME/toolkit`` (``~/.local/share/toolkit``);
    ``%LOCALAPPDATA%\\toolkit`` on Windows, ``~/Library/Application Support/toolkit`` on macOS."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "toolkit"
    if sys.platform == "darwin" and not os.environ.get("XDG_DATA_HOME"):
        return Path.home() / "Library" / "Application Support" / "toolkit"
    base = os.environ.get("XDG_DATA_HOME") or ""
    base_path = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return base_path / "toolkit"


def default_key_path(study_root: str | Path, study_name: str = "") -> Path:
    """The key's default home: outside the study, per user, private.

    ``<user data>/toolkit/keys/<study id>/pseudonymisation_key.json`` (see :func:`user_data_dir`,
    :func:`study_key_id`). The folders are created 0700 and the file 0600 when the key is saved.
    The id hashes the study folder's path, so record the path in the study's config on first use
    (a moved study then still finds its key).

    Examples
    --------
    >>> default_key_path("/data/three-places", "Three places").name
    'pseudonymisation_key.json'
    """
    return user_data_dir() / "keys" / study_key_id(study_root, study_name) / KEY_NAME


def key_inside_study(key_path: str | Path, study_root: str | Path) -> bool:
    """Whether a key path sits inside the study folder (beside the data it unlocks): worth a warning.

    Examples
    --------
    >>> key_inside_study("/data/study/private/key.json", "/data/study")
    True
    >>> key_inside_study(default_key_path("/data/study"), "/data/study")
    False
    """
    key = Path(key_path).expanduser().resolve()
    root = Path(study_root).expanduser().resolve()
    return key == root or root in key.parents


def _private_parents(folder: Path) -> None:
    """Create ``folder`` and any missing parents 0700 (existing folders keep their mode)."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for part in reversed(missing):
        part.mkdir(mode=0o700, exist_ok=True)
        os.chmod(part, 0o700)  # mkdir's mode is masked by the umask
