"""Turn the bytes of a text file into ``str``, whatever encoding it was saved in.

Real exports arrive as UTF-8 (with or without a BOM), UTF-16 with a BOM (Windows
tools), Windows-1252 (old Word and subtitle tools) and now and then a legacy CJK
code page. We try what the bytes declare first, then strict UTF-8, then a
statistical guess, and refuse binary data with a clear message.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from toolkit.errors import InputDataError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_bytes(raw: bytes, path: str | Path, *, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file's bytes and normalise line ends to ``\\n``.

    Parameters
    ----------
    raw : the file's bytes.
    path : the file, for error messages.
    encoding : force this encoding (from ``study.toml``) instead of detecting it.

    Returns
    -------
    (text, encoding) : the decoded text without BOM, and the encoding used.

    Examples
    --------
    >>> decode_bytes("caf\\u00e9\\r\\n".encode("utf-16"), "x.srt")
    ('café\\n', 'utf-16-le')
    """
    if not raw.strip():
        raise InputDataError(path, "the file is empty.", "Export it again or remove it from the study folder.")
    if encoding:
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputDataError(
                path,
                f"cannot be decoded as {encoding} ({exc}).",
                "Fix ingest.encoding in study.toml or remove it to let the toolkit detect the encoding.",
            ) from None
        return _normalise(text.lstrip("\ufeff")), encoding

    for bom, name in _BOMS:
        if raw.startswith(bom):
            try:
                return _normalise(raw[len(bom) :].decode(name)), name
            except UnicodeDecodeError:
                raise InputDataError(
                    path,
                    f"starts with a {name} byte-order mark but is not valid {name}.",
                    "Open it in a text editor and save it again as UTF-8.",
                ) from None

    # UTF-16 without a BOM: every other byte is NUL in mostly-ASCII text.
    if len(raw) >= 4 and raw.count(0) > len(raw) // 4:
        even_nuls = raw[0::2].count(0)
        odd_nuls = raw[1::2].count(0)
        name = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
        try:
            return _normalise(raw.decode(name)), name
        except UnicodeDecodeError:
            raise InputDataError(
                path,
                "looks like a binary file, not text (it contains NUL bytes).",
                "Check that it is really a transcript or CSV export.",
            ) from None

    try:
        return _normalise(raw.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass

    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None or best.encoding is None:
        raise InputDataError(
            path,
            "is not readable text in any known encoding.",
            "Save it again as UTF-8, or set ingest.encoding in study.toml.",
        )
    name = best.encoding
    # charset-normalizer often names a Latin cousin for Western text; Windows-1252 is what
    # Windows tools write, and it decodes every byte those cousins do in practice.
    if name.startswith(("cp125", "latin", "iso8859", "mac_", "cp85", "cp437", "kz1048", "ptcp154")):
        try:
            return _normalise(raw.decode("cp1252")), "cp1252"
        except UnicodeDecodeError:
            pass
    return _normalise(str(best)), name


def read_text_file(path: str | Path, *, encoding: str | None = None) -> tuple[str, str]:
    """Read a text file from disk; see :func:`decode_bytes`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputDataError(path, f"cannot be read ({exc.strerror}).", "Check the path and its permissions.") from None
    return decode_bytes(raw, path, encoding=encoding)


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
