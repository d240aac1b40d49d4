"""workspace/executeCommand: alpaca.search, alpaca.status, alpaca.reindex, alpaca.addDocuments
(alpaca.related is with the related reading, features/documents.py). Each takes one object argument
(a bare string is accepted as the query); errors as in `alpaca_server.params`.
"""

from __future__ import annotations

import filecmp
import logging
import shutil
from pathlib import Path

from alpaca_index.ingest.formats import EXTENSIONS
from alpaca_server import queries
from alpaca_server.engine import Engine
from alpaca_server.feature import Feature
from alpaca_server.params import arguments, guarded, invalid

log = logging.getLogger(__name__)

ADD_WAIT = 120.0  # seconds alpaca.addDocuments waits for the new files to be indexed


class CommandsFeature(Feature):
    """The index's own commands; no state beyond the server's engine."""

    def register(self) -> None:
        self.command("alpaca.search", self.search)
        self.command("alpaca.status", self.status)
        self.command("alpaca.reindex", self.reindex)
        self.command("alpaca.addDocuments", self.add_documents)

    async def search(self, *args):
        ls = self.server
        p = arguments(args, "query")
        results = await guarded(ls.run_query(queries.search, ls.engine, p.get("query"), p.get("k"),
                                             ls.settings.results_count))
        return {"results": results}

    def status(self, *args):
        return self.server.status()

    async def reindex(self, *args):
        ls = self.server
        p = arguments(args)
        if ls.engine.config is None:
            raise invalid("the server is not initialized yet")
        done = ls.engine.request_sync(None, delay=0, rehash=True)  # forced: trust no size/mtime
        if p.get("wait"):
            await ls.run_wait(done.wait, ADD_WAIT)
        return ls.status()

    async def add_documents(self, *args):
        ls = self.server
        p = arguments(args)
        paths = p.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not paths or not all(isinstance(x, str) and x for x in paths):
            raise invalid("alpaca.addDocuments needs `paths`: a non-empty list of file paths or URIs")
        try:
            target = _target(ls.engine, p.get("target"))
            sources = [Path(queries.uri_to_path(x)) for x in paths]
        except queries.QueryError as exc:
            raise invalid(str(exc)) from None
        added, skipped = await ls.run_wait(_copy, sources, target, frozenset(EXTENSIONS))
        indexed = False
        if added:
            done = ls.engine.request_sync(added, delay=0)
            indexed = await ls.run_wait(done.wait, ADD_WAIT)
        return {"added": added, "skipped": skipped, "target": str(target), "indexed": indexed}


def _target(engine: Engine, target) -> Path:
    roots = engine.config.roots if engine.config else []
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

