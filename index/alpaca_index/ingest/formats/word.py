"""Word (.docx) through python-docx: paragraphs and tables in body order, headings from styles.

Word has no fixed pages (they depend on layout), so a block is located by its paragraph number.
"""

from __future__ import annotations

import io
import re

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats.deadline import Deadline
from alpaca_index.ingest.formats.office import check_package, core_title, unreadable
from alpaca_index.ingest.formats.sections import SectionBuilder

_HEADING = re.compile(r"^heading\s*(\d)$", re.I)
_LIST = re.compile(r"^list", re.I)


def parse(data: bytes, fallback_title: str, deadline: Deadline) -> ParsedDoc:
    check_package(data, "Word", ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises several kinds for a package that isn't a Word document
        raise unreadable("Word", exc) from None
    builder = SectionBuilder(fallback_title, explicit_anchors=False)
    if title := core_title(document.core_properties):
        builder.set_title(title)
    items = list(document.iter_inner_content())
    for number, item in enumerate(items, 1):
        if number % 200 == 0:
            deadline.check(number, len(items), "paragraph")
        if isinstance(item, Table):
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows]
            builder.block(Block(number, number, "\n".join(r for r in rows if r.strip(" |")), "table"))
            continue
        text = item.text.strip()
        style = _style_name(item)
        level = 1 if style.lower() == "title" else _heading_level(style)
        if level:
            builder.heading(level, " ".join(text.split()), "", number)
        elif text:
            builder.block(Block(number, number, text, "list" if _LIST.match(style) else "text"))
    return builder.build(max(len(items), 1))


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
        return (style.name or "") if style is not None else ""
    except Exception:  # noqa: BLE001 - a style id that the styles part doesn't define
        return ""


def _heading_level(style: str) -> int:
    match = _HEADING.match(style)
    return min(int(match.group(1)), 6) if match else 0
