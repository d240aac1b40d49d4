"""A local index's status kept beside its tables, so `alpaca status` answers without LanceDB.

Importing lancedb costs over a second (most of it its REST namespace client, loaded even for a
local folder); the status itself is a few counts. `DocsIndex.status()` records what it computed
in `alpaca_status.json` together with the state of the folder it read: for every table, its
newest committed manifest (version, size, modification time) and the names and sizes of its
other files (data, deletions, indices), plus the embedding weights file it opened with. The
state is taken before and after computing the status, and the summary is written (a temporary
file renamed over the old one) only when both agree: no commit happened in between.

`load` returns the recorded status only while the folder's state is still exactly that one. A
commit by anyone (a sync, `alpaca tune`, another program) adds a manifest; a lost or replaced
data file changes the listing; a reinstalled model changes the weights file. Any of these, a
missing, edited or damaged summary (it carries a digest of itself), or one of another format
makes `load` return None, and the caller opens the index the full way (which records anew).
The summary says what the committed tables hold: rows damaged in place since (same file, same
size) are found and dropped by the next command that opens the index, not by `status`.
Manifest names are lance's: V1 `N.manifest`, V2 `u64::MAX - N` zero-padded to 20 digits (so the
newest sorts first); both checked against `dataset.version` with pylance 14.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

FILE = "alpaca_status.json"
FORMAT = 1
_U64_MAX = 2**64 - 1
_V2_DIGITS = 20
_NOT_CONTENT = {"_versions", "_transactions"}  # manifests are taken apart; transactions precede their manifest


def _manifest_version(name: str) -> int | None:
    stem, _, extension = name.partition(".")
    if extension != "manifest" or not stem.isdigit():
        return None  # the version hint, a detached manifest (d…), a commit's temporary file
    return _U64_MAX - int(stem) if len(stem) == _V2_DIGITS else int(stem)


def _table_state(table: Path) -> dict[str, Any] | None:
    """The newest manifest of one table and a digest of its other files; None without a manifest."""
    newest: tuple[int, os.DirEntry] | None = None
    with os.scandir(table / "_versions") as entries:
        for entry in entries:
            version = _manifest_version(entry.name)
            if version is not None and (newest is None or version > newest[0]):
                newest = (version, entry)
    if newest is None:
        return None
    stat = newest[1].stat()
    files = hashlib.sha1()
    for folder, dirs, names in os.walk(table):
        if folder == str(table):
            dirs[:] = [d for d in dirs if d not in _NOT_CONTENT]
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            files.update(f"{os.path.relpath(path, table)}\0{os.stat(path).st_size}\n".encode())
    return {"version": newest[0], "manifest": [newest[1].name, stat.st_size, stat.st_mtime_ns],
            "files": files.hexdigest()}


def folder_state(folder: Path, weights: Path) -> dict[str, Any] | None:
    """What the status of `folder` depends on, as it is on disk now; None when it can't be told
    (no tables yet, a table without a manifest, a file vanishing while we look)."""
    try:
        tables = {}
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.endswith(".lance") and entry.is_dir():
                state = _table_state(Path(entry.path))
                if state is None:
                    return None
                tables[entry.name] = state
        stat = weights.stat()
    except OSError:
        return None
    if not tables:
        return None
    return {"tables": tables, "weights": [str(weights), stat.st_size, stat.st_mtime_ns]}


def record(folder: Path, status: dict[str, Any], before: dict[str, Any]) -> bool:
    """Write `status` (computed after `before` was taken) if the folder has not changed since.
    `db` is left out: the reader names the index the way it was asked for. Returns whether written."""
    weights = Path(before["weights"][0])
    if folder_state(folder, weights) != before:
        return False
    recorded = {k: v for k, v in status.items() if k != "db"}
    data = {"format": FORMAT, "state": before, "status": recorded, "digest": _digest(before, recorded)}
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{FILE}.", suffix=".tmp")
    except OSError:  # a read-only copy of an index: status just takes the full way every time
        return False
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(temporary, folder / FILE)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        return False
    return True


def load(folder: Path) -> dict[str, Any] | None:
    """The recorded status (without `db`) if the folder is still exactly as it was when recorded."""
    try:
        data = json.loads((folder / FILE).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None
        state, status = data["state"], data["status"]
        if data["digest"] != _digest(state, status):
            return None  # edited or damaged
        current = folder_state(folder, Path(state["weights"][0]))
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    return status if current == state and isinstance(status, dict) else None


def _digest(state: dict[str, Any], status: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps([state, status], sort_keys=True).encode()).hexdigest()
