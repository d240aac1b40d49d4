"""A watchdog observer on the docs roots: file events → `on_change(paths)` (the engine debounces).

Events inside the index folder, VCS/tool folders, or on files the index would not read anyway are
dropped here, so the index writing its own files never triggers a pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from alpaca_index.ingest.formats import EXTENSIONS
from alpaca_index.team.residency import is_remote_uri

log = logging.getLogger(__name__)

IGNORED_PARTS = frozenset({".git", ".alpaca", "node_modules", ".venv", "__pycache__", ".hg", ".svn"})


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: DocsWatcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        relevant = [p for p in paths if p and self.watcher.relevant(str(p), event.is_directory)]
        if relevant:
            self.watcher.on_change([str(p) for p in relevant])


class DocsWatcher:
    def __init__(self, roots: list[Path], ignore: list[Path], on_change: Callable[[list[str]], None]):
        self.roots = [Path(r) for r in roots]
        self.ignore = [Path(p).resolve() for p in ignore if not is_remote_uri(p)]  # a shared index lives elsewhere
        self.on_change = on_change
        self.extensions = frozenset(EXTENSIONS)  # the index's one list
        self._observer: BaseObserver | None = None

    def relevant(self, path: str, is_directory: bool) -> bool:
        p = Path(path)
        if any(part in IGNORED_PARTS for part in p.parts):
            return False
        if any(p == i or i in p.parents for i in self.ignore):
            return False
        # a directory move/delete can take many docs with it; .gitignore changes what is indexed
        return is_directory or p.name == ".gitignore" or p.suffix.lower() in self.extensions

    def start(self) -> None:
        observer = Observer()
        observer.daemon = True
        handler = _Handler(self)
        watched = 0
        for root in self.roots:
            if not root.is_dir():
                continue
            try:
                observer.schedule(handler, str(root), recursive=True)
                watched += 1
            except OSError as exc:  # e.g. inotify watch limit: saves still trigger syncs via didSave
                log.warning("cannot watch %s: %s", root, exc)
        if watched:
            try:
                observer.start()
            except OSError as exc:
                log.warning("file watcher failed to start: %s", exc)
                return
            self._observer = observer

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None
