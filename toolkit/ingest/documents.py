"""Word (.docx), OpenDocument (.odt) and PDF transcripts -> lines of text.

Each reader returns the document's paragraphs as lines (and any warnings); speaker
labels are then recognised in those lines exactly as in a ``.txt`` transcript (see
:mod:`toolkit.ingest.transcripts`). Tables whose first cell is short read as
``Label: text`` lines, the layout of transcripts kept in two-column tables.

Hostile files are refused before they are parsed: zip-based files through
:func:`~toolkit.ingest.archives.check_archive` (entry count, unpacked size, ratio),
XML with entity parsing that never fetches anything (external entities are never
resolved, nested ones never expanded), PDFs through pypdf's own stream limits plus a
page limit. Limits live in :mod:`toolkit.ingest.limits`.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections import Counter
from pathlib import Path

from toolkit.errors import InputDataError
from toolkit.ingest.archives import check_archive
from toolkit.ingest.limits import LIMITS, MB, Limits, check_size

log = logging.getLogger(__name__)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"(?i)^\s*(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?\s*$")


# --------------------------------------------------------------------------- docx
def docx_lines(path: Path, *, limits: Limits = LIMITS) -> tuple[list[str], list[str]]:
    """The paragraphs (and table rows) of a Word file's body, as lines; and warnings."""
    check_size(path, limits.max_file_bytes, "a Word file")
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise InputDataError(
                path,
                "is an old binary Word file (.doc) or a password-protected .docx, which cannot be read.",
                "Open it in Word or LibreOffice, remove any password, and save it again as .docx.",
            )
        if not head.startswith(b"PK"):
            raise InputDataError(
                path,
                "is not a readable Word .docx file (a .docx is a zip archive and this file is not one). It may be "
                "damaged, only partly downloaded, or another kind of file renamed to .docx.",
                "Open it in Word or LibreOffice and save it again as .docx.",
            )
        check_archive(path, handle, what="Word file", limits=limits)
    declares_entities = _part_declares_entities(path, "word/document.xml")
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - installed with the toolkit
        raise InputDataError(path, f"cannot be read: python-docx is missing ({exc}).", "Run the setup command.")
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputDataError(
            path,
            f"is not a readable Word .docx file ({type(exc).__name__}). It may be corrupt, password-protected, "
            "or an old .doc file renamed to .docx.",
            "Open it in Word or LibreOffice, remove any password, and save it again as .docx.",
        ) from None
    except Exception as exc:  # noqa: BLE001 - lxml and zip errors of damaged files
        if declares_entities:
            raise _entity_error(path) from None
        raise InputDataError(
            path,
            f"is a damaged Word file ({type(exc).__name__}).",
            "Open it in Word or LibreOffice and save it again as .docx.",
        ) from None
    warnings = _inline_entities(document.element, limits)
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            rows = [[c.text.strip() for c in row.cells] for row in Table(child, document).rows]
            lines.extend(_table_lines(rows))
    if not any(line.strip() for line in lines):
        raise InputDataError(path, "holds no text.", "Check that the right file was exported.")
    return [line.replace("\r", "") for line in lines], warnings


def _part_declares_entities(path: Path, part: str) -> bool:
    """True when an XML part of the archive declares entities (Word never writes any)."""
    with zipfile.ZipFile(path) as archive:
        try:
            with archive.open(part) as member:
                return bool(_ENTITY_DECL.search(member.read(64 * 1024)))
        except KeyError:
            return False


def _entity_error(path: Path) -> InputDataError:
    return InputDataError(
        path,
        "declares XML entities that refer to each other or cannot be parsed (an 'entity expansion' attack, "
        "or a file not written by a word processor). It was not read; nothing in it was expanded or fetched.",
        "Open it in Word or LibreOffice and save it again as .docx, or remove it.",
    )


def _inline_entities(root, limits: Limits) -> list[str]:
    """Put the text of entity references back in the tree, so no text after one is lost.

    Parsers here never resolve entities (so nothing external is ever fetched); lxml
    then keeps ``&name;`` as a node, and the text after it would be dropped. An entity
    declared in the file's own DTD with a short plain-text value is replaced by that
    value; anything else (external, undeclared, nested) stays as the literal ``&name;``.
    """
    from lxml import etree

    nodes = list(root.iter(etree.Entity))
    if not nodes:
        return []
    declared: dict[str, str] = {}
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None:
        for decl in dtd.iterentities():
            value = decl.content
            plain = value is not None and "&" not in value and "<" not in value
            if decl.system_url is None and plain and len(value) <= limits.max_entity_chars:
                declared[decl.name] = value
    replaced = kept = 0
    for node in nodes:
        name = node.name
        value = declared.get(name)
        if value is None:
            value = f"&{name};"
            kept += 1
        else:
            replaced += 1
        text = value + (node.tail or "")
        parent = node.getparent()
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + text
        else:
            parent.text = (parent.text or "") + text
        parent.remove(node)
    parts = []
    if replaced:
        parts.append(f"{replaced} replaced by the value the file declares")
    if kept:
        parts.append(f"{kept} external or undeclared, kept as written ('&name;') and never fetched")
    return [f"the file uses XML entities (word processors never write them): {'; '.join(parts)}"]


def _table_lines(rows: list[list[str]]) -> list[str]:
    """Rows of a table as lines: 'Label: text' when the first cell is a short label."""
    lines = []
    for cells in rows:
        cells = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]
        if len(cells) >= 2 and len(cells[0]) <= 48 and "\n" not in cells[0]:
            lines.append(f"{cells[0].rstrip(':')}: {' '.join(cells[1:])}")
        elif cells:
            lines.append(" ".join(cells))
        lines.append("")
    return lines


# --------------------------------------------------------------------------- odt
_ODF = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
}
_T = f"{{{_ODF['text']}}}"
_TABLE = f"{{{_ODF['table']}}}"
_OFFICE = f"{{{_ODF['office']}}}"
_ODT_SKIP = {_T + "note", _T + "tracked-changes", _OFFICE + "annotation", _OFFICE + "annotation-end", _T + "bookmark"}


def odt_lines(path: Path, *, limits: Limits = LIMITS) -> tuple[list[str], list[str]]:
    """The paragraphs, headings, list items and table rows of an OpenDocument text, as lines.

    Read as what it is, a zip of XML (no extra library): ``content.xml`` parsed with
    lxml, entities never resolved, after the archive limits are checked.
    """
    check_size(path, limits.max_file_bytes, "an OpenDocument file")
    with open(path, "rb") as handle:
        if not handle.read(4).startswith(b"PK"):
            raise InputDataError(
                path,
                "is not an OpenDocument text: an .odt is a zip archive and this file is not one.",
                "Open it in LibreOffice or Word and save it again as .odt or .docx.",
            )
        check_archive(path, handle, what="OpenDocument file", limits=limits)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
        if b"encryption-data" in manifest:
            raise InputDataError(
                path,
                "is password-protected (encrypted), so it cannot be read.",
                "Open it in LibreOffice, save a copy without a password, and run again.",
            )
        mimetype = archive.read("mimetype").strip() if "mimetype" in names else b""
        if mimetype and mimetype != b"application/vnd.oasis.opendocument.text":
            raise InputDataError(
                path,
                f"is an OpenDocument file of another kind ({mimetype.decode('ascii', 'replace')}), not a text.",
                "Save the transcript as a text document (.odt or .docx).",
            )
        if "content.xml" not in names:
            raise InputDataError(path, "has no content.xml, so it is not a readable .odt.", "Save it again as .odt.")
        content = archive.read("content.xml")
    root = _parse_xml(path, content)
    warnings = _inline_entities(root, limits)
    body = root.find("office:body/office:text", _ODF)
    if body is None:
        raise InputDataError(path, "has no text body (office:text).", "Check that it is a text document.")
    lines: list[str] = []
    _odt_block(body, lines)
    if not any(line.strip() for line in lines):
        raise InputDataError(path, "holds no text.", "Check that the right file was exported.")
    return lines, warnings


def _parse_xml(path: Path, data: bytes):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        if _ENTITY_DECL.search(data[: 64 * 1024]):
            raise _entity_error(path) from None
        raise InputDataError(
            path, f"is damaged: its XML cannot be parsed ({exc}).", "Open it and save it again."
        ) from None


def _odt_block(element, lines: list[str]) -> None:
    """Walk block elements in document order: paragraphs and headings are lines."""
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in (_T + "p", _T + "h"):
            lines.append(_odt_inline(child))
        elif tag == _TABLE + "table":
            rows = []
            for row in child.iter(_TABLE + "table-row"):
                cells = []
                for cell in row.iter(_TABLE + "table-cell"):
                    parts: list[str] = []
                    _odt_block(cell, parts)
                    cells.append(" ".join(p.strip() for p in parts if p.strip()))
                rows.append(cells)
            lines.extend(_table_lines(rows))
        elif tag in _ODT_SKIP:
            continue
        elif tag:
            _odt_block(child, lines)  # sections, lists, list items, table headers...


def _odt_inline(element) -> str:
    """The text of a paragraph: spans, spaces (text:s), tabs and line breaks."""
    out = [element.text or ""]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == _T + "s":
            out.append(" " * int(child.get(_T + "c", "1") or 1))
        elif tag == _T + "tab":
            out.append("\t")
        elif tag == _T + "line-break":
            out.append("\n")
        elif tag in _ODT_SKIP:
            pass
        elif tag:
            out.append(_odt_inline(child))
        out.append(child.tail or "")
    return "".join(out)


# --------------------------------------------------------------------------- pdf
def pdf_lines(path: Path, *, limits: Limits = LIMITS) -> tuple[list[str], list[str]]:
    """The text lines of a PDF's text layer (pypdf), page headers, footers and numbers left out.

    A PDF without a text layer (a scan) is refused with the advice to OCR it.
    """
    check_size(path, limits.max_file_bytes, "a PDF")
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - installed with the toolkit
        raise InputDataError(path, f"cannot be read: pypdf is missing ({exc}).", "Run the setup command.")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputDataError(
                path,
                "is password-protected, so its text cannot be read.",
                "Open it, save or print a copy without a password (or export the transcript as .docx), and run again.",
            )
        n_pages = len(reader.pages)
        if n_pages > limits.max_pdf_pages:
            raise InputDataError(
                path,
                f"has {n_pages:,} pages; the limit for a transcript is {limits.max_pdf_pages:,} "
                "(toolkit/ingest/limits.py). It was not read.",
                "Split it into one file per interview.",
            )
        pages: list[list[str]] = []
        total = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            total += len(text)
            if total > limits.max_text_bytes:
                raise InputDataError(
                    path,
                    f"holds more than {limits.max_text_bytes / MB:,.0f} MB of text, the limit for one transcript "
                    "(toolkit/ingest/limits.py). It was not read.",
                    "Split it into one file per interview.",
                )
            pages.append(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    except InputDataError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise InputDataError(
            path,
            f"is not a readable PDF ({type(exc).__name__}). It may be damaged or not a PDF at all.",
            "Export the transcript again, as .docx or .pdf.",
        ) from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on malformed files
        raise InputDataError(
            path, f"is a damaged PDF ({type(exc).__name__}).", "Export the transcript again, as .docx or .pdf."
        ) from None
    chars = [len("".join(lines).strip()) for lines in pages]
    if sum(chars) < max(10, 2 * n_pages):
        raise InputDataError(
            path,
            f"has no text layer ({n_pages} page(s) of images: a scan or a photo), so there is no text to read.",
            "If it is a transcript, run OCR on it first (for example `ocrmypdf in.pdf out.pdf`, or your scanner's "
            "'searchable PDF' option), check the result, and put the OCR'd file in the study folder; if it is not "
            "(a signed consent form, say), add it to [ingest] exclude in study.toml.",
        )
    lines, warnings = _drop_page_furniture(pages)
    blank = sum(1 for n in chars if n == 0)
    if blank:
        warnings.append(f"{blank} of {n_pages} PDF page(s) have no text layer (scanned?) and were read as blank")
    return lines, warnings


def _drop_page_furniture(pages: list[list[str]]) -> tuple[list[str], list[str]]:
    """Join pages, leaving out page numbers and the header/footer lines repeated on most pages."""

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split()))

    repeated: set[str] = set()
    if len(pages) >= 3:
        edges = Counter()
        for lines in pages:
            content = [line for line in lines if line.strip()]
            for line in {key(x) for x in content[:2] + content[-2:]}:
                edges[line] += 1
        repeated = {line for line, n in edges.items() if n >= max(3, len(pages) // 2) and line}
    out: list[str] = []
    dropped = 0
    for lines in pages:
        for line in lines:
            if line.strip() and (_PAGE_NUMBER.fullmatch(line) or key(line) in repeated):
                dropped += 1
                continue
            out.append(line.rstrip())
        out.append("")
    warnings = []
    if dropped:
        warnings.append(f"{dropped} page number, header or footer line(s) of the PDF were left out")
    return out, warnings
