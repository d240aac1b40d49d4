"""LanceDB storage: a chunks table (vectors + full-text index), a file catalog and a meta table."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import warnings
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS
from lancedb.query import LanceQueryBuilder
from lancedb.table import Table

from alpaca_index.storage.fulltext import indexed_text

CHUNKS, FILES, META = "chunks", "files", "meta"
SCHEMA_VERSION = 1
FTS_COLUMN = "fts_text"  # the embedded text plus its identifiers' other forms (fulltext.py)
COMPACT_FRAGMENTS = 24  # each sync adds a fragment or two; compacting every time costs seconds
LOCAL_GRACE = timedelta(minutes=1)  # old versions a local query in flight may still be reading


class IndexCorrupt(RuntimeError):
    pass


def chunk_schema(dim: int) -> pa.Schema:
    return pa.schema([
        ("id", pa.string()), ("path", pa.string()), ("root", pa.string()), ("title", pa.string()),
        ("heading_path", pa.string()), ("anchor", pa.string()), ("start_line", pa.int32()),
        ("end_line", pa.int32()), ("text", pa.string()), ("embed_text", pa.string()), (FTS_COLUMN, pa.string()), ("kind", pa.string()),
        ("text_hash", pa.string()), ("file_sha", pa.string()), ("mtime", pa.float64()),
        ("vector", pa.list_(pa.float32(), dim)),
    ])


FILE_SCHEMA = pa.schema([
    ("path", pa.string()), ("root", pa.string()), ("sha256", pa.string()), ("size", pa.int64()),
    ("mtime", pa.float64()), ("chunks", pa.int32()),
])
META_SCHEMA = pa.schema([("key", pa.string()), ("value", pa.string())])


def scan(table: Table, columns: list[str] | None = None, where: str | None = None,
         row_ids: bool = False) -> LanceQueryBuilder:
    """Every row (of `columns`, matching `where`) through LanceDB's own engine. Not
    `Table.to_lance()`: that loads pylance, a second copy of the Lance engine, ~110 MB resident
    in the language server (issue 20). `row_ids` adds `_rowid`: our tables are created without
    stable row ids, so it is the row's address (fragment id << 32 | offset)."""
    query = table.search()
    if row_ids:
        query = query.with_row_id(True)
    if columns is not None:
        query = query.select(columns)
    if where is not None:
        query = query.where(where)
    return query.limit(None)


def fragment_count(table: Table) -> int:
    stats: Any = table.stats()  # a dict at run time (lancedb 0.40), whatever its annotation says
    return int(stats["fragment_stats"]["num_fragments"])


def sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def in_list(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(sql_quote(v) for v in values)})"


def user_only_dir(path: Path) -> None:
    """The index holds proprietary text: its folder is the user's alone, also when it already existed."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except PermissionError:  # not ours (e.g. a shared read-only copy): leave it as it is
        pass


class Store:
    files_table: Table  # the file catalog, opened with the chunks table

    def __init__(self, uri: str | Path, storage_options: dict[str, str] | None = None):
        self.uri = str(uri)
        self.local = "://" not in self.uri
        if self.local:
            user_only_dir(Path(self.uri))
        self.db = lancedb.connect(self.uri, read_consistency_interval=timedelta(0),
                                  storage_options=storage_options)
        self._chunks: Table | None = None  # set by ensure / open_existing
        self._catalog: tuple[tuple[int, int], dict[str, dict[str, Any]]] | None = None
        self._counts: tuple[tuple[int, int], dict[tuple[str, str], int]] | None = None

    # -- tables -----------------------------------------------------------------------------
    def _names(self) -> set[str]:
        result = self.db.table_names() if not hasattr(self.db, "list_tables") else self.db.list_tables()
        names = getattr(result, "tables", result)
        return set(names)

    def meta(self) -> dict[str, str]:
        if META not in self._names():
            return {}
        rows = self.db.open_table(META).to_arrow().to_pylist()
        return {r["key"]: r["value"] for r in rows}

    def set_meta(self, **values: object) -> None:
        data = [{"key": k, "value": v if isinstance(v, str) else json.dumps(v)} for k, v in values.items()]
        if META not in self._names():
            self.db.create_table(META, data=data, schema=META_SCHEMA)
            return
        table = self.db.open_table(META)
        table.merge_insert("key").when_matched_update_all().when_not_matched_insert_all().execute(data)

    def ensure(self, dim: int, model: str, chunking: str = "", model_id: str = "", legacy_model: str | None = None) -> bool:
        """Open or create the tables; returns True when an existing index had to be rebuilt.

        Vectors from another model (weights, pooling, precision or export: `model_id`) or of
        another size are dropped, never mixed; a new display name alone is just recorded. New
        chunk settings only empty the catalog: every file is re-chunked on the next sync while the
        old rows stay long enough for unchanged text to reuse its vectors."""
        stored = self.meta()
        meta = _adopt_legacy(stored, model_id, legacy_model)
        names = self._names()
        rebuilt = False
        wanted = {"model_id": model_id, "dim": str(dim), "schema": str(SCHEMA_VERSION)}
        if names and any(meta.get(k) != v for k, v in wanted.items()):
            self.drop_all()
            names, rebuilt, meta, stored = set(), bool(meta), {}, {}
        if CHUNKS not in names:
            self.db.create_table(CHUNKS, schema=chunk_schema(dim))
        if FILES not in names:
            self.db.create_table(FILES, schema=FILE_SCHEMA)
        self._chunks = self.db.open_table(CHUNKS)
        self.files_table = self.db.open_table(FILES)
        self._add_fulltext_column()
        self.check_readable()
        if not rebuilt and meta.get("chunking", chunking) != chunking:
            self.files_table.delete("true")
        recorded = {**wanted, "model": model, "chunking": chunking}
        if "adopted" in meta:
            recorded["adopted"] = meta["adopted"]
        if any(stored.get(k) != v for k, v in recorded.items()):
            self.set_meta(**recorded)  # no write (no new version) when nothing changed
        return rebuilt

    def _add_fulltext_column(self) -> None:
        """An index written before the identifier-aware column gets it from its own embedded text:
        a new full-text index, no re-embedding."""
        if FTS_COLUMN in self.chunks.schema.names:
            return

        def add(batch: pa.RecordBatch) -> pa.RecordBatch:
            texts = [indexed_text(t) for t in batch.column("embed_text").to_pylist()]
            return pa.RecordBatch.from_arrays([pa.array(texts, pa.string())], names=[FTS_COLUMN])

        published = self.meta().get("chunks_version") == str(self.chunks.version)
        # pylance's add_columns takes a Python function; this runs once, on an index from before the column
        self.chunks.to_lance().add_columns(add, read_columns=["embed_text"])
        self._chunks = self.db.open_table(CHUNKS)
        self.replace_fulltext()
        if "embed_text_idx" in {i.name for i in self.chunks.list_indices()}:
            self.chunks.drop_index("embed_text_idx")  # the old full-text index, no longer searched
        if published:  # a finished index stays finished: same rows, new column
            self.set_meta(chunks_version=str(self.chunks.version))

    def replace_fulltext(self) -> None:
        """(Re)build the full-text index over FTS_COLUMN."""
        self.chunks.create_index(FTS_COLUMN, config=FTS(with_position=False), replace=True)

    def open_existing(self, dim: int, model: str, model_id: str = "", legacy_model: str | None = None) -> None:
        """Open an index for reading only (a shared index has one writer): never creates, repairs or writes."""
        names, meta = self._names(), _adopt_legacy(self.meta(), model_id, legacy_model)
        if CHUNKS not in names or FILES not in names:
            raise IndexCorrupt(f"no index at {self.uri}")
        if meta.get("model_id") != model_id or meta.get("dim") != str(dim):
            raise IndexCorrupt(f"index at {self.uri} was built with model {meta.get('model')} "
                               f"[{meta.get('model_id') or 'unknown weights'}] ({meta.get('dim')}d), "
                               f"not {model} [{model_id}] ({dim}d)")
        self._chunks = self.db.open_table(CHUNKS)
        self.files_table = self.db.open_table(FILES)
        self.check_readable()

    def version(self) -> dict[str, Any]:
        """Table versions readers see now; `published` is what the writer recorded after its last sync."""
        meta = self.meta()
        return {"chunks": self.chunks.version, "files": self.files_table.version,
                "published": {k: int(meta[f"{k}_version"]) for k in (CHUNKS, FILES) if meta.get(f"{k}_version")}}

    def check_readable(self) -> None:
        """Touch every data file (the narrow columns a sync reads first) and the full-text index: a
        file lost from the folder must show here, not as a failing search later."""
        try:
            self._counts = None
            self.chunk_counts()  # kept for the sync that follows
            scan(self.files_table, ["path"]).to_arrow()
            if any(i.index_type == "FTS" for i in self.chunks.list_indices()):
                self.chunks.search("probe", query_type="fts", fts_columns=FTS_COLUMN).limit(1).to_list()
        except Exception as exc:  # lance raises a variety of IO/format errors
            raise IndexCorrupt(f"index tables unreadable: {exc}") from exc

    def drop_damaged(self) -> list[str]:
        """Read every column of every row (a damaged data page must fail here, not in every later
        search) and check each chunk against its own text hash, its unit-length vector and its
        embedded text (which ends with the text shown). The files of rows that fail lose all their
        chunk rows: their catalog entries then disagree with the chunks and the next sync redoes just
        those files. Returns their paths."""
        damaged: set[str] = set()
        # batch by batch (LanceDB's own 1,024 rows; asking for another size re-slices them, slower):
        # the whole table at once would leave its peak in the allocator for good
        try:
            for batch in scan(self.chunks).to_batches():
                damaged |= _damaged_paths(batch)
            for _ in scan(self.files_table).to_batches():
                pass
        except Exception as exc:  # lance raises a variety of IO/format errors
            raise IndexCorrupt(f"index tables unreadable: {exc}") from exc
        finally:
            pa.default_memory_pool().release_unused()
        paths = sorted(damaged)
        for begin in range(0, len(paths), 200):
            self.chunks.delete(in_list("path", paths[begin:begin + 200]))
        return paths

    def drop_all(self) -> None:
        if self.local:
            for child in Path(self.uri).iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            for name in self._names():
                self.db.drop_table(name)
        self._chunks = None
        self._catalog = self._counts = None  # caches keyed on tables that are gone

    @property
    def chunks(self) -> Table:
        """The chunks table; only after `ensure` or `open_existing` (a programming error before)."""
        if self._chunks is None:
            raise RuntimeError(f"index tables at {self.uri} are not open")
        return self._chunks

    # -- catalog ----------------------------------------------------------------------------
    def catalog(self) -> dict[str, dict[str, Any]]:
        """path → catalog row, read once per version of the files table (hovers and related ask often).
        Shared between callers: treat it as read-only."""
        table = self.files_table
        key = (id(table), table.version)
        if self._catalog is None or self._catalog[0] != key:
            self._catalog = (key, {r["path"]: r for r in table.to_arrow().to_pylist()})
        return self._catalog[1]

    def chunk_counts(self) -> dict[tuple[str, str], int]:
        """(path, file_sha) → number of chunk rows: used to detect half-written files."""
        key = (id(self.chunks), self.chunks.version)
        if self._counts is None or self._counts[0] != key:
            table = scan(self.chunks, ["path", "file_sha"]).to_arrow()
            rows = table.group_by(["path", "file_sha"]).aggregate([("path", "count")]).to_pylist()
            self._counts = (key, {(r["path"], r["file_sha"]): r["path_count"] for r in rows})
        return self._counts[1]

    def vectors_for(self, hashes: set[str]) -> dict[str, list[float]]:
        """Existing vectors by embedded-text hash, so unchanged/renamed text is never re-encoded."""
        found: dict[str, list[float]] = {}
        wanted = list(hashes)
        for begin in range(0, len(wanted), 500):
            part = wanted[begin:begin + 500]
            table = scan(self.chunks, ["text_hash", "vector"], in_list("text_hash", part)).to_arrow()
            for h, v in zip(table.column("text_hash").to_pylist(), table.column("vector").to_pylist()):
                found[h] = v
        return found

    # -- writes (order matters for crash safety: chunks first, catalog last) -----------------
    def replace_files(self, paths: list[str], rows: list[dict[str, Any]], catalog_rows: list[dict[str, Any]]) -> None:
        """One commit per batch: a reader never sees a file's old rows gone and its new ones not yet
        there (a delete then an add let a question asked in between find nothing)."""
        for row in rows:
            row[FTS_COLUMN] = indexed_text(row["embed_text"])
        for begin in range(0, len(paths), 200):
            part = set(paths[begin:begin + 200])
            new = pa.Table.from_pylist([r for r in rows if r["path"] in part], schema=self.chunks.schema)
            (self.chunks.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
             .when_not_matched_by_source_delete(in_list("path", sorted(part))).execute(new))
        if catalog_rows:
            (self.files_table.merge_insert("path").when_matched_update_all()
             .when_not_matched_insert_all().execute(catalog_rows))

    def delete_files(self, paths: list[str]) -> None:
        for begin in range(0, len(paths), 200):
            part = paths[begin:begin + 200]
            self.chunks.delete(in_list("path", part))
            self.files_table.delete(in_list("path", part))

    def delete_orphans(self, valid: dict[str, str]) -> int:
        """Chunk rows whose (path, file_sha) is not what the catalog says are leftovers of a crash."""
        stale = [p for (p, sha) in self.chunk_counts() if valid.get(p) != sha]
        for begin in range(0, len(stale), 200):
            part = stale[begin:begin + 200]
            keep = [f"(path = {sql_quote(p)} AND file_sha = {sql_quote(valid[p])})" for p in part if p in valid]
            where = in_list("path", part) + (f" AND NOT ({' OR '.join(keep)})" if keep else "")
            self.chunks.delete(where)
        return len(stale)

    def unfinished(self) -> bool:
        """The last sync stopped before `finish` completed (a crash, a full disk): the full-text index
        or the versions it publishes are missing, and no later sync would otherwise notice."""
        if self.chunks.count_rows() == 0:
            return False
        meta = self.meta()
        published = (meta.get("chunks_version"), meta.get("files_version"))
        return (published != (str(self.chunks.version), str(self.files_table.version))
                or not any(i.index_type == "FTS" for i in self.chunks.list_indices()))

    def finish(self) -> None:
        """Make sure the full-text index exists; compact only once small fragments pile up.

        New rows are searchable at once without compaction (vector search is exhaustive and the
        full-text search also scans unindexed rows), so a one-page edit skips the expensive part.
        """
        if not any(i.index_type == "FTS" for i in self.chunks.list_indices()):
            self.replace_fulltext()
        for table in (self.chunks, self.files_table, self.db.open_table(META)):
            if fragment_count(table) > COMPACT_FRAGMENTS:
                with warnings.catch_warnings():  # we are the only writer; readers re-check out the latest
                    warnings.simplefilter("ignore", UserWarning)
                    # old versions stay a while: a query in flight may still read them (an hour for a
                    # shared index: other machines may be mid-read or mirroring one)
                    table.optimize(cleanup_older_than=LOCAL_GRACE if self.local else timedelta(hours=1))
        # the versions that form this sync's consistent snapshot (the shared-index cache copies exactly these)
        self.set_meta(last_sync=str(time.time()), chunks_version=str(self.chunks.version),
                      files_version=str(self.files_table.version))


def _adopt_legacy(meta: dict[str, str], model_id: str, legacy_model: str | None) -> dict[str, str]:
    """An index from before model identities recorded only the model's name. Under the packaged
    model's name its vectors came from those same weights (sentence-transformers, fp32), which
    the ONNX export reproduces (cosine >= 0.9999, tests/index/test_embedding.py): adopt them rather
    than re-embed the corpus. Any other legacy name has no known weights and is rebuilt."""
    if meta and "model_id" not in meta and legacy_model and meta.get("model") == legacy_model:
        return {**meta, "model_id": model_id, "adopted": f"vectors from sentence-transformers {legacy_model} fp32"}
    return meta


def _damaged_paths(batch: pa.RecordBatch) -> set[str]:
    """Paths of rows whose vector is not unit length or whose texts don't match their hash."""
    if batch.num_rows == 0:
        return set()
    vectors = batch.column("vector")
    matrix = np.asarray(vectors.flatten(), dtype=np.float32).reshape(len(vectors), -1)
    with np.errstate(all="ignore"):
        norms = np.linalg.norm(matrix, axis=1)
    bad_vector = ~np.isfinite(norms) | ((norms > 1e-6) & (np.abs(norms - 1.0) > 1e-3))  # vectors are normalised
    paths, shown, embedded, hashes = (batch.column(c).to_pylist() for c in ("path", "text", "embed_text", "text_hash"))
    return {p for p, s, e, h, bad in zip(paths, shown, embedded, hashes, bad_vector)
            if bad or not e.endswith(s) or hashlib.sha1(e.encode("utf-8")).hexdigest() != h}
