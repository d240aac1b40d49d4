"""The one way to open an index: a local folder or a shared `s3://` one, to read or to write.

The CLI, the MCP server and the language server all come through `open_index`. A shared index
passes the data-residency check first; a reader of a shared index goes through its local cache
(offline-tolerant) and never writes. Every failure is an `IndexUnavailable` whose message says
what to do, so each caller shows it its own way (one CLI line, an MCP error, an editor status).
`index_status` is `open_index(location).status()`, answered from the summary a local index keeps
of itself when that is provably current (storage/summary.py): this module imports LanceDB, the
model and the team code only when it opens an index, so that answer costs no LanceDB import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from alpaca_index.storage import summary
from alpaca_index.team.residency import ResidencyError, is_remote_uri

if TYPE_CHECKING:
    from alpaca_index.api import ReadableIndex
    from alpaca_index.embedding import Embedder


class IndexUnavailable(RuntimeError):
    """The index cannot be opened; the message says why and what to do."""


def open_index(location: str | os.PathLike, *, write: bool = False, embedder: Embedder | None = None,
               allow_region: str | None = None, docs_root: str | os.PathLike | None = None) -> ReadableIndex:
    """`write=False` reads an existing index (a missing one is an error); `write=True` may create it.
    A local index opened to read still repairs itself (files are the truth); a shared one never does.
    `docs_root`: the reader's own checkout of a shared index's docs; hits then point into it."""
    if is_remote_uri(location):
        from alpaca_index.team.checkout import InCheckout
        from alpaca_index.team.shared_cache import SharedIndexError, open_shared

        try:
            index = open_shared(str(location), write=write, allow_region=allow_region, embedder=embedder)
        except (ResidencyError, SharedIndexError) as exc:
            raise IndexUnavailable(str(exc)) from None
        return InCheckout(index, Path(docs_root)) if docs_root and not write else index
    from alpaca_index.api import DocsIndex
    from alpaca_index.embedding import ModelNotFound

    path = _local_folder(location, write)
    try:
        return DocsIndex(path, embedder=embedder)
    except ModelNotFound as exc:
        raise IndexUnavailable(str(exc)) from None


def index_status(location: str | os.PathLike) -> dict:
    """What `open_index(location).status()` returns; for a local index whose summary is current,
    read from it without opening the index (a shared index is always opened)."""
    if not is_remote_uri(location):
        path = _local_folder(location, write=False)
        recorded = summary.load(path)
        if recorded is not None:
            return {"db": str(path), **recorded}
    return open_index(location).status()


def _local_folder(location: str | os.PathLike, write: bool) -> Path:
    path = Path(location).expanduser()
    if path.exists() and not path.is_dir():
        raise IndexUnavailable(f"index path {path} is a file, not a folder")
    if not write and not (path.is_dir() and any(path.iterdir())):
        raise IndexUnavailable(f"no index at {path}; run `alpaca index DOCS_DIR --db {path}` first")
    return path
