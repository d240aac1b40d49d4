"""A shared index on an object store (one writer, many readers) and its local read cache.

Writer: `alpaca index DOCS --db s3://bucket/prefix` (e.g. a scheduled docs-CI job). Each sync that
changes something records the table versions it produced in the meta table (`chunks_version`,
`files_version`): together they are one consistent snapshot of the index.

Readers either query the object store directly (`ALPACA_CACHE=0`; LanceDB re-checks the latest
version on every query, so a long-running reader sees new versions without a restart) or — the
default — a local mirror of the latest published snapshot: a plain LanceDB folder re-materialised
from the remote tables (Arrow in, full-text index rebuilt locally). Every `ALPACA_CACHE_TTL`
seconds (default 15) a reader asks the store for the published version (one small read); a new
version is mirrored into a fresh folder and swapped in atomically (`state.json` names the current
folder). When the store is unreachable the cache keeps answering until its last confirmation is
older than `ALPACA_CACHE_MAX_AGE` (default 7 days); status shows the version and the cache's age.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alpaca_index.api import DocsIndex
from alpaca_index.embedding import Embedder
from alpaca_index.retrieval.search import Found, Hit
from alpaca_index.storage.store import CHUNKS, FILES, FTS_COLUMN, META, IndexCorrupt
from alpaca_index.sync import Progress, SyncReport
from alpaca_index.team.residency import ENDPOINT_KEYS, is_remote_uri, storage_options_for

STATE = "state.json"
DEFAULT_TTL = 15.0
DEFAULT_MAX_AGE = 7 * 24 * 3600.0
KEEP_DIRS = 3  # the current mirror and two older ones (a reader may still be on one of them)
# a version check must fail fast when offline; bulk reads keep LanceDB's defaults
QUICK = {"client_max_retries": "1", "connect_timeout": "3s"}

if TYPE_CHECKING:
    from lancedb.db import DBConnection


class SharedIndexError(RuntimeError):
    """The shared index cannot be used (unreachable without a usable cache, missing, ...)."""


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def cache_enabled() -> bool:
    return os.environ.get("ALPACA_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_root(uri: str, options: dict | None = None) -> Path:
    """One cache folder per index: the URI plus the endpoint (the same bucket name on another store differs)."""
    base = os.environ.get("ALPACA_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "alpaca" / "shared"
    endpoint = next((str(v) for k, v in (options or {}).items() if k.lower() in ENDPOINT_KEYS), "")
    return Path(base) / hashlib.sha256(f"{uri.rstrip('/')}|{endpoint}".encode()).hexdigest()[:16]


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:240]}"


def _connect(uri: str, options: dict[str, str], quick: bool = False) -> DBConnection:
    import lancedb

    return lancedb.connect(uri, storage_options={**options, **QUICK} if quick else options)


def _table_names(db: DBConnection) -> set[str]:
    result = db.list_tables() if hasattr(db, "list_tables") else db.table_names()
    return set(getattr(result, "tables", result))


def remote_snapshot(uri: str, options: dict) -> dict:
    """The writer's last published snapshot: {chunks, files, last_sync} (table versions)."""
    db = _connect(uri, options, quick=True)
    if not {CHUNKS, FILES, META} <= _table_names(db):
        raise IndexCorrupt(f"no index at {uri}; build it with `alpaca index DOCS_DIR --db {uri}`")
    meta = {r["key"]: r["value"] for r in db.open_table(META).to_arrow().to_pylist()}
    snap = {"last_sync": float(meta["last_sync"]) if meta.get("last_sync") else None}
    for name in (CHUNKS, FILES):
        published = meta.get(f"{name}_version")
        snap[name] = int(published) if published else db.open_table(name).version
    return snap


def mirror(uri: str, options: dict, root: Path, snap: dict) -> str:
    """Copy the snapshot's three tables into a fresh local LanceDB folder under root; returns its name."""
    import lancedb
    from lancedb.index import FTS

    name = f"v{snap[CHUNKS]}-{snap[FILES]}"
    if (root / name / "ready").exists():
        return name
    staging = root / f"tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True, mode=0o700)
    try:
        remote = _connect(uri, options)
        local = lancedb.connect(str(staging))
        for table_name in (CHUNKS, FILES, META):
            table = remote.open_table(table_name)
            if snap.get(table_name) is not None:
                table.checkout(snap[table_name])  # exactly the published version, not a half-written newer one
            data = table.to_arrow()
            copy = local.create_table(table_name, data=data, schema=data.schema)
            if table_name == CHUNKS and data.num_rows:
                copy.create_index(FTS_COLUMN, config=FTS(with_position=False), replace=True)
        (staging / "ready").write_text(json.dumps(snap))
        try:
            staging.rename(root / name)
        except OSError:  # another process mirrored the same version first
            if not (root / name / "ready").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return name


def _read_state(root: Path) -> dict | None:
    try:
        state = json.loads((root / STATE).read_text())
    except (OSError, ValueError):
        return None
    return state if (root / state.get("dir", "\0") / "ready").exists() else None


def _write_state(root: Path, state: dict) -> None:
    tmp = root / f".{STATE}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, root / STATE)


def _prune(root: Path, current: str) -> None:
    dirs = sorted((p for p in root.glob("v*-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in dirs if p.name != current][KEEP_DIRS - 1:]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in root.glob("tmp-*"):  # staging folders of crashed mirrors, after an hour
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)


def sync_cache(uri: str, options: dict, root: Path | None = None, retries: int = 3) -> dict:
    """Bring the local mirror up to the published version now; returns the new state."""
    root = Path(root or cache_root(uri, options))
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    started = time.time()
    for attempt in range(retries):
        snap = remote_snapshot(uri, options)
        try:
            name = mirror(uri, options, root, snap)
            break
        except IndexCorrupt:
            raise
        except Exception:
            if attempt == retries - 1:  # the writer may have compacted the version away meanwhile: re-read
                raise
    previous = _read_state(root) or {}
    now = time.time()
    state = {"uri": uri, "dir": name, "source": snap, "checked_at": now,
             "synced_at": now if previous.get("dir") != name else previous.get("synced_at", now),
             "mirror_seconds": round(now - started, 3)}
    _write_state(root, state)
    _prune(root, name)
    return state


class SharedIndex:
    """A reader of a shared index through the local cache; quacks like DocsIndex for reads."""

    def __init__(self, uri: str, storage_options: dict[str, str], embedder: Embedder | None = None,
                 cache_dir: str | Path | None = None, ttl: float | None = None, max_age: float | None = None):
        self.db = uri
        self.options = storage_options
        self.root = Path(cache_dir or cache_root(uri, storage_options))
        self._embedder = embedder  # loaded on first use: a refused or unreachable index fails fast
        self.ttl = _env_float("ALPACA_CACHE_TTL", DEFAULT_TTL) if ttl is None else ttl
        self.max_age = _env_float("ALPACA_CACHE_MAX_AGE", DEFAULT_MAX_AGE) if max_age is None else max_age
        self.read_only = True
        self.open_error: str | None = None  # a reader never repairs: problems are SharedIndexError
        self.online: bool | None = None
        self.last_error: str | None = None
        self._lock = threading.RLock()
        self._index: DocsIndex | None = None
        self._dir: str | None = None
        self._state: dict | None = None
        self._attempted = 0.0
        self.refresh()

    # -- freshness --------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> dict[str, Any]:
        """Re-check the store when the TTL has passed (or force); fall back to the cache when offline."""
        with self._lock:
            state = _read_state(self.root)
            now = time.time()
            if force or state is None or (now - max(state["checked_at"], self._attempted) >= self.ttl):
                state = self._check_store(state, now)
            age = now - state["checked_at"]
            if not self.online and age > self.max_age:
                raise SharedIndexError(
                    f"shared index {self.db} is unreachable and the local cache was last confirmed "
                    f"{age / 3600:.1f} h ago (limit {self.max_age / 3600:.1f} h, ALPACA_CACHE_MAX_AGE); "
                    f"reconnect and run `alpaca sync-cache`")
            self._open(state)
            return state

    def _check_store(self, state: dict[str, Any] | None, now: float) -> dict[str, Any]:
        """Ask the store for its published version: the cache's state, confirmed or mirrored anew, or
        (offline) the cache's state as it was; offline without a cache is an error."""
        self._attempted = now
        try:
            snap = remote_snapshot(self.db, self.options)
            if state and {k: state["source"].get(k) for k in (CHUNKS, FILES)} == {k: snap[k] for k in (CHUNKS, FILES)}:
                state["checked_at"] = now
                _write_state(self.root, state)
            else:
                state = sync_cache(self.db, self.options, self.root)
            self.online, self.last_error = True, None
        except IndexCorrupt as exc:
            raise SharedIndexError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - unreachable, credentials, throttling, ...
            self.online, self.last_error = False, _short(exc)
            if state is None:
                raise SharedIndexError(f"shared index {self.db} is unreachable and there is no local cache "
                                       f"yet ({self.last_error})") from None
        return state

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder()
        return self._embedder

    def _open(self, state: dict[str, Any]) -> None:
        if self._index is None or self._dir != state["dir"]:
            self._index = DocsIndex(self.root / state["dir"], embedder=self.embedder, read_only=True)
            self._dir = state["dir"]
        self._state = state

    def _current(self) -> DocsIndex:
        self.refresh()
        assert self._index is not None  # refresh() opens it or raises
        return self._index

    # -- DocsIndex reads ----------------------------------------------------------------------
    def search(self, query: str, k: int = 10, path_prefix: str | None = None,
               exclude_path: str | None = None) -> list[Hit]:
        return self._current().search(query, k, path_prefix, exclude_path)

    def search_files(self, query: str, k: int = 5, path_prefix: str | None = None,
                     exclude_path: str | None = None) -> list[Hit]:
        return self._current().search_files(query, k, path_prefix, exclude_path)

    def search_pages(self, query: str, k: int = 5, chunks: int = 20) -> Found:
        return self._current().search_pages(query, k, chunks)

    def related(self, path: str | None = None, text: str | None = None, k: int = 5) -> list[Hit]:
        return self._current().related(path, text, k)

    def indexed_path(self, path: str) -> str | None:
        return self._current().indexed_path(path)

    def sync(self, roots: Sequence[str | Path], ignore: list[str] | None = None,
             progress: Progress | None = None, rehash: bool = False) -> SyncReport:
        raise PermissionError(f"{self.db} is read through a local cache; index with `alpaca index --db {self.db}` "
                              "from the one writer (e.g. docs CI)")

    def status(self) -> dict:
        index = self._current()
        data = index.status()
        state = self._state or {}
        now = time.time()
        data.update(db=self.db, version=state.get("source", {}).get(CHUNKS), cache={
            "dir": str(self.root / state.get("dir", "")), "online": self.online, "error": self.last_error,
            "age_seconds": round(now - state.get("checked_at", now), 1),
            "synced_at": state.get("synced_at"), "checked_at": state.get("checked_at"),
            "published_last_sync": state.get("source", {}).get("last_sync"), "ttl": self.ttl,
        })
        return data


def open_shared(uri: str, write: bool = False, allow_region: str | None = None, cache: bool | None = None,
                embedder: Embedder | None = None, storage_options: dict[str, str] | None = None) -> DocsIndex | SharedIndex:
    """Open an s3:// index after the residency check: the writer, a cached reader or a direct reader.
    Callers go through `alpaca_index.opening.open_index`."""
    if not is_remote_uri(uri):
        raise ValueError(f"not an object-store URI: {uri}")
    options = storage_options_for(uri, storage_options, allow_region)
    if write:
        try:
            return DocsIndex(uri, storage_options=options, embedder=embedder)
        except Exception as exc:  # noqa: BLE001 - anything from the object store becomes one message
            raise SharedIndexError(f"cannot open shared index {uri} for writing ({_short(exc)})") from None
    if cache_enabled() if cache is None else cache:
        return SharedIndex(uri, options, embedder=embedder)
    try:
        return DocsIndex(uri, storage_options=options, embedder=embedder, read_only=True)
    except IndexCorrupt as exc:
        raise SharedIndexError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - anything from the object store becomes one message
        raise SharedIndexError(f"cannot read shared index {uri} ({_short(exc)})") from None
