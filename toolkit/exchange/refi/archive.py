"""Open a ``.qdpx`` (a zip) or a bare ``.qde`` without letting a hostile file exhaust memory.

A ``.qdpx`` is refused, before anything is decompressed, when its zip directory declares too many
entries, too many bytes in all or in one entry, or an entry that expands more than
:attr:`ZipLimits.max_ratio` times. Declared sizes can lie, so every entry is also read in chunks
and counted as it decompresses: reading stops as soon as an entry passes what it declared or a
limit, and the total read from the archive is capped too. Only ``project.qde`` and the source
files the project refers to are ever decompressed.

The standard library's :mod:`zipfile` does the decompressing; what it does not do (limits before
reading, counting while reading, refusing by entry count before building its directory) is here.

Examples
--------
>>> with ProjectArchive.open("exports/study.qdpx") as archive:  # doctest: +SKIP
...     raw = archive.project_bytes()
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from toolkit.errors import InputDataError

__all__ = ["DEFAULT_LIMITS", "ProjectArchive", "ZipLimits", "read_limited"]

MiB = 1024 * 1024
_CHUNK = 1 * MiB
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"


@dataclass(frozen=True)
class ZipLimits:
    """How much a REFI-QDA file may hold before it is refused.

    The defaults leave room for large real projects (thousands of sources, a project file of a
    hundred MB or more: real ones compress about 7 times) while keeping the memory of a read within
    about a GB (lxml's tree of a 256 MB project file) at worst.

    Attributes
    ----------
    max_entries : entries in the zip (sources, notes, media).
    max_entry_bytes : uncompressed bytes of any one entry (``project.qde`` or a source file).
    max_total_bytes : uncompressed bytes of all entries (declared), and of all entries read.
    max_ratio : uncompressed / compressed size of an entry larger than ``ratio_floor`` bytes;
        text compresses 1-10 times, REFI-QDA XML about 7 times, a zip bomb hundreds to a thousand.
    ratio_floor : entries smaller than this are not checked for their ratio.
    max_directory_bytes : size of the zip's central directory (what :mod:`zipfile` reads whole).
    """

    max_entries: int = 20_000
    max_entry_bytes: int = 256 * MiB
    max_total_bytes: int = 1024 * MiB
    max_ratio: float = 100.0
    ratio_floor: int = 1 * MiB
    max_directory_bytes: int = 32 * MiB


DEFAULT_LIMITS = ZipLimits()


def _refuse(path: Path, problem: str) -> InputDataError:
    return InputDataError(
        path,
        f"refused: {problem}",
        "A REFI-QDA export of a real project stays well inside these limits; if this file is genuine, read it "
        "with larger limits (read_qdpx(path, limits=ZipLimits(...))).",
    )


def read_limited(path: Path, *, limit: int, what: str = "file") -> bytes:
    """Read a regular file of at most ``limit`` bytes (devices, pipes and larger files are refused)."""
    try:
        if path.is_dir():
            raise InputDataError(path, "is a folder, not a REFI-QDA file.", "Pass the .qdpx, .qde or .qdc file itself.")
        if not path.is_file():
            if not path.exists():
                raise InputDataError(path, "no such file.", "Check the path and the file name.")
            raise InputDataError(path, f"is not a regular file (a device or a pipe); the {what} cannot be read.")
        size = path.stat().st_size
        if size > limit:
            raise _refuse(path, f"the {what} is {size:,} bytes, more than the limit of {limit:,}.")
        chunks, got = [], 0
        with path.open("rb") as handle:  # in chunks: read(limit) would allocate the whole limit up front
            while got <= limit:
                chunk = handle.read(min(_CHUNK, limit + 1 - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        data = b"".join(chunks)
    except InputDataError:
        raise
    except OSError as exc:
        raise InputDataError(path, f"cannot be read ({exc.strerror or exc}).", "Check the file's permissions.") from None
    if len(data) > limit:  # it grew while being read
        raise _refuse(path, f"the {what} is more than the limit of {limit:,} bytes.")
    return data


def _declared_entries(path: Path) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the zip's end record, without reading its directory."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        tail_size = min(size, 22 + 65535 + 20)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            return None
        entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
        if entries == 0xFFFF or directory == 0xFFFFFFFF:
            locator = tail.rfind(_EOCD64_LOCATOR, 0, at)
            if locator >= 0 and len(tail) - locator >= 20:
                (where,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
                if where + 56 <= size:
                    handle.seek(where)
                    record = handle.read(56)
                    if record[:4] == _EOCD64:
                        entries, directory = struct.unpack("<QQ", record[32:48])
        return int(entries), int(directory)


class ProjectArchive:
    """A REFI-QDA project file opened for reading: a zip (``.qdpx``) or a bare XML file (``.qde``).

    Use :meth:`open` (a context manager). :meth:`project_bytes` gives the project XML,
    :meth:`member_bytes` one file inside the zip (by name, any letter case).
    """

    def __init__(self, path: Path, limits: ZipLimits, *, zip_file: zipfile.ZipFile | None, raw: bytes | None):
        self.path = path
        self.limits = limits
        self._zip = zip_file
        self._raw = raw
        self._read_total = 0
        self.names: dict[str, str] = {}
        if zip_file is not None:
            self.names = {info.filename.lower(): info.filename for info in zip_file.infolist()}

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | Path, limits: ZipLimits = DEFAULT_LIMITS) -> ProjectArchive:
        """Open ``path``, refusing by its declared sizes; raises :class:`InputDataError` on bad input."""
        path = Path(path).expanduser()
        head = read_limited(path, limit=limits.max_entry_bytes, what="file") if _peek(path) != b"PK" else None
        if head is not None:
            if _looks_like_xml(head):
                return cls(path, limits, zip_file=None, raw=head)
            raise InputDataError(
                path,
                "not a REFI-QDA project: it is neither a zip (.qdpx) nor XML (.qde).",
                "Export the project again from your QDA software as REFI-QDA (.qdpx).",
            )
        try:
            declared = _declared_entries(path)
        except OSError as exc:
            raise InputDataError(path, f"cannot be read ({exc.strerror or exc}).", "Check the file's permissions.") from None
        if declared is not None:
            entries, directory = declared
            if entries > limits.max_entries:
                raise _refuse(path, f"the zip declares {entries:,} entries, more than the limit of {limits.max_entries:,}.")
            if directory > limits.max_directory_bytes:
                raise _refuse(
                    path, f"the zip's directory is {directory:,} bytes, more than the limit of {limits.max_directory_bytes:,}."
                )
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise InputDataError(
                path, f"a damaged zip file ({exc}).", "Copy or export the .qdpx again; it may have been cut short."
            ) from None
        try:
            cls._check_declared(path, archive, limits)
        except BaseException:
            archive.close()
            raise
        return cls(path, limits, zip_file=archive, raw=None)

    @staticmethod
    def _check_declared(path: Path, archive: zipfile.ZipFile, limits: ZipLimits) -> None:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise _refuse(path, f"the zip holds {len(infos):,} entries, more than the limit of {limits.max_entries:,}.")
        total = 0
        for info in infos:
            size = info.file_size
            total += size
            if size > limits.max_entry_bytes:
                raise _refuse(
                    path, f"{info.filename} expands to {size:,} bytes, more than the limit of {limits.max_entry_bytes:,}."
                )
            if size > limits.ratio_floor and size > limits.max_ratio * max(info.compress_size, 1):
                ratio = size / max(info.compress_size, 1)
                raise _refuse(
                    path, f"{info.filename} expands {ratio:,.0f} times ({info.compress_size:,} -> {size:,} bytes), "
                    f"more than the limit of {limits.max_ratio:,.0f} times (a zip bomb).",
                )
        if total > limits.max_total_bytes:
            raise _refuse(path, f"the zip expands to {total:,} bytes in all, more than the limit of {limits.max_total_bytes:,}.")

    # ------------------------------------------------------------------ reading
    @property
    def is_zip(self) -> bool:
        return self._zip is not None

    def project_bytes(self) -> bytes:
        """The project XML: the ``.qde`` itself, or ``project.qde`` (any case, or another top-level ``.qde``) in the zip."""
        if self._zip is None:
            assert self._raw is not None
            return self._raw
        found = [n for n in self.names.values() if n.lower() == "project.qde"]
        found = found or [n for n in self.names.values() if n.lower().endswith(".qde") and "/" not in n.strip("/")]
        if not found:
            listed = ", ".join(sorted(self.names.values())[:5]) or "nothing"
            raise InputDataError(
                self.path, f"this zip holds no project.qde (found: {listed}).",
                "It is not a REFI-QDA project; export the project again as .qdpx.",
            )
        return self.member_bytes(found[0])

    def find(self, *candidates: str) -> str | None:
        """The zip entry named like one of ``candidates`` (letter case ignored), or None."""
        for name in candidates:
            hit = self.names.get(name.lower())
            if hit is not None:
                return hit
        return None

    def member_bytes(self, name: str) -> bytes:
        """One entry, decompressed in chunks and counted: refused as soon as it passes a limit."""
        assert self._zip is not None
        limits = self.limits
        try:
            info = self._zip.getinfo(name)
            cap = min(info.file_size, limits.max_entry_bytes)
            budget = limits.max_total_bytes - self._read_total
            chunks: list[bytes] = []
            got = 0
            with self._zip.open(info) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > cap:
                        raise _refuse(self.path, f"{name} expands past its declared {info.file_size:,} bytes or the limit.")
                    if got > budget:
                        raise _refuse(self.path, f"reading {name} passes the limit of {limits.max_total_bytes:,} bytes in all.")
                    chunks.append(chunk)
        except InputDataError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, KeyError, NotImplementedError) as exc:
            raise InputDataError(
                self.path, f"the entry {name} inside the zip is damaged ({exc}).",
                "Export the project again from your QDA software.",
            ) from None
        self._read_total += got
        return b"".join(chunks)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _peek(path: Path) -> bytes:
    try:
        if path.is_file():
            with path.open("rb") as handle:
                return handle.read(2)
    except OSError:
        pass
    return b""


def _looks_like_xml(raw: bytes) -> bool:
    head = raw[:200].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff")
