"""Incremental sync: make the store equal to the files, touching only what changed.

Crash safety comes from the write order (chunks first, catalog last) and a check at the start
of every sync: a file whose chunk rows disagree with its catalog entry is simply redone, and
chunk rows that no catalog entry vouches for are deleted. Vectors are reused by text hash, so a
redo, a rename or a copy costs no encoding.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from alpaca_index.embedding import Embedder
from alpaca_index.ingest.chunking import ChunkSettings, chunk_docs, text_hash
from alpaca_index.ingest.documents import Chunk, Skipped, SourceFile
from alpaca_index.ingest.formats import Deadline, read, size_cap
from alpaca_index.ingest.loading import DEFAULT_MAX_BYTES, list_files
from alpaca_index.storage.store import Store

Progress = Callable[[str, int, int, str], None]  # (stage, done, total, current item)
BATCH_FILES = 64
RACY_SECONDS = 2.0  # file clocks are coarse (a few ms) and may lag the wall clock a little


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0
    repaired: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_written: int = 0
    chunks_encoded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.modified or self.deleted or self.repaired)

    def to_dict(self) -> dict:
        return {
            "added": self.added, "modified": self.modified, "deleted": self.deleted,
            "renamed": [list(r) for r in self.renamed], "unchanged": self.unchanged,
            "repaired": self.repaired, "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "chunks_written": self.chunks_written, "chunks_encoded": self.chunks_encoded,
            "chunks_reused": self.chunks_reused, "seconds": round(self.seconds, 3), "rebuilt": self.rebuilt,
        }


@dataclass
class _Prepared:
    file: SourceFile
    sha: str
    chunks: list[Chunk]


def _noop(stage: str, done: int, total: int, current: str) -> None:
    pass


def sync(store: Store, embedder: Embedder, roots: list[Path], ignore: list[str] | None = None,
         max_bytes: int = DEFAULT_MAX_BYTES, settings: ChunkSettings = ChunkSettings(),
         progress: Progress | None = None, rehash: bool = False) -> SyncReport:
    """`rehash` reads every file; otherwise a file whose size and mtime match its catalog entry is
    taken as unchanged without reading it."""
    started = time.perf_counter()
    progress = progress or _noop
    report = SyncReport()
    listing = list_files(roots, ignore, max_bytes)
    report.skipped.extend(listing.skipped)

    catalog = store.catalog()
    counts = store.chunk_counts()
    healthy = {p: e for p, e in catalog.items() if counts.get((p, e["sha256"]), 0) == e["chunks"]}
    # rows no catalog entry vouches for (a crash's leftovers); without them, the atomic per-file
    # swaps below cannot leave any, and the closing check is skipped
    leftovers = any(catalog.get(p, {}).get("sha256") != sha for p, sha in counts)
    report.repaired = sorted(set(catalog) - set(healthy))

    contents: dict[str, tuple[SourceFile, bytes | None, str]] = {}
    for n, file in enumerate(listing.files):
        progress("scan", n, len(listing.files), file.rel)
        entry = healthy.get(file.rel)
        if not rehash and entry and entry["mtime"] > 0 and (entry["mtime"], entry["size"]) == (file.mtime, file.size):
            contents[file.rel] = (file, None, entry["sha256"])  # same size and mtime: same bytes (like git)
            continue
        file = replace(file, read_at=time.time())
        try:  # the file may have changed since it was listed: check again what we read
            data = _read_capped(file, max_bytes)
        except ValueError as exc:
            report.skipped.append(Skipped(file.rel, str(exc)))
            continue
        except (OSError, RuntimeError) as exc:
            report.skipped.append(Skipped(file.rel, f"unreadable: {getattr(exc, 'strerror', None) or exc}"))
            continue
        contents[file.rel] = (file, data, hashlib.sha256(data).hexdigest())

    todo = [rel for rel, (_, _, sha) in contents.items() if healthy.get(rel, {}).get("sha256") != sha]
    restamped = _restamp(store, contents, healthy, set(todo))
    gone = sorted(set(catalog) - set(contents))
    report.unchanged = len(contents) - len(todo)
    gone_by_sha = {catalog[p]["sha256"]: p for p in gone}
    for rel in todo:
        sha = contents[rel][2]
        if rel in catalog and rel not in report.repaired:
            report.modified.append(rel)
        elif rel not in catalog:
            report.added.append(rel)
            if sha in gone_by_sha:
                report.renamed.append((gone_by_sha[sha], rel))

    prepared = []
    for n, rel in enumerate(todo):
        progress("chunk", n, len(todo), rel)
        source, content, sha = contents[rel]
        assert content is not None  # only files vouched for by size and mtime go unread, and they are not to do
        item = _prepare(source, content, sha, embedder, settings, report)
        if item:
            prepared.append(item)
    if todo:
        progress("chunk", len(todo), len(todo), "")
    unusable = {s.path for s in report.skipped}  # unparsable files are reported as skipped, not as added
    report.added = [p for p in report.added if p not in unusable]
    report.modified = [p for p in report.modified if p not in unusable]
    report.renamed = [r for r in report.renamed if r[1] not in unusable]
    known = store.vectors_for({text_hash(c.embed_text) for item in prepared for c in item.chunks})
    pending = {c.embed_text for item in prepared for c in item.chunks if text_hash(c.embed_text) not in known}
    encoded = [0]

    def tick(n: int) -> None:
        encoded[0] += n
        progress("embed", encoded[0], len(pending), "")

    for begin in range(0, len(prepared), BATCH_FILES):
        _write(store, embedder, prepared[begin:begin + BATCH_FILES], known, report, tick)

    # skipped files that used to be indexed (now unreadable, emptied, ...) must vanish too
    now_missing = [p for p in catalog if p not in contents or p in {s.path for s in report.skipped}]
    gone = sorted(set(gone) | {p for p in now_missing if p in catalog})
    if gone:
        store.delete_files(gone)
        report.deleted = gone
    orphans = store.delete_orphans({p: e["sha256"] for p, e in store.catalog().items()}) if leftovers else 0
    if report.changed or orphans or report.chunks_written or restamped or store.unfinished():
        progress("optimize", 0, 1, "")
        store.finish()
    report.seconds = time.perf_counter() - started
    return report


def _restamp(store: Store, contents: dict, healthy: dict[str, dict], todo: set[str]) -> int:
    """Unchanged files read only because their mtime could not vouch for them (e.g. a fresh checkout)
    get the mtime that lets the next sync skip them."""
    rows = []
    for rel, (file, data, _) in contents.items():
        if data is not None and rel not in todo:
            mtime = _vouching_mtime(file)
            if mtime > 0 and (mtime, file.size) != (healthy[rel]["mtime"], healthy[rel]["size"]):
                rows.append({**healthy[rel], "mtime": mtime, "size": file.size})
    if rows:
        store.files_table.merge_insert("path").when_matched_update_all().execute(rows)
    return len(rows)


def _vouching_mtime(file: SourceFile) -> float:
    """The catalog's mtime lets a later sync skip reading the file, so record it only when any later
    write must change it: a write in the same clock tick as our read can keep size and mtime (the
    "racy git" problem), so a file modified just before we read it gets -1 and is read again."""
    return file.mtime if file.mtime < file.read_at - RACY_SECONDS else -1.0


def _read_capped(file: SourceFile, max_bytes: int) -> bytes:
    real = file.path.resolve(strict=True)
    if file.root not in real.parents:
        raise ValueError("symlink points outside the docs root")
    cap = size_cap(file.rel, max_bytes)
    with real.open("rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise ValueError(f"too large (over the cap of {cap:,} bytes)")
    return data


def _prepare(file: SourceFile, data: bytes, sha: str, embedder: Embedder, settings: ChunkSettings,
             report: SyncReport) -> _Prepared | None:
    try:
        chunks = chunk_docs(file.rel, read(file.rel, data, Deadline()), embedder.count_tokens, settings)
    except ValueError as exc:
        report.skipped.append(Skipped(file.rel, str(exc)))
        return None
    except Exception as exc:  # noqa: BLE001 - a parser bug on one odd file must not stop the run
        report.skipped.append(Skipped(file.rel, f"could not parse: {type(exc).__name__}: {exc}"))
        return None
    if not chunks:
        report.skipped.append(Skipped(file.rel, "no text content"))
        return None
    return _Prepared(file, sha, chunks)


def _write(store: Store, embedder: Embedder, batch: list[_Prepared], known: dict[str, list[float]],
           report: SyncReport, tick: Callable[[int], None]) -> None:
    missing = sorted({c.embed_text for item in batch for c in item.chunks if text_hash(c.embed_text) not in known})
    if missing:
        for text, vector in zip(missing, embedder.encode(missing, progress=tick)):
            known[text_hash(text)] = vector.tolist()
    report.chunks_encoded += len(missing)
    rows, catalog_rows = [], []
    for item in batch:
        for chunk in item.chunks:
            h = text_hash(chunk.embed_text)
            row = chunk.to_dict()
            row.update(root=str(item.file.stored_root), text_hash=h, file_sha=item.sha, mtime=item.file.mtime, vector=known[h])
            rows.append(row)
        catalog_rows.append({"path": item.file.rel, "root": str(item.file.stored_root), "sha256": item.sha,
                             "size": item.file.size, "mtime": _vouching_mtime(item.file), "chunks": len(item.chunks)})
    report.chunks_written += len(rows)
    report.chunks_reused += len(rows) - len(missing)
    store.replace_files([item.file.rel for item in batch], rows, catalog_rows)
