"""The text of a draft handed to ``monitor check text``: Word (.docx), PDF with a text layer, plain text.

The format is told by the file's bytes, not its name (a .docx renamed .txt is still read as Word).
Anything else — legacy .doc/.wps, spreadsheets, images, a PDF without a text layer, a damaged file —
raises :class:`DocumentError`: proofreading must never call a file clean because it could not read it.

Each paragraph of a Word file (body, tables and text boxes in document order, then headers and
footers) becomes one line; a PDF gives its text page by page, lines wrapped inside a paragraph joined.
"""

from __future__ import annotations

import io
import zipfile

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Leading bytes of binary formats people save drafts or attachments in, with what to tell them.
_KNOWN_BINARY = (
    (_OLE_MAGIC, "a legacy Word/WPS/Excel file (.doc/.wps/.xls): save it as .docx first"),
    (b"{\\rtf", "an RTF file: save it as .docx or .txt first"),
    (b"\x89PNG", "an image (PNG): text in images cannot be checked"),
    (b"\xff\xd8\xff", "an image (JPEG): text in images cannot be checked"),
    (b"GIF8", "an image (GIF): text in images cannot be checked"),
    (b"Rar!", "a RAR archive: unpack it and check each file"),
    (b"7z\xbc\xaf", "a 7-Zip archive: unpack it and check each file"),
)


class DocumentError(ValueError):
    """A file ``monitor check text`` cannot read; the message says why and what to do."""


def read_document(data: bytes, name: str = "-") -> str:
    """The text of ``data`` (the bytes of file ``name``), one paragraph or text line per line."""
    if data.startswith(b"PK\x03\x04"):
        return _docx_text(data, name)
    if data.lstrip()[:5] == b"%PDF-":
        return _pdf_text(data, name)
    for magic, what in _KNOWN_BINARY:
        if data.startswith(magic):
            raise DocumentError(f"{name}: {what}")
    return _plain_text(data, name)


def _plain_text(data: bytes, name: str) -> str:
    """UTF-8 (BOM optional), UTF-16 with BOM or GBK/GB18030 text; other bytes are refused."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DocumentError(f"{name}: not valid UTF-16 text") from None
    if b"\x00" in data:
        raise DocumentError(f"{name}: a binary file, not text, .docx or .pdf")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: exc.start].count(b"\n") + 1
            raise DocumentError(
                f"{name}: line {line} is neither UTF-8 nor GBK/GB18030 text (a binary file?)"
            ) from None
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls > 8:
        raise DocumentError(f"{name}: a binary file, not text, .docx or .pdf")
    return text


def _docx_text(data: bytes, name: str) -> str:
    """Paragraphs of a Word file in document order (python-docx), then its headers and footers."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = set(zf.namelist())
    except zipfile.BadZipFile:
        raise DocumentError(f"{name}: a damaged ZIP/Word file") from None
    if "word/document.xml" not in parts:
        file_type = "a spreadsheet (.xlsx)" if "xl/workbook.xml" in parts else "a ZIP file that is not .docx"
        raise DocumentError(f"{name}: {file_type}; only .docx, .pdf and text files can be checked")
    import docx  # python-docx: imported here, only proofreading needs it
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises a variety of XML/KeyError types on damaged parts
        raise DocumentError(f"{name}: a damaged Word file ({type(exc).__name__})") from None
    lines: list[str] = []
    # Every w:p in the body in order: paragraphs, table cells and text boxes alike.
    for p in doc.element.body.iter(qn("w:p")):
        lines.append(Paragraph(p, doc).text)
    seen: set[int] = set()
    for section in doc.sections:
        for part in (section.header, section.footer):
            if part.is_linked_to_previous or id(part._element) in seen:
                continue
            seen.add(id(part._element))
            lines.extend(p.text for p in part.paragraphs)
    return "\n".join(lines)


_SENTENCE_END = "。！？；：”」』）)!?;:"


def _unwrap(page: str) -> str:
    """Join the lines a PDF wrapped inside a paragraph: a line ending in a Han character (not sentence
    punctuation) continues on the next one, so a word cut by the line end is read whole."""
    out: list[str] = []
    for line in page.splitlines():
        stripped = line.strip()
        if (
            out
            and out[-1]
            and stripped
            and "\u4e00" <= out[-1][-1] <= "\u9fff"
            and out[-1][-1] not in _SENTENCE_END
            and "\u4e00" <= stripped[0] <= "\u9fff"
        ):
            out[-1] += stripped
        else:
            out.append(stripped)
    return "\n".join(out)


def _pdf_text(data: bytes, name: str) -> str:
    """The text layer of a PDF (pypdf), page by page; a PDF without one is refused."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings on sloppy PDFs are not the user's business
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{name}: an encrypted PDF: remove the password first")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise DocumentError(f"{name}: a damaged PDF ({exc})") from None
    text = "\n".join(_unwrap(page) for page in pages)
    if not any(ch.strip() for ch in text):
        raise DocumentError(f"{name}: the PDF has no text layer (a scan?): run OCR or check the source file")
    return text
