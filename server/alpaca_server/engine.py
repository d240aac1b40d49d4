"""The index session behind the server: one DocsIndex, one sync worker thread, a status snapshot.

No LSP code here. The server gives the engine two callbacks (`on_status(dict)` and
`on_progress(event, dict)`) that it calls from the worker thread; the server moves them onto
the event loop. Queries run on the caller's thread (a pool in the server) and are safe while a
sync runs (DocsIndex guarantees that).

Freshness: `request_sync(paths, delay)` marks paths as pending and (re)arms a debounce timer, so a
storm of saves coalesces into one pass. A pass is `DocsIndex.sync(all roots)`: it reads the files
whose size or mtime changed and re-chunks/re-embeds only the ones whose bytes changed.
Requests arriving during a pass schedule exactly one more pass.

Exclusive jobs: `run_exclusive(job)` runs `job(index)` on the same worker thread, between passes, so
no pass touches the index while the job rewrites it (`alpaca tune` switching its model and vectors).
Saves that arrive meanwhile wait as pending paths; after the job the index is reopened (it may now
embed with another model) and the next pass syncs them with it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alpaca_index.ingest.formats import EXTENSIONS
from alpaca_index.team.residency import is_remote_uri
from alpaca_server.memory import release_memory

if TYPE_CHECKING:  # opening an index imports LanceDB: the server answers `initialize` before that
    from alpaca_index.api import ReadableIndex
    from alpaca_index.embedding import Embedder

log = logging.getLogger(__name__)

T = TypeVar("T")

STAGE_SPAN = {"scan": (0, 15), "chunk": (15, 30), "embed": (30, 95), "optimize": (95, 100)}
PROGRESS_INTERVAL = 0.15  # seconds between progress reports
MAX_DEFER = 2.0  # seconds a debounced pass may be postponed by later requests


class NotReady(RuntimeError):
    """The index could not be opened (yet); the message says why."""


@dataclass
class Config:
    roots: list[Path]
    index_path: str | Path  # a folder, or an s3:// URI of a shared index (read through its local cache)
    embedding_model: str = ""
    backend: str = "none"
    egress: str = "none (local index, local model)"


@dataclass
class _Pass:
    """Book-keeping for the sync pass in flight."""

    stage: str = ""
    done: int = 0
    total: int = 0
    current: str = ""
    percent: int = 0
    requested: int = 0  # changed files that asked for this pass
    todo: int = 0  # files this pass re-reads (known from the chunk stage on)
    last_report: float = 0.0
    waiters: list[threading.Event] = field(default_factory=list)


@dataclass
class _Job:
    """Work queued for the sync thread by `run_exclusive`."""

    fn: Callable[[ReadableIndex], Any]
    future: Future


class Engine:
    def __init__(self, on_status: Callable[[dict], None] | None = None,
                 on_progress: Callable[[str, dict], None] | None = None,
                 on_message: Callable[[str, str], None] | None = None):
        self.on_status = on_status or (lambda s: None)
        self.on_progress = on_progress or (lambda e, d: None)
        self._on_message = on_message or (lambda level, text: None)
        self._said: set[str] = set()  # messages already shown for this configuration
        self.config: Config | None = None
        self.index: ReadableIndex | None = None  # once opened
        self.embedder: Embedder | None = None
        self.generation = 0  # bumps after every pass that changed the index (caches key on it)
        self.state = "starting"
        self.error: str | None = None
        self.last_report: dict | None = None
        self._counts = {"docs": 0, "chunks": 0, "last_sync": None}
        self._model_info: dict = {"tuned": False}  # the index's own account of its embedding model
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: set[str] = set()
        self._pending_all = False
        self._rehash = False
        self._due: float | None = None  # monotonic time the next pass may start
        self._first_request: float | None = None
        self._reopen = False
        self._pass: _Pass | None = None
        self._waiters: list[threading.Event] = []
        self._jobs: deque[_Job] = deque()
        self._opened = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="alpaca-sync", daemon=True)
        self._thread.start()

    # -- control ------------------------------------------------------------------------------
    def configure(self, config: Config) -> None:
        """New roots / index location: (re)open if needed and run a pass right away."""
        with self._wake:
            old = self.config
            self.config = config
            if old is None or old.index_path != config.index_path or old.embedding_model != config.embedding_model:
                self._reopen = True
                self._opened.clear()
            self._pending_all = True
            self._due = time.monotonic()
            self.state, self.error = "indexing", None  # until the pass says otherwise
            self._said.clear()
            self._wake.notify_all()

    def request_sync(self, paths: list[str] | None = None, delay: float = 0.0, rehash: bool = False) -> threading.Event:
        """Schedule a pass after `delay` seconds of quiet; returns an event set when a pass that
        started after this request has finished. `rehash` makes the pass read every file."""
        done = threading.Event()
        with self._wake:
            self._rehash |= rehash
            if paths:
                self._pending.update(paths)
            else:
                self._pending_all = True
            now = time.monotonic()
            if self._first_request is None:
                self._first_request = now
            # a storm of saves keeps pushing the pass back, but never by more than MAX_DEFER
            self._due = min(now + delay, self._first_request + max(MAX_DEFER, delay))
            self._waiters.append(done)
            self._wake.notify_all()
        return done

    def run_exclusive(self, job: Callable[[ReadableIndex], T]) -> Future[T]:
        """Run `job(index)` on the sync thread between passes: no sync pass runs while it does
        (requests that arrive meanwhile are kept for the pass after it). Then the index is reopened,
        so searches and later passes use whatever model the job left it with, and the future
        resolves: with the job's result or its exception (NotReady if the index is not open)."""
        future: Future[T] = Future()
        with self._wake:
            self._jobs.append(_Job(job, future))
            self._wake.notify_all()
        return future

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            for job in self._jobs:
                job.future.cancel()
            self._jobs.clear()
            self._wake.notify_all()

    def wait_open(self, timeout: float) -> ReadableIndex:
        """The open DocsIndex, waiting up to `timeout` for the first open; NotReady if none."""
        if not self._opened.wait(timeout) or self.index is None:
            raise NotReady(self.error or "the docs index is still opening; try again in a moment")
        return self.index

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict:
        cfg = self.config
        with self._lock:
            running = self._pass
            pending = len(self._pending)
            if running:
                if running.stage == "chunk":
                    pending += max(running.total - running.done, 0)
                elif running.stage in ("embed", "optimize"):
                    pending += running.todo
                else:
                    pending += running.requested
            state = self.state
            percent = running.percent if running else (100 if state == "ready" else 0)
        data: dict[str, object] = {
            "state": state, "docs": self._counts["docs"], "chunks": self._counts["chunks"],
            "last_sync": self._counts["last_sync"], "pending": pending, "percent": percent,
            "model": self._model_name(),
            "model_info": self._model_info,  # {"tuned": bool, …what `alpaca tune` trained it on}
            "backend": cfg.backend if cfg else "none", "index_path": str(cfg.index_path) if cfg else "",
            "egress": cfg.egress if cfg else "none (local index, local model)",
            "roots": [str(r) for r in cfg.roots] if cfg else [],
            "extensions": list(EXTENSIONS),  # what the index reads: the editor's "Add Documents…" filter
        }
        data["suggest_tune"] = False  # offer `alpaca tune` (the editor asks once): the index library's rule
        if state == "ready":  # by then the index is open, and what the rule's module imports is loaded
            from alpaca_index.embedding.tune import worth_tuning

            data["suggest_tune"] = worth_tuning(self._counts["chunks"] or 0, self._model_info)
        if running:
            data["stage"] = running.stage
            data["current"] = running.current
        if self.error:
            data["message"] = self.error
        if self.last_report:
            data["last_report"] = self.last_report
        return data

    def _model_name(self) -> str:
        """The model the open index embeds with: its own tuned one, if `alpaca tune` made one."""
        if self.index is not None:
            return self.index.embedder.name
        if self.embedder is not None:
            return self.embedder.name
        return self.config.embedding_model if self.config else ""

    def on_message(self, level: str, text: str) -> None:
        """Show a message once per configuration (a missing folder is not news on every save)."""
        if text not in self._said:
            self._said.add(text)
            self._on_message(level, text)

    def _set_state(self, state: str, error: str | None = None) -> None:
        changed = (state, error) != (self.state, self.error)
        self.state, self.error = state, error
        if changed:
            self.on_status(self.status())

    def _refresh_counts(self) -> None:
        if self.index is None:
            return
        try:
            st = self.index.status()
            self._counts = {"docs": st["files"], "chunks": st["chunks"], "last_sync": st["last_sync"]}
            self._model_info = st.get("model_info") or {"tuned": False}
        except Exception as exc:  # noqa: BLE001 - counts are cosmetic; never fail a pass over them
            log.warning("status failed: %s", exc)

    # -- worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and not self._jobs and (self._due is None or self.config is None
                                                                or time.monotonic() < self._due):
                    timeout = None if self._due is None else max(0.0, self._due - time.monotonic())
                    self._wake.wait(timeout)
                if self._stopped:
                    return
                job = self._jobs.popleft() if self._jobs else None
                if job is None:  # the wait ended: a pass is due
                    config, reopen, paths, rehash, waiters = self._take_pass()
            if job is not None:
                self._run_job(job)
                continue
            completed = False
            try:
                completed = self._one_pass(config, reopen, paths, rehash)
            except Exception as exc:  # the worker must survive anything
                log.exception("sync pass failed")
                # the message first: a client that sees the error status finds its explanation shown
                self.on_message("error", f"Alpaca: indexing failed: {exc}")
                self._set_state("error", f"indexing failed: {type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._pass = None
                release_memory()  # the pass's peak (reads, encoding, merges) need not stay resident
                # progress ends before the status says ready: a client that sees "ready" has its bar closed
                self.on_progress("end", {"message": self.error or "up to date"})
                if completed:
                    self._set_state("ready")
                for w in waiters:
                    w.set()
                if self.state != "error":
                    self.on_status(self.status())

    def _take_pass(self) -> tuple[Config, bool, list[str], bool, list[threading.Event]]:
        """What the pass that is due must do, taken from the requests (under the lock)."""
        config, reopen, rehash = self.config, self._reopen, self._rehash
        assert config is not None  # the worker waits until there is one
        self._rehash = False
        paths = sorted(self._pending)
        self._pending.clear()
        self._pending_all = False
        self._due = None
        self._first_request = None
        self._reopen = False
        waiters, self._waiters = self._waiters, []
        self._pass = _Pass(requested=len(paths), waiters=waiters)
        return config, reopen, paths, rehash, waiters

    def _run_job(self, job: _Job) -> None:
        """An exclusive job (`run_exclusive`), then the index reopened before the caller hears back."""
        if not job.future.set_running_or_notify_cancel():
            return
        result, error = None, None
        try:
            if self.index is None:
                raise NotReady(self.error or "the docs index is not open")
            result = job.fn(self.index)
        except Exception as exc:  # noqa: BLE001 - the caller gets it through the future; the worker lives on
            error = exc
        try:
            self._reopen_after_job()
        except Exception:  # the worker must survive anything
            log.exception("reopening the index after a job failed")
        release_memory()  # a job's peak (training: the model, its gradients) need not stay resident
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)

    def _reopen_after_job(self) -> None:
        """The job may have switched the index's model (or been stopped half-way through a switch,
        which opening rolls back): open it afresh; caches keyed on the generation drop old hits."""
        with self._lock:
            config, self._reopen = self.config, False
        if config is None:
            return
        if self._open(config):
            self.generation += 1
        self.on_progress("end", {"message": self.error or "up to date"})
        self.on_status(self.status())

    def _open(self, config: Config) -> bool:
        from alpaca_index.embedding import DEFAULT_MODEL, Embedder
        from alpaca_index.opening import open_index

        self.on_progress("begin", {"title": "Alpaca: opening the docs index", "message": str(config.index_path)})
        try:
            model = config.embedding_model or DEFAULT_MODEL
            if self.embedder is None or self.embedder.name != model:
                self.embedder = Embedder(model)
            # the editor writes its own local index; a shared one is written by its one writer (docs CI)
            shared = is_remote_uri(config.index_path)
            self.index = open_index(config.index_path, write=not shared, embedder=self.embedder,
                                    docs_root=config.roots[0] if shared and config.roots else None)
        except Exception as exc:  # noqa: BLE001 - whatever it is, the editor shows it and the server lives
            self.index = None
            error = f"cannot open the index at {config.index_path}: {exc}"
            self.on_message("error", f"Alpaca: {error}")
            self._set_state("error", error)
            self._opened.set()  # waiters get NotReady with the message instead of hanging
            return False
        if self.index.open_error:
            self.on_message("warning", f"Alpaca: {self.index.open_error}; re-indexing the docs")
        self._refresh_counts()
        self._opened.set()
        return True

    def _one_pass(self, config: Config, reopen: bool, paths: list[str], rehash: bool = False) -> bool:
        """One sync pass; True when it ran to the end (the caller then reports ready)."""
        if reopen or self.index is None:
            if not self._open(config):
                return False
        assert self.index is not None  # _open set it or returned False
        if self.index.read_only:  # a shared index: nothing to sync here; its reader refreshes on its own
            self.generation += 1
            self._refresh_counts()
            return True
        roots = [r for r in config.roots if r.is_dir()]
        missing = [r for r in config.roots if not r.is_dir()]
        if not roots:
            what = ", ".join(str(r) for r in config.roots) or "(none configured)"
            self.on_message("error", f"Alpaca: docs folder not found: {what}. Set alpaca.docsPaths to an existing folder.")
            self._set_state("error", f"docs folder not found: {what}")
            return False
        if missing:
            self.on_message("warning", "Alpaca: docs folder not found, skipped: " + ", ".join(map(str, missing)))
        self._set_state("indexing")
        self.on_progress("begin", {"title": "Alpaca: indexing docs",
                                   "message": f"{len(paths)} changed file(s)" if paths else "scanning"})
        report = self.index.sync(roots, progress=self._progress, rehash=rehash)
        self.last_report = {k: v for k, v in report.to_dict().items() if k != "skipped"}
        self.last_report["skipped"] = len(report.skipped)
        if report.changed or report.rebuilt or self.generation == 0:
            self.generation += 1
        self._refresh_counts()
        unreadable = [s for s in report.skipped if s.reason.startswith("unreadable")]
        if unreadable:
            shown = "; ".join(f"{s.path}: {s.reason}" for s in unreadable[:3])
            more = f" (+{len(unreadable) - 3} more)" if len(unreadable) > 3 else ""
            self.on_message("warning", f"Alpaca: {len(unreadable)} file(s) could not be read: {shown}{more}")
        log.info("sync: %s", self.last_report)
        return True

    def _progress(self, stage: str, done: int, total: int, current: str) -> None:
        p = self._pass
        if p is None:
            return
        lo, hi = STAGE_SPAN.get(stage, (0, 100))
        frac = (done / total) if total else 0.0
        with self._lock:
            p.stage, p.done, p.total, p.current = stage, done, total, current
            if stage == "chunk":
                p.todo = total
            p.percent = max(p.percent, int(lo + (hi - lo) * min(frac, 1.0)))
        now = time.monotonic()
        if now - p.last_report >= PROGRESS_INTERVAL:
            p.last_report = now
            label = {"scan": "scanning", "chunk": "reading", "embed": "embedding", "optimize": "optimizing"}.get(stage, stage)
            msg = f"{label} {done}/{total}" + (f" {current}" if current else "")
            self.on_progress("report", {"message": msg, "percentage": p.percent})

    # -- queries (any thread) ----------------------------------------------------------------
    def is_docs_file(self, path: str | os.PathLike) -> bool:
        cfg = self.config
        if not cfg:
            return False
        p = Path(path).resolve()
        return any(r == p or r in p.parents for r in cfg.roots)
