"""The index's public face: one object the CLI, the answer module and the language server use."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from alpaca_index.embedding import DEFAULT_MODEL, Embedder
from alpaca_index.embedding.model_dir import WEIGHTS
from alpaca_index.embedding.tune import embedder_for, model_info
from alpaca_index.ingest.chunking import ChunkSettings
from alpaca_index.ingest.loading import DEFAULT_MAX_BYTES
from alpaca_index.retrieval.search import (
    _COLUMNS,
    Found,
    Hit,
    SearchSettings,
    best_per_file,
    hybrid,
)
from alpaca_index.storage import summary
from alpaca_index.storage.store import IndexCorrupt, Store
from alpaca_index.storage.vector_cache import VectorCache
from alpaca_index.sync import Progress, SyncReport, sync

__all__ = ["DocsIndex", "Hit", "ReadableIndex", "SyncReport", "IndexCorrupt"]

RELATED_QUERY_TOKENS = 200


class ReadableIndex(Protocol):
    """What callers may use of an open index: `DocsIndex`, or `SharedIndex` (a cached reader)."""

    db: str
    read_only: bool
    open_error: str | None  # set when opening had to repair or rebuild the index

    @property
    def embedder(self) -> Embedder: ...

    def search(self, query: str, k: int = 10, path_prefix: str | None = None,
               exclude_path: str | None = None) -> list[Hit]: ...

    def search_files(self, query: str, k: int = 5, path_prefix: str | None = None,
                     exclude_path: str | None = None) -> list[Hit]: ...

    def search_pages(self, query: str, k: int = 5, chunks: int = 20) -> Found: ...

    def related(self, path: str | None = None, text: str | None = None, k: int = 5) -> list[Hit]: ...

    def indexed_path(self, path: str) -> str | None: ...

    def status(self) -> dict: ...

    def sync(self, roots: Sequence[str | Path], ignore: list[str] | None = None,
             progress: Progress | None = None, rehash: bool = False) -> SyncReport: ...


class DocsIndex:
    def __init__(self, db: str | Path, model: str = DEFAULT_MODEL, chunking: ChunkSettings = ChunkSettings(),
                 searching: SearchSettings = SearchSettings(), max_bytes: int = DEFAULT_MAX_BYTES,
                 storage_options: dict | None = None, embedder: Embedder | None = None, read_only: bool = False):
        self.db = str(db)
        self.read_only = read_only  # a reader of a shared index: never creates, repairs or writes
        self.embedder = embedder or Embedder(model)
        self.chunking = chunking
        self.searching = searching
        self.max_bytes = max_bytes
        self.store = Store(db, storage_options)
        # `alpaca status` reads the summary of an index opened the way it opens one: the packaged model
        self._summarised = self.store.local and not read_only and self.embedder.name == DEFAULT_MODEL
        # an index adapted by `alpaca tune` embeds with its own model
        self.embedder = embedder_for(db, self.store, self.embedder, read_only)
        self.vectors = VectorCache(_COLUMNS)
        self._sync_lock = threading.Lock()
        self.damaged: list[str] = []  # files whose chunk rows failed their checks on open
        self.open_error: str | None = None
        self.rebuilt = self._open()

    def _open(self) -> bool:
        """Open the tables; an unreadable or foreign index is rebuilt (files are the truth)."""
        model = self._model_meta()  # an unreadable model folder is an error of its own: never a rebuild
        if self.read_only:
            self.store.open_existing(**model)
            return False
        try:
            rebuilt = self.store.ensure(chunking=repr(self.chunking), **model)
            self.damaged = self.store.drop_damaged()
        except Exception as exc:  # noqa: BLE001 - any failure to open means an unreadable index: rebuild from the files
            return self._rebuild(exc)
        if self.damaged:
            self.open_error = (f"index at {self.db} had damaged rows in {len(self.damaged)} file(s); "
                               "they were dropped and are redone by the next sync")
        return rebuilt

    def _model_meta(self) -> dict:
        """What the index records about its vectors, read from the model folder's small files:
        opening an index never loads the model (it loads on the first query or changed chunk)."""
        embedder = self.embedder
        return {"dim": embedder.dim, "model": embedder.name, "model_id": embedder.identity,
                "legacy_model": DEFAULT_MODEL if embedder.name == DEFAULT_MODEL else None}

    def _rebuild(self, exc: Exception) -> bool:
        self.open_error = f"index at {self.db} was unreadable and has been rebuilt ({type(exc).__name__})"
        self.store.drop_all()
        self.store.ensure(chunking=repr(self.chunking), **self._model_meta())
        self.vectors.reset()
        return True

    def sync(self, roots: Sequence[str | Path], ignore: list[str] | None = None,
             progress: Progress | None = None, rehash: bool = False) -> SyncReport:
        """Make the index equal to the files; `rehash` reads every file instead of trusting size + mtime."""
        if self.read_only:
            raise PermissionError(f"index at {self.db} was opened read-only")
        with self._sync_lock:
            try:  # files may have been lost from the index folder since it was opened
                self.store.check_readable()
            except IndexCorrupt as exc:
                self.rebuilt = self._rebuild(exc)
            report = sync(self.store, self.embedder, [Path(r) for r in roots], ignore, self.max_bytes,
                          self.chunking, progress, rehash)
            report.rebuilt = self.rebuilt
            self.rebuilt = False
            self.status()  # records the summary the next `alpaca status` reads
            return report

    def search(self, query: str, k: int = 10, path_prefix: str | None = None,
               exclude_path: str | None = None) -> list[Hit]:
        query = (query or "").strip()
        table = self.store.chunks
        if not query or table.count_rows() == 0:
            return []
        return hybrid(table, lambda: self.embedder.encode_query(query), query, k, self.searching, path_prefix,
                      exclude_path, self.vectors)

    def search_files(self, query: str, k: int = 5, path_prefix: str | None = None,
                     exclude_path: str | None = None) -> list[Hit]:
        return self.search_pages(query, k, 0, path_prefix, exclude_path).pages

    def search_pages(self, query: str, k: int = 5, chunks: int = 20, path_prefix: str | None = None,
                     exclude_path: str | None = None) -> Found:
        """The k best pages and, from the same search, the best `chunks` chunks (what an answer needs)."""
        # the fused order does not depend on depth (scores scale to the candidates-th), so the first
        # `chunks` of this deeper search are what search(query, chunks) returns
        hits = self.search(query, max(k * 8, chunks, self.searching.candidates), path_prefix, exclude_path)
        return Found(best_per_file(hits, k, self.searching), hits[:chunks])

    def related(self, path: str | None = None, text: str | None = None, k: int = 5) -> list[Hit]:
        """Docs related to a file (by its title and opening) or to a piece of text; never itself."""
        exclude = None
        if path is not None:
            exclude = self.indexed_path(path)
            if text is None:
                text = self._file_text(path, exclude)
        query = self._trim(text or "")
        if not query:
            return []
        # an indexed page already has vectors: its title chunk's (else its mean) saves an encode
        vector = self.vectors.page_vector(self.store.chunks, exclude) if exclude and path is not None else None
        if vector is None:
            return self.search_files(query, k, exclude_path=exclude)
        hits = hybrid(self.store.chunks, vector, query, max(k * 8, self.searching.candidates), self.searching,
                      None, exclude, self.vectors)
        return best_per_file(hits, k, self.searching)

    def indexed_path(self, path: str) -> str | None:
        """Accept a catalog path or an absolute path under an indexed root."""
        catalog = self.store.catalog()
        if path in catalog:
            return path
        absolute = Path(path).resolve()
        for root in {entry["root"] for entry in catalog.values()}:
            try:
                rel = absolute.relative_to(root).as_posix()
            except ValueError:
                continue
            if catalog.get(rel, {}).get("root") == root:
                return rel
        return None

    def _file_text(self, path: str, rel: str | None) -> str:
        if rel is not None:  # an indexed doc: its title chunk summarises it best
            rows = (self.store.chunks.search().where(f"path = '{rel.replace(chr(39), chr(39) * 2)}'")
                    .select(["embed_text", "kind"]).limit(3).to_list())
            if rows:
                return "\n".join(r["embed_text"] for r in rows)
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise FileNotFoundError(f"cannot read {path}: {exc.strerror}") from None

    def _trim(self, text: str) -> str:
        words = text.split()
        if not words:
            return ""
        # keep roughly the model window: later words would be ignored by the encoder anyway
        return " ".join(words[:RELATED_QUERY_TOKENS])

    def status(self) -> dict:
        """Files, chunks, model, last sync. A local index opened with the packaged model also
        records it (storage/summary.py), so `alpaca status` can answer without opening it."""
        weights = self.embedder.path / WEIGHTS
        before = summary.folder_state(Path(self.db), weights) if self._summarised else None
        catalog = self.store.catalog()
        meta = self.store.meta()
        data = {
            "db": self.db, "model": self.embedder.name, "dim": int(meta.get("dim", 0) or 0),
            "model_id": meta.get("model_id"),
            "model_info": model_info(self.db, meta.get("model")),
            "files": len(catalog), "chunks": self.store.chunks.count_rows(),
            "last_sync": float(meta["last_sync"]) if meta.get("last_sync") else None,
            "roots": sorted({e["root"] for e in catalog.values()}),
            "version": self.store.chunks.version,
        }
        # not while the tables name another model than this object embeds with (mid-`alpaca tune`)
        if before is not None and meta.get("model") == self.embedder.name:
            summary.record(Path(self.db), data, before)
        return data
