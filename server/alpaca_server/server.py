"""The language server object: what the features share (engine, settings, watcher, the query
pool, the task runner) and thread-safe messaging. Each feature owns its own state
(`alpaca_server.feature`); `alpaca_server.factory` builds the server with its features.

Every message to the client leaves from the event loop thread: worker threads call `notify`,
`show_message` or `progress_event`, which hop onto the loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cattrs import transform_error
from cattrs.errors import ClassValidationError
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from alpaca_server import __version__
from alpaca_server.engine import Config, Engine
from alpaca_server.feature import Feature
from alpaca_server.memory import release_memory
from alpaca_server.settings import Settings, resolve_docs_roots, resolve_index_path

log = logging.getLogger(__name__)

STATUS = "alpaca/status"
IDLE_TRIM_SECONDS = 5.0  # quiet time after the last query before its freed memory is returned

_LEVELS = {"error": types.MessageType.Error, "warning": types.MessageType.Warning,
           "info": types.MessageType.Info}


class AlpacaProtocol(LanguageServerProtocol):
    """pygls drops a request whose params don't fit the LSP types without answering it (the client
    waits forever) and turns a non-array `arguments` into one (a search for the word "query"):
    answer both with InvalidParams saying what was wrong."""

    def structure_message(self, data):
        is_message = isinstance(data, dict) and "jsonrpc" in data  # (nested objects come here too)
        if is_message and data.get("method") == types.WORKSPACE_EXECUTE_COMMAND:
            params = data.get("params")
            if isinstance(params, dict) and not isinstance(params.get("arguments", []), list):
                self._refuse(data, "`arguments` must be an array")
                raise JsonRpcInvalidParams()
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            cause = exc.__cause__
            detail = "; ".join(transform_error(cause)) if isinstance(cause, ClassValidationError) else str(cause)
            self._refuse(data, detail)
            raise

    def _refuse(self, data, detail: str) -> None:
        if isinstance(data, dict) and "method" in data and isinstance(data.get("id"), (str, int)):  # a request
            self._send_response(data["id"], error=types.ResponseError(
                code=JsonRpcInvalidParams.CODE, message=f"{data['method']}: invalid params: {detail}"))


class AlpacaServer(LanguageServer):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("protocol_cls", AlpacaProtocol)
        super().__init__("alpaca-server", __version__, *args,
                         text_document_sync_kind=types.TextDocumentSyncKind.Full, **kwargs)
        self.settings = Settings()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.engine = Engine(on_status=self._status_changed, on_progress=self.progress_event,
                             on_message=self.show_message)
        # the one pool for index queries (search, related, hover: they embed the query text)
        self.query_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alpaca-query")
        self._idle_trim: asyncio.TimerHandle | None = None  # see run_query
        # waits that can last minutes (a sync pass to finish, file copies, model-hub and Ollama
        # look-ups) get a pool of their own, so they never hold a query worker
        self.wait_pool = ThreadPoolExecutor(thread_name_prefix="alpaca-wait")
        self.watcher = None  # alpaca_server.watcher.DocsWatcher once configured
        self._features: dict[type[Feature], Feature] = {}
        self._tasks: set[asyncio.Task] = set()  # a reference keeps a running task from being collected
        self._progress_queue: asyncio.Queue | None = None

    # -- features and tasks -------------------------------------------------------------------
    def add_feature(self, feature: Feature) -> None:
        if type(feature) in self._features:
            raise RuntimeError(f"feature {type(feature).__name__} is already loaded")
        self._features[type(feature)] = feature
        feature.register()

    def get_feature(self, feature_cls: type[Feature]) -> Feature | None:
        return self._features.get(feature_cls)

    def run_task(self, coro: Coroutine, *, name: str | None = None) -> asyncio.Task:
        """Run `coro` as a task on the event loop (call it from there): the server keeps a reference
        until it ends and logs it if it fails."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("task %s failed", task.get_name(), exc_info=exc)

    # -- configuration -----------------------------------------------------------------------
    def workspace_folders(self) -> list[Path]:
        from pygls.uris import to_fs_path

        folders: list[Path] = []
        try:
            ws = self.workspace
        except RuntimeError:
            return folders
        for folder in ws.folders.values():
            path = to_fs_path(folder.uri)
            if path:
                folders.append(Path(path))
        if not folders and ws.root_path:
            folders.append(Path(ws.root_path))
        return folders

    def apply_settings(self, settings: Settings) -> None:
        """Hand new settings to the engine and the watcher (called on the event loop)."""
        self.settings = settings
        for warning in settings.warnings:
            self.show_message("warning", f"Alpaca: {warning}")
        folders = self.workspace_folders()
        roots = resolve_docs_roots(settings, folders)
        config = Config(roots=roots, index_path=resolve_index_path(settings, folders, roots),
                        embedding_model=settings.embedding_model, backend=settings.backend,
                        egress=settings.egress)
        old = self.engine.config
        if old is None or (old.roots, old.index_path, old.embedding_model, old.backend, old.egress) != \
                (config.roots, config.index_path, config.embedding_model, config.backend, config.egress):
            log.info("docs roots %s, index %s", [str(r) for r in roots], config.index_path)
            self.engine.configure(config)
        watching = self.watcher is not None
        if watching and (not settings.watch or self.watcher.roots != roots):
            self.watcher.stop()
            self.watcher = None
        if settings.watch and self.watcher is None:
            from alpaca_server.watcher import DocsWatcher

            self.watcher = DocsWatcher(roots, ignore=[Path(config.index_path)], on_change=self.files_changed)
            self.watcher.start()

    def files_changed(self, paths: list[str]) -> None:
        """From the watcher, didSave and didChangeWatchedFiles: a debounced incremental pass."""
        self.engine.request_sync(paths, delay=self.settings.debounce_ms / 1000)

    # -- messages (thread-safe) ---------------------------------------------------------------
    def call_soon(self, fn, *args) -> None:
        """Run `fn(*args)` on the event loop: now if we are on it, else as soon as it can."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            if threading.current_thread() is threading.main_thread() and _running_loop() is loop:
                fn(*args)
            else:
                loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # loop shutting down
            pass

    def notify(self, method: str, params: dict) -> None:
        self.call_soon(self.protocol.notify, method, params)

    def show_message(self, level: str, text: str) -> None:
        log.log(logging.ERROR if level == "error" else logging.WARNING if level == "warning" else logging.INFO, text)
        params = types.ShowMessageParams(type=_LEVELS.get(level, types.MessageType.Info), message=text)
        self.call_soon(self.window_show_message, params)

    def _status_changed(self, status: dict) -> None:
        self.notify(STATUS, status)

    def progress_event(self, event: str, data: dict) -> None:
        """Engine progress ('begin' | 'report' | 'end') → `$/progress` with a server-made token."""
        self.call_soon(self._queue_progress, event, data)

    def _queue_progress(self, event: str, data: dict) -> None:
        if self._progress_queue is None:
            self._progress_queue = asyncio.Queue()
            self.run_task(self._progress_pump(self._progress_queue), name="alpaca-progress")
        self._progress_queue.put_nowait((event, data))
        if event in ("begin", "end"):  # status listeners want to see state/percent changes too
            self.notify(STATUS, self.engine.status())

    async def _progress_pump(self, queue: asyncio.Queue) -> None:
        supported = bool(self.client_capabilities and self.client_capabilities.window
                         and self.client_capabilities.window.work_done_progress)
        token = None
        while True:
            event, data = await queue.get()
            try:
                if event == "begin" and token is None:
                    if not supported:
                        continue
                    token = f"alpaca-index-{uuid.uuid4().hex[:8]}"
                    try:
                        await self.work_done_progress.create_async(token)
                    except Exception as exc:  # noqa: BLE001 - client refused: carry on without a progress bar
                        log.info("no work-done progress: %s", exc)
                        token = None
                        continue
                    self.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                        title=data.get("title", "Alpaca"), message=data.get("message"), percentage=0,
                        cancellable=False))
                elif event in ("begin", "report") and token is not None:
                    self.work_done_progress.report(token, types.WorkDoneProgressReport(
                        message=data.get("message") or data.get("title"), percentage=data.get("percentage")))
                elif event == "end" and token is not None:
                    self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=data.get("message")))
                    self.work_done_progress.tokens.pop(token, None)
                    token = None
            except Exception:
                log.exception("progress notification failed")

    def status(self) -> dict:
        return self.engine.status()

    def run_query(self, fn, *args):
        """Run a blocking query on the query pool; awaitable. Once queries stop for a few seconds,
        the memory they freed goes back to the system (as after a sync pass: memory.py)."""
        loop = asyncio.get_running_loop()
        if self._idle_trim is not None:
            self._idle_trim.cancel()
        self._idle_trim = loop.call_later(IDLE_TRIM_SECONDS, loop.run_in_executor, self.query_pool, release_memory)
        return loop.run_in_executor(self.query_pool, fn, *args)

    def run_wait(self, fn, *args):
        """Run a long blocking wait or I/O on the wait pool; awaitable."""
        return asyncio.get_running_loop().run_in_executor(self.wait_pool, fn, *args)

    def close(self) -> None:
        if self._idle_trim is not None:
            self._idle_trim.cancel()
        if self.watcher is not None:
            self.watcher.stop()
        for feature in self._features.values():
            feature.close()
        self.engine.stop()


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
