"""Plain text: blank-line separated paragraphs under the file name as title."""

from __future__ import annotations

from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats.sections import SectionBuilder


def parse(text: str, fallback_title: str) -> ParsedDoc:
    lines = text.splitlines()
    builder = SectionBuilder(fallback_title, explicit_anchors=False)
    para: list[int] = []
    for i, line in enumerate(lines + [""]):
        if line.strip():
            para.append(i)
        elif para:
            body = "\n".join(lines[j].rstrip() for j in para).strip()
            builder.block(Block(para[0] + 1, para[-1] + 1, body, "text"))
            para = []
    return builder.build(len(lines))
