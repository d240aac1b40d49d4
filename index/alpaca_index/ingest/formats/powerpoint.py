"""PowerPoint (.pptx) through python-pptx: one section per slide (its title), blocks from its
text frames, tables and speaker notes, all located by the 1-based slide number."""

from __future__ import annotations

import io

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE

from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats.deadline import Deadline
from alpaca_index.ingest.formats.office import check_package, core_title, unreadable
from alpaca_index.ingest.formats.sections import SectionBuilder


def parse(data: bytes, fallback_title: str, deadline: Deadline) -> ParsedDoc:
    check_package(data, "PowerPoint", ".pptx")
    try:
        deck = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-pptx raises several kinds for a file that isn't a deck
        raise unreadable("PowerPoint", exc) from None
    slides = list(deck.slides)
    title = core_title(deck.core_properties) or next((t for t in map(_slide_title, slides[:1]) if t), "")
    builder = SectionBuilder(fallback_title, explicit_anchors=False)
    builder.set_title(title or fallback_title)
    for index, slide in enumerate(slides):
        deadline.check(index, len(slides), "slide")
        number = index + 1
        heading = _slide_title(slide)
        builder.heading(2, heading or f"Slide {number}", f"slide-{number}", number)
        title_shape = slide.shapes.title
        for shape in _shapes(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            text, kind = _shape_text(shape)
            if text:
                builder.block(Block(number, number, text, kind))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                builder.block(Block(number, number, "Notes: " + notes.text.strip(), "text"))
    return builder.build(max(len(slides), 1))


def _slide_title(slide) -> str:
    shape = slide.shapes.title
    return " ".join(shape.text_frame.text.split()) if shape is not None and shape.has_text_frame else ""


def _shapes(shapes):
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _shape_text(shape) -> tuple[str, str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in shape.table.rows]
        return "\n".join(r for r in rows if r.strip(" |")), "table"
    if shape.has_text_frame:
        lines = [p.text.strip() for p in shape.text_frame.paragraphs]
        return "\n".join(line for line in lines if line), "text"
    return "", "text"
