"""Open zip-based files (.docx, .xlsx, .odt) without letting them unpack into a bomb.

Checked in three passes, all before any parser sees the file:

1. the End Of Central Directory record alone (the last bytes of the file): how many
   entries the archive declares, so a zip of millions of entries is refused before
   :mod:`zipfile` builds an object for each;
2. the central directory: every entry's declared unpacked size, their total and each
   entry's compression ratio;
3. every entry streamed through the decompressor in chunks, counting the bytes it really
   yields, so sizes that lie are caught too (Python's :mod:`zipfile` also stops at the
   declared size and then fails the CRC check, which we report as damage).

Nothing is kept in memory beyond one chunk. The limits are in :mod:`toolkit.ingest.limits`.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

from toolkit.errors import InputDataError
from toolkit.ingest.limits import LIMITS, MB, Limits

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CHUNK = 1 << 20


def check_archive(path: str | Path, source: bytes | BinaryIO, *, what: str, limits: Limits = LIMITS) -> None:
    """Refuse a zip archive that would unpack past :class:`~toolkit.ingest.limits.Limits`.

    Parameters
    ----------
    path : the file, for messages.
    source : its bytes, or a binary file object open on it.
    what : what the file is, for messages ("Word file", "Excel workbook").
    limits : the limits (default :data:`~toolkit.ingest.limits.LIMITS`).

    Raises
    ------
    InputDataError
        Too many entries, too many unpacked bytes, a bomb's compression ratio, or a
        damaged archive; the message names the file and the limit.

    Examples
    --------
    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    ...     archive.writestr("xl/worksheets/sheet1.xml", b"0" * 5_000_000)
    >>> check_archive("bomb.xlsx", buffer.getvalue(), what="Excel workbook")
    Traceback (most recent call last):
    ...
    toolkit.errors.InputDataError: bomb.xlsx: is an Excel workbook whose part 'xl/worksheets/sheet1.xml' unpacks ...
    """
    path = Path(path)
    handle: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    declared = _declared_entries(handle)
    if declared is not None and declared > limits.max_archive_entries:
        raise _too_many(path, what, declared, limits)
    try:
        handle.seek(0)
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _damaged(path, what, exc) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_archive_entries:
            raise _too_many(path, what, len(entries), limits)
        total = sum(info.file_size for info in entries)
        if total > limits.max_unpacked_bytes:
            raise _too_big(path, what, total, limits, declared=True)
        for info in entries:
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise InputDataError(
                    path,
                    f"is {_a(what)} whose part '{info.filename}' unpacks from {info.compress_size:,} to "
                    f"{info.file_size:,} bytes ({info.file_size // max(info.compress_size, 1):,} times; real files "
                    f"compress at most ~35 times, the limit is {limits.max_ratio}). It looks like a 'zip bomb' "
                    "and was not opened.",
                    _FIX,
                )
        _stream_entries(path, what, archive, entries, limits)


def _stream_entries(path: Path, what: str, archive: zipfile.ZipFile, entries: list, limits: Limits) -> None:
    """Decompress every entry in chunks, counting real bytes; refuse past the limits."""
    seen = 0
    for info in entries:
        if info.is_dir():
            continue
        try:
            with archive.open(info) as member:
                own = 0
                while chunk := member.read(_CHUNK):
                    own += len(chunk)
                    seen += len(chunk)
                    if own > info.file_size or seen > limits.max_unpacked_bytes:
                        raise _too_big(path, what, seen, limits, declared=False)
        except InputDataError:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise _damaged(path, what, exc, part=info.filename) from None


def _declared_entries(handle: BinaryIO) -> int | None:
    """The entry count of the End Of Central Directory record (zip64 too), or None if not found."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    tail_size = min(size, 65_535 + 22)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return None
    entries = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if entries != 0xFFFF:
        return entries
    locator = tail.rfind(_ZIP64_LOCATOR, 0, at)
    if locator < 0 or locator + 20 > len(tail):
        return None
    offset = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
    if offset + 56 > size:
        return None
    handle.seek(offset)
    record = handle.read(56)
    if not record.startswith(_ZIP64_EOCD):
        return None
    return struct.unpack("<Q", record[32:40])[0]


_FIX = "If the file is genuine, open it in its program, save a copy, and run again; otherwise remove it."


def _a(what: str) -> str:
    return ("an " if what[:1].lower() in "aeiou" else "a ") + what


def _too_many(path: Path, what: str, count: int, limits: Limits) -> InputDataError:
    return InputDataError(
        path,
        f"is {_a(what)} of {count:,} files inside; the limit is {limits.max_archive_entries:,} (real ones "
        "hold about 10-20). It was not opened.",
        _FIX,
    )


def _too_big(path: Path, what: str, size: int, limits: Limits, *, declared: bool) -> InputDataError:
    how = "declares" if declared else "unpacked to more than"
    return InputDataError(
        path,
        f"is {_a(what)} that {how} {size / MB:,.0f} MB of content; the limit is "
        f"{limits.max_unpacked_bytes / MB:,.0f} MB unpacked (toolkit/ingest/limits.py). It was not read.",
        "Split it into smaller files, or remove it if it is not real study data.",
    )


def _damaged(path: Path, what: str, exc: Exception, part: str = "") -> InputDataError:
    if part:
        problem = (
            f"is a damaged {what}: its part '{part}' does not unpack to what the archive declares ({exc}), "
            "so it was not read."
        )
    else:
        problem = f"is a damaged {what}: it is not a readable zip archive ({exc})."
    return InputDataError(
        path,
        problem,
        f"Download or export it again; if its program can open it, save it again as {path.suffix or 'the same type'}.",
    )
