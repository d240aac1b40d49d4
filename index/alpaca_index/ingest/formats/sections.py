"""Builds the section tree while a parser walks headings and blocks in document order."""

from __future__ import annotations

from alpaca_index.ingest.cleaning import slugify
from alpaca_index.ingest.documents import Block, ParsedDoc, Section


class SectionBuilder:
    def __init__(self, fallback_title: str, explicit_anchors: bool):
        self.title = ""
        self.page_anchor = ""
        self.fallback_title = fallback_title
        self.explicit_anchors = explicit_anchors  # AWS pages: headings without <a name> inherit
        self.stack: list[tuple[int, str, str]] = []  # (level, heading, anchor)
        self.sections: list[Section] = [Section([], "", 1, 1)]

    def set_title(self, title: str, anchor: str = "") -> None:
        """A title known before the body (front matter, document properties)."""
        self.title, self.page_anchor = title, anchor or ("" if self.explicit_anchors else slugify(title))
        self.sections[0].anchor = self.page_anchor

    def heading(self, level: int, text: str, anchor: str, line: int) -> None:
        if not text:
            return
        if text == self.title and not self.stack and not self._has_content():
            return  # the page repeats its given title as its first heading
        if not self.title and level == 1 and not self._has_content():
            self.title, self.page_anchor = text, anchor or ("" if self.explicit_anchors else slugify(text))
            self.sections[0].anchor = self.page_anchor
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if not anchor:
            anchor = (self.stack[-1][2] if self.stack else self.page_anchor) if self.explicit_anchors else slugify(text)
        self.stack.append((level, text, anchor))
        self._close(line - 1)
        self.sections.append(Section([h for _, h, _ in self.stack], anchor, line, line))

    def block(self, block: Block) -> None:
        if block.text.strip():
            self.sections[-1].blocks.append(block)
            self.sections[-1].end_line = max(self.sections[-1].end_line, block.end_line)

    def _has_content(self) -> bool:
        return any(s.blocks for s in self.sections)

    def _close(self, line: int) -> None:
        current = self.sections[-1]
        current.end_line = max(current.end_line, current.blocks[-1].end_line if current.blocks else line)

    def build(self, total_lines: int, doc_key: str = "") -> ParsedDoc:
        self.sections[-1].end_line = max(self.sections[-1].end_line, total_lines)
        sections = [s for s in self.sections if s.blocks or s.headings]
        return ParsedDoc(self.title or self.fallback_title, sections, self.page_anchor, doc_key)
