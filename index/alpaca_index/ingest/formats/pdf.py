"""PDF through pypdfium2 (PDFium, Chrome's PDF engine): the text layer page by page.

Sections come from the document outline (bookmarks) when it has one; every block is located by
its 1-based page number. Without a text layer (a scan) the file is skipped with that reason: OCR
is not a default dependency.
"""

from __future__ import annotations

import re

import pypdfium2 as pdfium

from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats.deadline import Deadline
from alpaca_index.ingest.formats.sections import SectionBuilder

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_HYPHENATED = re.compile(r"(\w)-\n(\w)")
_PRODUCER_PREFIX = re.compile(r"^Microsoft (Word|PowerPoint) - ", re.I)
_FILE_NAME = re.compile(r"\.(docx?|pptx?|pdf|rtf|odt|tex|md|html?)$", re.I)
# by PdfiumError.err_code (None when PDFium gave no code)
_ERRORS: dict[int | None, str] = {4: "password-protected PDF: save a copy without the password to index it",
           3: "not a readable PDF (corrupt or truncated)", 2: "not a readable PDF (file could not be read)",
           5: "PDF uses an unsupported security handler"}


def parse(data: bytes, fallback_title: str, deadline: Deadline) -> ParsedDoc:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ValueError(_ERRORS.get(getattr(exc, "err_code", None), f"not a readable PDF ({exc})")) from None
    try:
        return _read(pdf, fallback_title, deadline)
    finally:
        pdf.close()


def _read(pdf: pdfium.PdfDocument, fallback_title: str, deadline: Deadline) -> ParsedDoc:
    pages = len(pdf)
    title = _useful_title(str(pdf.get_metadata_dict().get("Title", "")))
    builder = SectionBuilder(title or fallback_title, explicit_anchors=False)
    builder.set_title(title or fallback_title)
    outline = _outline(pdf, pages)
    chars = 0
    for index in range(pages):
        deadline.check(index, pages, "page")
        number = index + 1
        for level, heading in outline.get(index, []):
            builder.heading(level + 2, heading, "", number)
        page = pdf[index]
        try:
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            textpage.close()
        finally:
            page.close()
        text = _HYPHENATED.sub(r"\1\2", text.replace("\r\n", "\n").replace("\r", "\n"))
        for paragraph in _PARAGRAPH_BREAK.split(text):
            body = " ".join(paragraph.split())
            if body:
                chars += len(body)
                builder.block(Block(number, number, body, "text"))
    if chars == 0:
        raise ValueError(f"no text layer in {pages} page(s) (a scanned PDF?): OCR it (e.g. ocrmypdf) to index it")
    return builder.build(pages)


def _useful_title(raw: str) -> str:
    """The metadata title, unless it is a tool's placeholder ("untitled", "Microsoft Word - a.docx")."""
    title = " ".join(_PRODUCER_PREFIX.sub("", raw).split())
    return "" if title.lower() in {"untitled", "untitled document", "title", "slide 1"} or _FILE_NAME.search(title) \
        else title


def _outline(pdf: pdfium.PdfDocument, pages: int) -> dict[int, list[tuple[int, str]]]:
    """page index → [(level, title)] of the bookmarks that start there (a broken outline is ignored)."""
    found: dict[int, list[tuple[int, str]]] = {}
    try:
        for n, item in enumerate(pdf.get_toc(max_depth=6)):
            if n >= 5000:
                break
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            title = " ".join((item.get_title() or "").split())
            if title and index is not None and 0 <= index < pages:
                found.setdefault(index, []).append((min(item.level, 4), title))
    except Exception:  # noqa: BLE001 - a cyclic or damaged outline: the pages still index, without sections
        return {}
    return found
