"""Hostile files, built at run time (never committed): zip bombs, lying archives, sheets that
claim a million rows, XML entities, text of one enormous line; and a way to measure what
reading one costs in memory (a fresh interpreter's peak resident set size)."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import docx
import openpyxl

REPO = Path(__file__).resolve().parents[2]
MB = 1_000_000

_CHUNK = 1 << 20


class _Repeated:
    """A deflate stream of one block repeated: built by repeating the block's compressed form.

    After a full flush a deflate compressor's output no longer depends on what came
    before, so one compressed megabyte can be written N times: a bomb of a gigabyte is
    made in a fraction of a second, as an attacker would make it.
    """

    def __init__(self, head: bytes, block: bytes, tail: bytes, size: int):
        unit = block * max(1, _CHUNK // len(block))
        self.count = max(1, (size - len(head) - len(tail)) // len(unit))
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.head = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
        self.unit = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
        self.tail = compressor.compress(tail) + compressor.flush()
        crc = zlib.crc32(head)
        for _ in range(self.count):
            crc = zlib.crc32(unit, crc)
        self.crc = zlib.crc32(tail, crc)
        self.size = len(head) + self.count * len(unit) + len(tail)
        self.packed = len(self.head) + self.count * len(self.unit) + len(self.tail)

    def write(self, handle) -> None:
        handle.write(self.head)
        for _ in range(self.count):
            handle.write(self.unit)
        handle.write(self.tail)


def write_zip(path: Path, parts: list[tuple[str, bytes | _Repeated]], *, declare: dict[str, int] | None = None) -> Path:
    """A zip archive written by hand, so an entry can be a precompressed bomb or declare a false size."""
    declare = declare or {}
    directory = []
    with open(path, "wb") as handle:
        for name, data in parts:
            if isinstance(data, _Repeated):
                crc, size, packed = data.crc, data.size, data.packed
            else:
                compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
                raw = compressor.compress(data) + compressor.flush()
                crc, size, packed = zlib.crc32(data), len(data), len(raw)
            size = declare.get(name, size)
            offset = handle.tell()
            encoded = name.encode()
            handle.write(
                struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, packed, size, len(encoded), 0)
            )
            handle.write(encoded)
            if isinstance(data, _Repeated):
                data.write(handle)
            else:
                handle.write(raw)
            directory.append((encoded, crc, packed, size, offset))
        start = handle.tell()
        for encoded, crc, packed, size, offset in directory:
            handle.write(
                struct.pack(
                    "<4sHHHHHHIIIHHHHHII",
                    b"PK\x01\x02",
                    20,
                    20,
                    0,
                    8,
                    0,
                    0x21,
                    crc,
                    packed,
                    size,
                    len(encoded),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
            )
            handle.write(encoded)
        end = handle.tell()
        handle.write(
            struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(directory), len(directory), end - start, start, 0)
        )
    return path


def tiny_workbook() -> bytes:
    """A real two-answer workbook (openpyxl), whose parts the hostile workbooks reuse."""
    book = openpyxl.Workbook()
    book.active.title = "Form1"
    for row in (["ID", "I feel supported"], [1, "Agree"], [2, "Disagree"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(source: bytes, path: Path, part: str, write_part) -> Path:
    """Copy a zip, with ``part`` written by ``write_part(handle)``."""
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == part:
                info = zipfile.ZipInfo(part, date_time=item.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(info, "w") as handle:
                    write_part(handle)
            else:
                zout.writestr(item, zin.read(item.filename))
    return path


def _parts(source: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


_SHEET_HEAD = (
    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"
_ROW = '<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>Agree</t></is></c></row>'
_SAME_ROW = b'<row><c t="inlineStr"><is><t>Agree</t></is></c><c><v>1</v></c></row>'


def xlsx_bomb(path: Path, unpacked: int = 1_100 * MB, *, declared: int | None = None) -> Path:
    """A workbook whose one sheet holds ``unpacked`` bytes of identical rows (about 300 times its size).

    ``declared`` makes the archive lie about the sheet's unpacked size.
    """
    bomb = _Repeated(_SHEET_HEAD, _SAME_ROW, _SHEET_TAIL, unpacked)
    parts = [(name, bomb if name == "xl/worksheets/sheet1.xml" else data) for name, data in _parts(tiny_workbook())]
    return write_zip(path, parts, declare={"xl/worksheets/sheet1.xml": declared} if declared else None)


def xlsx_rows(path: Path, rows: int) -> Path:
    """A workbook of ``rows`` numbered rows of answers (real data, as Excel would write it)."""
    body = "".join(_ROW.format(r=r) for r in range(2, rows + 2)).encode()
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c><c r="B1" t="inlineStr"><is><t>I feel supported</t></is></c></row>'
    sheet = _SHEET_HEAD + header + body + _SHEET_TAIL
    parts = [(name, sheet if name == "xl/worksheets/sheet1.xml" else data) for name, data in _parts(tiny_workbook())]
    return write_zip(path, parts)


def xlsx_far_cell(path: Path) -> Path:
    """A few bytes of sheet that claim A1:XFD1048576, with one value in the last row."""
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:XFD1048576"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c><c r="B1" t="inlineStr"><is><t>Q1</t></is></c></row>'
        b'<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>Agree</t></is></c></row>'
        b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
    )
    parts = [(name, sheet if name == "xl/worksheets/sheet1.xml" else data) for name, data in _parts(tiny_workbook())]
    return write_zip(path, parts)


def lying_zip(path: Path, declared: int = 2_000, real: int = 1_100 * MB) -> Path:
    """A workbook whose sheet declares ``declared`` unpacked bytes but unpacks to ``real``."""
    return xlsx_bomb(path, unpacked=real, declared=declared)


def many_entries_zip(path: Path, entries: int = 60_000) -> Path:
    """A small workbook with ``entries`` empty files inside (each costs :mod:`zipfile` an object)."""
    parts = _parts(tiny_workbook()) + [(f"customXml/item{i}.xml", b"") for i in range(entries)]
    return write_zip(path, parts)


def base_docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_with_dtd(path: Path, dtd: str, reference: str, placeholder: str = "PLACEHOLDER") -> Path:
    """A Word file whose document.xml declares ``dtd`` and uses ``reference`` where ``placeholder`` was."""
    source = base_docx(["Interviewer: How was it?", f"Participant: It was {placeholder} fine after all."])

    def write(handle):
        with zipfile.ZipFile(io.BytesIO(source)) as zin:
            xml = zin.read("word/document.xml").decode()
        head, rest = xml.split("?>", 1)
        handle.write((head + "?>" + dtd + rest.replace(placeholder, reference)).encode())

    return _rewrite(source, path, "word/document.xml", write)


BILLION_LAUGHS = (
    '<!DOCTYPE w:document [<!ENTITY a "lol">'
    + "".join(f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefgh", "bcdefghi"))
    + "]>"
)


def docx_bomb(path: Path, unpacked: int = 1_100 * MB) -> Path:
    """A Word file whose document part unpacks to ``unpacked`` bytes of identical paragraphs."""
    head = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    bomb = _Repeated(head, b"<w:p><w:r><w:t>lol</w:t></w:r></w:p>", b"</w:body></w:document>", unpacked)
    parts = [(name, bomb if name == "word/document.xml" else data) for name, data in _parts(base_docx(["x"]))]
    return write_zip(path, parts)


def one_line_text(path: Path, size: int = 50 * MB) -> Path:
    """A text file of ``size`` bytes on a single line (written in blocks)."""
    block = ("We shared data with the council and it went well, mostly, until the systems changed. " * 1000).encode()
    with open(path, "wb") as handle:
        written = 0
        while written < size:
            chunk = block[: size - written]
            handle.write(chunk)
            written += len(chunk)
    return path


UNLIMITED = "Limits(**{f: 10**15 for f in Limits.__dataclass_fields__})"
"""An expression for limits that never refuse: the cost a hostile file had before they existed."""


def measure(expression: str, path: Path, timeout: float = 600, max_memory_mb: int | None = None) -> dict:
    """Evaluate ``expression`` (e.g. ``"read_survey(path)"``) on ``path`` in a fresh interpreter.

    Returns ``{"error": message or None, "baseline_mb": peak RSS after imports,
    "peak_mb": peak RSS, "grown_mb": peak - baseline, "seconds": time of the call}``.
    ``max_memory_mb`` caps the child's address space, so a read without limits fails with
    MemoryError instead of taking the machine.
    """
    code = textwrap.dedent(
        f"""
        import json, resource, time
        from pathlib import Path
        from toolkit.ingest import read_file, read_survey, read_transcript
        from toolkit.ingest.limits import Limits
        import openpyxl, docx, pypdf, lxml.etree, pandas
        path = Path({str(path)!r})
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        error = None
        start = time.perf_counter()
        try:
            {expression}
        except Exception as exc:
            error = f"{{type(exc).__name__}}: {{exc}}"
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"error": error, "baseline_mb": base / 1024, "peak_mb": peak / 1024,
                          "grown_mb": (peak - base) / 1024, "seconds": seconds}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def cap() -> None:
        import resource

        limit = max_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
        preexec_fn=cap if max_memory_mb else None,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"measuring {path.name} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- documents
def write_pdf(path: Path, pages: list[list[str]], *, image_only: bool = False) -> Path:
    """A PDF whose pages show ``pages`` as lines of Helvetica text (or, with ``image_only``, a grey
    image and no text layer, as a scanner makes). Written by hand: no PDF writer needed."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        if image_only:
            image = add(
                b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 "
                b"/Length 64 >>\nstream\n" + bytes([128]) * 64 + b"\nendstream"
            )
            content = b"q 400 0 0 600 100 100 cm /Im1 Do Q"
            resources = f"<< /XObject << /Im1 {image} 0 R >> >>".encode()
        else:
            ops = ["BT /F1 11 Tf 14 TL 72 770 Td"]
            for line in lines:
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"({escaped}) Tj T*")
            ops.append("ET")
            content = "\n".join(ops).encode("cp1252")
            resources = f"<< /Font << /F1 {font} 0 R >> >>".encode()
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] /Contents {stream} 0 R "
                f"/Resources ".encode()
                + resources
                + b" >>"
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


_ODT_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>{dtd}<office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3">'
    "<office:body><office:text>{body}</office:text></office:body></office:document-content>"
)
_ODT_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>{extra}</manifest:manifest>'
)


def write_odt(path: Path, body: str, *, dtd: str = "", encrypted: bool = False) -> Path:
    """An OpenDocument text whose ``office:text`` holds ``body`` (ODF XML), as LibreOffice lays it out."""
    extra = '<manifest:encryption-data manifest:checksum-type="SHA1/1K"/>' if encrypted else ""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", _ODT_CONTENT.format(dtd=dtd, body=body), zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", _ODT_MANIFEST.format(extra=extra), zipfile.ZIP_DEFLATED)
    return path
