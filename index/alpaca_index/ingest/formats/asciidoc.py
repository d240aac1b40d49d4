"""AsciiDoc: sections from `=` headings (`= Title`, `== Section`, …), blocks between blank lines.

No well-kept Python AsciiDoc parser exists (Asciidoctor is Ruby), so this reads the block
structure the index needs: headings, `[[id]]`/`[#id]` anchors, delimited listings kept whole,
attribute entries and comments dropped.
"""

from __future__ import annotations

import re

from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats.sections import SectionBuilder

_HEADING = re.compile(r"^(={1,6})\s+(\S.*?)\s*(?:=+\s*)?$")
_ANCHOR = re.compile(r"^\[\[([\w\-.:]+)(?:,[^\]]*)?\]\]\s*$|^\[#([\w\-.:]+)[^\]]*\]\s*$")
_DELIMITER = re.compile(r"^(-{4,}|\.{4,}|={4,}|\*{4,}|_{4,}|\+{4,}|/{4,}|\|===)\s*$")
_ATTRIBUTE = re.compile(r"^:!?[\w\-]+!?:")
_BLOCK_META = re.compile(r"^\[[^\]]*\]\s*$")  # [source,python], [NOTE], …
_KIND = {"-": "code", ".": "code", "|": "table"}


def parse(text: str, fallback_title: str) -> ParsedDoc:
    lines = text.splitlines()
    builder = SectionBuilder(fallback_title, explicit_anchors=False)
    anchor = ""
    para: list[int] = []

    def flush() -> None:
        if para:
            body = "\n".join(lines[j].rstrip() for j in para).strip()
            builder.block(Block(para[0] + 1, para[-1] + 1, body, "text"))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        delimiter = _DELIMITER.match(line)
        if delimiter:  # a delimited block runs to the same delimiter; listings and tables stay whole
            flush()
            close = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == line.rstrip()), len(lines))
            body = "\n".join(lines[i + 1:close]).strip("\n")
            if delimiter.group(1).startswith("/"):  # a comment block
                body = ""
            kind = _KIND.get(delimiter.group(1)[0], "text")
            if body.strip():
                builder.block(Block(i + 2, max(i + 2, close), body, kind))
            i = close + 1
            continue
        heading = _HEADING.match(line)
        if heading and not para:
            flush()
            builder.heading(len(heading.group(1)), heading.group(2), anchor, i + 1)
            anchor = ""
        elif match := _ANCHOR.match(line):
            flush()
            anchor = match.group(1) or match.group(2)
        elif not line.strip() or line.startswith("//") or _ATTRIBUTE.match(line) or _BLOCK_META.match(line):
            flush()
        else:
            para.append(i)
        i += 1
    flush()
    return builder.build(len(lines))
