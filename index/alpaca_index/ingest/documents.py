"""Plain data types shared by loading, chunking, storage and search."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SourceFile:
    """A readable docs file found under a root."""

    root: Path
    path: Path  # absolute
    rel: str  # posix path relative to `base` (the id used everywhere)
    size: int
    mtime: float
    read_at: float = 0.0  # wall-clock time the sync read the file (see sync._vouching_mtime)
    base: Path | None = None  # what `rel` is relative to: the root, or above it when roots share names

    @property
    def stored_root(self) -> Path:
        """The folder stored with the file's rows: stored_root / rel is the file."""
        return self.base or self.root


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why (shown to the user, never fatal)."""

    path: str
    reason: str


@dataclass
class Block:
    """A run of source lines that should stay together (paragraph, code block, table, list)."""

    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    text: str  # cleaned for display and embedding
    kind: str = "text"  # text | code | table | list


@dataclass
class Section:
    """The content under one heading."""

    headings: list[str]  # heading path below the page title
    anchor: str
    start_line: int
    end_line: int
    blocks: list[Block] = field(default_factory=list)


@dataclass
class ParsedDoc:
    """One logical document: a page, or one row of a Q&A CSV."""

    title: str
    sections: list[Section]
    anchor: str = ""
    doc_key: str = ""  # "" for a whole file; "row-12" for a CSV row


@dataclass
class Chunk:
    """The unit that is embedded, stored and returned by search."""

    id: str
    path: str
    title: str
    heading_path: str  # "Page › Section › Sub"
    anchor: str
    start_line: int
    end_line: int
    text: str  # display text (cleaned)
    embed_text: str  # what is embedded and full-text indexed: heading path + text
    kind: str = "section"  # section | title

    def to_dict(self) -> dict:
        return asdict(self)
