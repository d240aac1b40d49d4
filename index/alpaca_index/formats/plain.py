"""Plain text and reStructuredText: blank-line separated blocks; RST section titles by adornment."""

from __future__ import annotations

import re

from alpaca_index.documents import Block, ParsedDoc
from alpaca_index.formats.sections import SectionBuilder

_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+:._])\1{2,}\s*$")
_RST_LABEL = re.compile(r"^\.\.\s+_([\w\-. ]+):\s*$")


def _rst_titles(lines: list[str]) -> dict[int, tuple[str, int]]:
    """Map 0-based title line → (adornment style, lines consumed incl. under/overline)."""
    titles: dict[int, tuple[str, int]] = {}
    for i in range(len(lines) - 1):
        text, under = lines[i].strip(), lines[i + 1]
        if not text or _ADORNMENT.match(lines[i]) or not _ADORNMENT.match(under) or len(under.strip()) < len(text):
            continue
        over = i > 0 and lines[i - 1].strip() == under.strip()
        titles[i] = (("over" if over else "") + under.strip()[0], 2)
    return titles


def parse(text: str, fallback_title: str, rst: bool) -> ParsedDoc:
    lines = text.splitlines()
    titles = _rst_titles(lines) if rst else {}
    levels: dict[str, int] = {}
    builder = SectionBuilder(fallback_title, explicit_anchors=False)
    label = ""
    para: list[int] = []

    def flush() -> None:
        if para:
            body = "\n".join(lines[j].rstrip() for j in para).strip()
            builder.block(Block(para[0] + 1, para[-1] + 1, body, "text"))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if i in titles:
            flush()
            style, consumed = titles[i]
            level = levels.setdefault(style, len(levels) + 1)
            builder.heading(level, line.strip(), label, i + 1)
            label = ""
            i += consumed
            continue
        match = _RST_LABEL.match(line) if rst else None
        if match:
            flush()
            label = match.group(1).strip().lower().replace(" ", "-")
        elif not line.strip() or (rst and _ADORNMENT.match(line)):
            flush()
        else:
            para.append(i)
        i += 1
    flush()
    return builder.build(len(lines))
