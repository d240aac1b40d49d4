"""Format readers: a file's bytes → ParsedDoc(s) made of sections and located blocks.

`FORMATS` is the one list of what the index reads: the file walker, the watcher, the server's
`initialize` result and the editor's "Add Documents…" dialog all take their extensions from here.

A block's `start_line`/`end_line` is its line for text formats, its page for PDF, its slide for
PowerPoint and its paragraph number for Word; `place()` turns that into the label citations show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from alpaca_index.ingest.documents import ParsedDoc
from alpaca_index.ingest.formats.deadline import Deadline

BINARY_SIZE_FACTOR = 10  # PDF/Office files carry images: their byte cap is this multiple of the text cap


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    unit: str = "line"  # what a block's start/end count: line | page | slide | paragraph
    binary: bool = False  # read from bytes by a library, not decoded as text


FORMATS = (
    Format("Markdown", (".md", ".markdown")),
    Format("MDX", (".mdx",)),
    Format("reStructuredText", (".rst",)),
    Format("AsciiDoc", (".adoc", ".asciidoc")),
    Format("Text", (".txt",)),
    Format("HTML", (".html", ".htm")),
    Format("CSV (one document per row)", (".csv",)),
    Format("PDF", (".pdf",), unit="page", binary=True),
    Format("Word", (".docx",), unit="paragraph", binary=True),
    Format("PowerPoint", (".pptx",), unit="slide", binary=True),
)
_BY_SUFFIX = {ext: fmt for fmt in FORMATS for ext in fmt.extensions}
EXTENSIONS = tuple(_BY_SUFFIX)


def format_of(path: str) -> Format | None:
    return _BY_SUFFIX.get(PurePosixPath(path).suffix.lower())


def unit_of(path: str) -> str:
    fmt = format_of(path)
    return fmt.unit if fmt else "line"


def size_cap(path: str, max_bytes: int) -> int:
    fmt = format_of(path)
    return max_bytes * BINARY_SIZE_FACTOR if fmt and fmt.binary else max_bytes


def place(path: str, start: int, end: int) -> str:
    """The label a citation shows: "lines 3-9", "p. 12", "pp. 12-13", "slide 4", "¶ 7"."""
    unit = unit_of(path)
    start, end = int(start or 0), int(end or start or 0)
    if start <= 0:
        return ""
    span = str(start) if end <= start else f"{start}-{end}"
    if unit == "page":
        return f"p. {start}" if end <= start else f"pp. {span}"
    if unit == "slide":
        return f"slide {span}" if end <= start else f"slides {span}"
    if unit == "paragraph":
        return f"¶ {span}"
    return f"line {start}" if end <= start else f"lines {span}"


def read(rel: str, data: bytes, deadline: Deadline | None = None) -> list[ParsedDoc]:
    """Bytes of one file → its documents; ValueError with the reason the user sees if unusable."""
    from alpaca_index.ingest.formats import (
        asciidoc,
        csv_rows,
        html,
        markdown,
        mdx,
        pdf,
        plain,
        powerpoint,
        rst,
        text,
        word,
    )

    fmt = format_of(rel)
    fallback_title = PurePosixPath(rel).stem.replace("-", " ").replace("_", " ")
    deadline = deadline or Deadline()
    if fmt is not None and fmt.binary:
        reader = {"PDF": pdf.parse, "Word": word.parse, "PowerPoint": powerpoint.parse}[fmt.name]
        return [reader(data, fallback_title, deadline)]
    content = text.decode(data)
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix in {".md", ".markdown"}:
        return [markdown.parse(content, fallback_title)]
    if suffix == ".mdx":
        return [mdx.parse(content, fallback_title)]
    if suffix == ".rst":
        return [rst.parse(content, fallback_title)]
    if suffix in {".adoc", ".asciidoc"}:
        return [asciidoc.parse(content, fallback_title)]
    if suffix in {".html", ".htm"}:
        return [html.parse(content, fallback_title)]
    if suffix == ".csv":
        return csv_rows.parse(content)
    return [plain.parse(content, fallback_title)]


def parse(rel: str, text: str) -> list[ParsedDoc]:
    """Already-decoded text of a text format (tests, callers that hold a string)."""
    return read(rel, text.encode("utf-8"))
