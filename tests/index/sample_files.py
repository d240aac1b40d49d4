"""Small real PDF, Word and PowerPoint files, written by the libraries that make them
(reportlab, python-docx, python-pptx), for the format tests and bench/formats.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

# prose that makes a section long enough to be a chunk of its own (tiny sections merge)
FILLER = ("Operators follow the same order every time so that no request is lost, and they write the time of "
          "each step into the shift log so the next shift can see what was done and why.")


def wrap(text: str, width: int = 90) -> str:
    """Lines that fit a PDF page (make_pdf draws one line per line)."""
    return "\n".join(textwrap.wrap(text, width))


def make_pdf(path: Path, pages: list[str], title: str = "", outline: list[tuple[int, str, int]] = (),
             password: str = "") -> Path:
    """`pages`: text per page (lines split on newlines); `outline`: (level, title, page number)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=password or None)
    if title:
        pdf.setTitle(title)
    entries = {}
    for level, heading, page in outline:
        entries.setdefault(page, []).append((level, heading))
    for number, text in enumerate(pages, 1):
        for n, (level, heading) in enumerate(entries.get(number, [])):
            key = f"p{number}-{n}"
            pdf.bookmarkPage(key)
            pdf.addOutlineEntry(heading, key, level=level)
        y = 800
        for line in text.splitlines():
            pdf.drawString(60, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


def make_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """Pages with only drawings on them: what a scan without OCR looks like to a text extractor."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        for row in range(40):
            pdf.rect(60, 780 - row * 18, 300 + (row * 37) % 150, 10, fill=1)
        pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path, title: str, body: list[tuple[str, str]]) -> Path:
    """`body`: (style, text) pairs in order; style "h1".."h3", "p", "bullet" or "table" (cells by " | ")."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for style, text in body:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1]))
        elif style == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif style == "table":
            rows = [r.split(" | ") for r in text.splitlines()]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def make_pptx(path: Path, slides: list[tuple[str, list[str], str]]) -> Path:
    """`slides`: (title, bullet lines, speaker notes); the first slide uses the title layout."""
    import pptx

    deck = pptx.Presentation()
    for n, (title, bullets, notes) in enumerate(slides):
        slide = deck.slides.add_slide(deck.slide_layouts[0 if n == 0 else 1])
        slide.shapes.title.text = title
        body = slide.placeholders[1]
        body.text_frame.text = "\n".join(bullets)
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path
