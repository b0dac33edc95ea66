"""``toolkit doctor``: is a study set up so that its personal data stays private?

Checks, each with the fix in its message:

- pseudonymisation is switched on (``[pseudonymisation] enabled``);
- the pseudonymisation key lives apart from the data: not inside the study folder, not beside the
  store, not in a folder others can read; the key and its report are readable by their owner only;
- the store (an SQLite file, with its ``-wal`` and ``-shm`` files and its folder), the topic model,
  the exports and the key-location file are readable by their owner only.

Only paths, modes and settings are read: never the key's or the store's contents.

Examples
--------
>>> from toolkit.config import load_config
>>> findings = check_study(load_config("interviews"))  # doctest: +SKIP
>>> [f.problem for f in findings if not f.ok]  # doctest: +SKIP
[]
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import StudyConfig

OTHERS = 0o077
"""Permission bits for anyone but the owner (group and world)."""


@dataclass(frozen=True)
class Finding:
    """One check: what was checked, whether it is fine, and if not, the problem and the fix."""

    check: str
    ok: bool
    problem: str = ""
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"ok       {self.check}"
        return f"WARNING  {self.check}: {self.problem}\n         Fix: {self.fix}"


def check_study(config: StudyConfig) -> list[Finding]:
    """Every privacy check of a study, in the order printed (see the module's notes)."""
    findings = [_pseudonymisation(config)]
    if config.pseudonymisation.enabled:
        findings += _key(config)
    findings += _store(config)
    findings += _outputs(config)
    return findings


def _pseudonymisation(config: StudyConfig) -> Finding:
    if config.pseudonymisation.enabled:
        return Finding("pseudonymisation is switched on", True)
    return Finding(
        "pseudonymisation", False,
        f"it is switched off in {config.config_path} ([pseudonymisation] enabled = false): names, NHS numbers, "
        "phone numbers and addresses in the transcripts are stored, exported and shown as written.",
        "set enabled = true under [pseudonymisation] in study.toml and run `toolkit run` again (the store is "
        "rewritten pseudonymised), unless the material holds no personal data at all.",
    )


def _key(config: StudyConfig) -> list[Finding]:
    from toolkit.pseudonymise.keyfile import key_inside_study, report_path

    key = config.key_path
    out = []
    store_folder = None if config.store.url else config.resolve(config.store.path).parent.resolve()
    setting = "[pseudonymisation] key_path in study.toml"
    if key_inside_study(key, config.root):
        out.append(Finding(
            "key location", False,
            f"the pseudonymisation key {key} is inside the study folder, beside the data it unlocks: whoever "
            "gets a copy of the study (a backup, a shared drive, a zip sent by e-mail) gets the names back too.",
            f"move the key to a private folder outside the study (e.g. an encrypted drive) and set {setting} to "
            "its new absolute path; or delete the setting and move the key to the default place "
            f"({_default_key(config)}).",
        ))
    elif store_folder is not None and key.resolve().parent == store_folder:
        out.append(Finding(
            "key location", False, f"the pseudonymisation key {key} sits beside the store ({store_folder}).",
            f"move it to a private folder away from the store and set {setting} to its new path.",
        ))
    else:
        out.append(Finding(f"the key lives apart from the study ({key})", True))
    if not key.exists():
        if _store_has_data(config):
            out.append(Finding(
                "key present", False,
                f"no pseudonymisation key at {key}, but the store holds data: the next run cannot keep the same "
                "pseudonyms, and nobody can map them back.",
                f"restore the key from your backup to {key} (or set {setting} to where it is now).",
            ))
        return out
    out.append(_private_file("key", key, "chmod 600"))
    out.append(_private_folder("key folder", key.parent))
    report = report_path(key)
    if report.exists():
        out.append(_private_file("residual-risk report (it quotes words of the text)", report, "chmod 600"))
    return out


def _default_key(config: StudyConfig) -> Path:
    from toolkit.pseudonymise.keyfile import default_key_path

    return default_key_path(config.root, config.name)


def _store_has_data(config: StudyConfig) -> bool:
    if config.store.url:
        return True  # a database server: assume it holds the study
    path = config.resolve(config.store.path)
    return path.is_file() and path.stat().st_size > 0


def _store(config: StudyConfig) -> list[Finding]:
    if config.store.url:
        return [Finding("store permissions (a database server: its own roles decide who reads it; see "
                        "`toolkit db` and the README's team section)", True)]
    path = config.resolve(config.store.path)
    if not path.exists():
        return [Finding(f"no store yet at {path} (it is created private on the first run)", True)]
    out = [_private_file("store", path, "chmod 600")]
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            out.append(_private_file(f"store {suffix[1:].upper()} file", extra, "chmod 600"))
    out.append(_private_folder("store folder", path.parent))
    return out


def _outputs(config: StudyConfig) -> list[Finding]:
    from toolkit.export import EXPORT_DIR
    from toolkit.topics.stage import model_dir

    out = []
    location = config.key_location_file
    if location.exists():
        out.append(_private_file("key-location file", location, "chmod 600"))
    model = model_dir(config)
    if model.exists():
        loose = [p for p in [model, *model.rglob("*")] if _others_can_read(p)]
        out.append(Finding(f"topic model folder ({model})", not loose,
                           f"{len(loose)} file(s) or folder(s) in it can be read by others (its vocabulary is "
                           "built from the text).", f"chmod -R go-rwx '{model}'"))
    exports = config.root / EXPORT_DIR
    if exports.exists():
        loose = [p for p in [exports, *exports.rglob("*")] if _others_can_read(p)]
        out.append(Finding(f"exports ({exports})", not loose,
                           f"{len(loose)} export file(s) or folder(s) can be read by others.",
                           f"chmod -R go-rwx '{exports}'"))
    return out


def _others_can_read(path: Path) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & OTHERS)
    except OSError:
        return False


def _private_file(what: str, path: Path, fix: str) -> Finding:
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & OTHERS:
        return Finding(f"{what} is private to you ({path})", True)
    who = "everyone on this machine" if mode & 0o004 else "your group"
    return Finding(what, False, f"{path} can be read by {who} (mode {mode:o}).", f"{fix} '{path}'")


def _private_folder(what: str, folder: Path) -> Finding:
    mode = stat.S_IMODE(folder.stat().st_mode)
    if not mode & OTHERS:
        return Finding(f"{what} is private to you ({folder})", True)
    return Finding(what, False, f"{folder} can be opened by others (mode {mode:o}).", f"chmod 700 '{folder}'")
