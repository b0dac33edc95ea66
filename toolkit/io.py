"""The toolkit's one way to write a file: atomically, optionally private to the user, under a lock.

Every file the toolkit writes (the pseudonymisation key and its report, the topic model,
exports, the codebook, the dashboard's users file) goes through :func:`atomic_write` or
:func:`swap_folder`: a failure part-way leaves the old file as it was, never half a file.
``private=True`` creates the file readable by its owner only (0600; folders 0700), from the
first byte: the content never sits in a world-readable temporary file.

:func:`file_lock` is an advisory lock on a file (``fcntl.flock``), used for the run lock of a
SQLite store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def ensure_folder(folder: str | Path, *, private: bool = False) -> Path:
    """Create ``folder`` (and its parents) if needed; ``private`` makes every folder it creates 0700
    (``~/.local/share/toolkit/keys/<study>``: not only the last one)."""
    folder = Path(folder)
    if not private:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    missing = []
    current = folder
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for part in reversed(missing):
        part.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        os.chmod(part, PRIVATE_FOLDER)  # mkdir's mode is masked by the umask
    return folder


def atomic_write(path: str | Path, write: Callable[[Path], object], *, private: bool = False) -> Path:
    """Write ``path`` through a temporary file beside it, then move it into place.

    ``write`` receives the temporary path and fills it (``frame.to_csv``, ``workbook.save``,
    ``Path.write_bytes``...). With ``private`` the temporary file is created 0600 before
    anything is written, and the folder 0700 if it is new.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> atomic_write(target, lambda tmp: tmp.write_text("hello")).read_text()
    'hello'
    """
    path = Path(path)
    ensure_folder(path.parent, private=private)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)  # mkstemp made it 0600
    tmp = Path(tmp_name)
    try:
        if not private:
            os.chmod(tmp, 0o666 & ~_umask())
        write(tmp)
        if private:
            os.chmod(tmp, PRIVATE_FILE)  # a writer may have replaced the file
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str, *, private: bool = False) -> Path:
    """Write text (UTF-8) atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), private=private)


def write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> Path:
    """Write bytes atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data), private=private)


def make_private(folder: str | Path) -> Path:
    """Make a folder and everything in it readable by its owner only (folders 0700, files 0600).

    For folders a library fills (the topic model): call it before the folder is swapped into place.
    """
    folder = Path(folder)
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, PRIVATE_FOLDER if path.is_dir() else PRIVATE_FILE)
    return folder


def staging_folder(target: str | Path) -> Path:
    """A new empty folder beside ``target`` to build its replacement in (see :func:`swap_folder`)."""
    target = Path(target)
    ensure_folder(target.parent)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))


def swap_folder(staged: str | Path, target: str | Path) -> Path:
    """Put a fully written folder in place of ``target`` (the old one is removed only afterwards)."""
    staged, target = Path(staged), Path(target)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(staged, target)
    except BaseException:
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    return target


def discard(path: str | Path | None) -> None:
    """Remove a staged file or folder that will not be used (no error if it is gone)."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class LockBusy(Exception):
    """Raised by :func:`file_lock` when another process holds the lock and ``wait`` ran out."""


@contextlib.contextmanager
def file_lock(path: str | Path, *, wait: float = 0.0, poll: float = 0.2) -> Iterator[Path]:
    """Hold an exclusive advisory lock on ``path`` (created if needed) for the ``with`` block.

    Waits up to ``wait`` seconds for another holder to let go, then raises :class:`LockBusy`.
    The operating system releases the lock when the process ends, however it ends.
    """
    import fcntl

    path = Path(path)
    ensure_folder(path.parent)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    deadline = time.monotonic() + max(wait, 0.0)
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(str(path)) from None
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        handle.close()  # closing releases the lock


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    if path.is_file():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
