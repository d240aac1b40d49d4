"""workspace/executeCommand: alpaca.search, alpaca.related, alpaca.status, alpaca.reindex,
alpaca.addDocuments. Each takes one object argument (a bare string is accepted as the query).

Bad params → JSON-RPC InvalidParams (-32602) with a clear message; an index that could not be
opened → RequestFailed (-32803) with the reason. Never a dead server.
"""

from __future__ import annotations

import asyncio
import filecmp
import logging
import shutil
from pathlib import Path

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from alpaca_server import queries
from alpaca_server.engine import NotReady
from alpaca_server.server import AlpacaServer
from alpaca_server.settings import as_plain

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803
ADD_WAIT = 120.0  # seconds alpaca.addDocuments waits for the new files to be indexed


def invalid(message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=message)


def arguments(args: tuple, primary: str | None = None) -> dict:
    """The single object argument of a command (or `{primary: value}` for a bare string)."""
    if not args:
        return {}
    first = as_plain(args[0])
    if isinstance(first, dict):
        return first
    if primary and isinstance(first, str):
        return {primary: first}
    raise invalid(f"expected one object argument, got {type(first).__name__}")


async def guarded(coro):
    """Map query failures onto JSON-RPC errors."""
    try:
        return await coro
    except queries.QueryError as exc:
        raise invalid(str(exc)) from None
    except NotReady as exc:
        raise JsonRpcException(message=f"index not available: {exc}", code=REQUEST_FAILED) from None


async def search(ls: AlpacaServer, *args):
    p = arguments(args, "query")
    results = await guarded(ls.run_query(queries.search, ls.engine, p.get("query"), p.get("k"),
                                         ls.settings.results_count))
    return {"results": results}


async def related(ls: AlpacaServer, *args):
    p = arguments(args, "uri")
    results = await guarded(ls.run_query(queries.related, ls.engine, p.get("uri"), p.get("text"), p.get("k"),
                                         ls.settings.results_count))
    return {"results": results}


def status(ls: AlpacaServer, *args):
    return ls.status()


async def reindex(ls: AlpacaServer, *args):
    p = arguments(args)
    if ls.engine.config is None:
        raise invalid("the server is not initialized yet")
    done = ls.engine.request_sync(None, delay=0, rehash=True)  # forced: trust no size/mtime
    if p.get("wait"):
        await asyncio.get_running_loop().run_in_executor(None, done.wait, ADD_WAIT)
    return ls.status()


def _target(ls: AlpacaServer, target) -> Path:
    roots = ls.engine.config.roots if ls.engine.config else []
    if not roots:
        raise invalid("no docs folder is configured")
    if target is None:
        return roots[0]
    if not isinstance(target, str) or not target.strip():
        raise invalid("`target` must be a folder path")
    path = Path(queries.uri_to_path(target)) if target.startswith("file:") else Path(target).expanduser()
    path = (path if path.is_absolute() else roots[0] / path).resolve()
    if not any(path == r or r in path.parents for r in roots):
        raise invalid(f"target {path} is not inside a docs folder ({', '.join(map(str, roots))})")
    if path.exists() and not path.is_dir():
        raise invalid(f"target {path} is a file, not a folder")
    return path


def _copy(sources: list[Path], target: Path, extensions: frozenset[str]) -> tuple[list[str], list[dict]]:
    added, skipped = [], []

    def one(src: Path, dest: Path, shown: str) -> None:
        if src.suffix.lower() not in extensions:
            skipped.append({"path": shown, "reason": f"not a docs file type ({src.suffix or 'no extension'})"})
            return
        if dest.exists():
            same = dest.is_file() and filecmp.cmp(src, dest, shallow=False)
            skipped.append({"path": shown, "reason": "already in the docs folder" if same
                            else f"a different file named {dest.name} already exists in {dest.parent}"})
            return
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
        except OSError as exc:
            skipped.append({"path": shown, "reason": f"copy failed: {exc.strerror or exc}"})
            return
        added.append(str(dest))

    for src in sources:
        if not src.exists():
            skipped.append({"path": str(src), "reason": "not found"})
        elif src.is_dir():
            files = sorted(f for f in src.rglob("*") if f.is_file())
            for f in files:
                one(f, target / src.name / f.relative_to(src), str(f))
            if not files:
                skipped.append({"path": str(src), "reason": "empty folder"})
        elif src.resolve().parent == target:
            skipped.append({"path": str(src), "reason": "already in the docs folder"})
        else:
            one(src, target / src.name, str(src))
    return added, skipped


async def add_documents(ls: AlpacaServer, *args):
    from alpaca_server.watcher import _doc_extensions

    p = arguments(args)
    paths = p.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(x, str) and x for x in paths):
        raise invalid("alpaca.addDocuments needs `paths`: a non-empty list of file paths or URIs")
    try:
        target = _target(ls, p.get("target"))
        sources = [Path(queries.uri_to_path(x)) for x in paths]
    except queries.QueryError as exc:
        raise invalid(str(exc)) from None
    loop = asyncio.get_running_loop()
    added, skipped = await loop.run_in_executor(None, _copy, sources, target, _doc_extensions())
    indexed = False
    if added:
        done = ls.engine.request_sync(added, delay=0)
        indexed = await loop.run_in_executor(None, done.wait, ADD_WAIT)
    return {"added": added, "skipped": skipped, "target": str(target), "indexed": indexed}


def register(server: AlpacaServer) -> None:
    server.command("alpaca.search")(search)
    server.command("alpaca.related")(related)
    server.command("alpaca.status")(status)
    server.command("alpaca.reindex")(reindex)
    server.command("alpaca.addDocuments")(add_documents)
