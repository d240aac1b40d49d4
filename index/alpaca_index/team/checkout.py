"""A shared index seen from a developer's own checkout of its docs.

The writer (e.g. docs CI) recorded its own absolute paths; a reader's editor or agent must open
the files of its local clone instead. `InCheckout` re-roots every hit onto the checkout and takes
local paths for `related`, and otherwise is the index it wraps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from alpaca_index.api import ReadableIndex
from alpaca_index.embedding import Embedder
from alpaca_index.retrieval.search import Found, Hit
from alpaca_index.sync import Progress, SyncReport


class InCheckout:
    def __init__(self, index: ReadableIndex, docs_root: Path):
        self.index = index
        self.docs_root = docs_root.expanduser().resolve()
        self.db = index.db
        self.read_only = index.read_only
        self.open_error = index.open_error

    @property
    def embedder(self) -> Embedder:
        return self.index.embedder

    def _local(self, hits: list[Hit]) -> list[Hit]:
        return [replace(hit, abspath=str(self.docs_root / hit.path)) for hit in hits]

    def _indexed(self, path: str) -> str:
        """A file of the checkout → the path the index knows it by."""
        try:
            return Path(path).expanduser().resolve().relative_to(self.docs_root).as_posix()
        except ValueError:
            return path

    def search(self, query: str, k: int = 10, path_prefix: str | None = None,
               exclude_path: str | None = None) -> list[Hit]:
        return self._local(self.index.search(query, k, path_prefix, exclude_path))

    def search_files(self, query: str, k: int = 5, path_prefix: str | None = None,
                     exclude_path: str | None = None) -> list[Hit]:
        return self._local(self.index.search_files(query, k, path_prefix, exclude_path))

    def search_pages(self, query: str, k: int = 5, chunks: int = 20) -> Found:
        found = self.index.search_pages(query, k, chunks)
        return Found(self._local(found.pages), self._local(found.chunks))

    def related(self, path: str | None = None, text: str | None = None, k: int = 5) -> list[Hit]:
        indexed = self._indexed(path) if path is not None else None
        if indexed is not None and text is None and self.index.indexed_path(indexed) is None:
            text = Path(path or "").read_text(encoding="utf-8", errors="replace")  # a local file the index lacks
        return self._local(self.index.related(indexed, text, k))

    def indexed_path(self, path: str) -> str | None:
        return self.index.indexed_path(self._indexed(path))

    def status(self) -> dict:
        return {**self.index.status(), "checkout": str(self.docs_root)}

    def sync(self, roots: Sequence[str | Path], ignore: list[str] | None = None,
             progress: Progress | None = None, rehash: bool = False) -> SyncReport:
        return self.index.sync(roots, ignore, progress, rehash)
