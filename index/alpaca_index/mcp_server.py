"""`alpaca mcp`: the docs index as Model Context Protocol tools for coding agents (stdio).

Tools: search_docs, ask_docs, related_docs, index_status. Every result carries the doc's path,
its heading path, the line range and a `link` (file:// URI with `#L<line>`) that opens the
section. The index (a local folder or a shared s3:// one, read through its local cache) is opened
in the background at start so the handshake is instant; stdout belongs to the protocol, so
nothing else is ever printed there.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger("alpaca.mcp")

INSTRUCTIONS = (
    "Search and cite the team's documentation. Use search_docs to find sections, ask_docs for a grounded "
    "answer with numbered sources, related_docs for further reading about a file or text, and index_status "
    "to see what is indexed. Results carry a `link` (file URI with #L<line>) to open the cited section."
)


def _server_class():
    try:  # mcp 2.x
        from mcp.server.mcpserver import MCPServer
        return MCPServer
    except ImportError:  # mcp 1.x
        from mcp.server.fastmcp import FastMCP
        return FastMCP


class IndexHolder:
    """Opens the index once, off the protocol thread, and hands it to the tools."""

    def __init__(self, opener: Callable[[], object]):
        self._opener = opener
        self._ready = threading.Event()
        self._index = None
        self._error: str | None = None
        threading.Thread(target=self._load, name="alpaca-open-index", daemon=True).start()

    def _load(self) -> None:
        try:
            self._index = self._opener()
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a CLI failure included
            self._error = str(exc) or type(exc).__name__
        finally:
            self._ready.set()

    def get(self):
        self._ready.wait()
        if self._index is None:
            raise RuntimeError(f"the docs index could not be opened: {self._error}")
        return self._index


def file_link(abspath: str, line: int | None = None) -> str:
    uri = Path(abspath).as_uri() if Path(abspath).is_absolute() else abspath
    return f"{uri}#L{line}" if line else uri


def hit_result(hit, docs_root: str | None = None) -> dict:
    abspath = str(Path(docs_root) / hit.path) if docs_root else hit.abspath
    return {
        "title": hit.title, "heading_path": hit.heading_path, "path": hit.path, "abspath": abspath,
        "start_line": hit.start_line, "end_line": hit.end_line, "anchor": hit.anchor,
        "link": file_link(abspath, hit.start_line), "location": f"{abspath}:{hit.start_line}",
        "score": round(float(hit.score), 4), "snippet": " ".join(hit.text.split())[:400],
    }


def _with_links(source: dict, docs_root: str | None) -> dict:
    source = dict(source)
    path = source.get("path")
    abspath = str(Path(docs_root) / path) if docs_root and path else source.get("abspath")
    if abspath:
        source["abspath"] = abspath
        source["link"] = file_link(abspath, source.get("start_line"))
    return source


def extractive_answer(index, question: str, k: int, docs_root: str | None) -> dict:
    """Without the answer module: the best passages, numbered, each with its citation."""
    hits = index.search_files(question, k)
    sources = [{"n": n, **hit_result(h, docs_root)} for n, h in enumerate(hits, 1)]
    text = "\n\n".join(f"[{s['n']}] {s['heading_path']}: {s['snippet']}" for s in sources)
    return {"question": question, "answer": text or "No matching documents.", "sources": sources,
            "backend": "none", "no_model": True}


def build_server(holder: IndexHolder, docs_root: str | None = None):
    server = _server_class()("alpaca-docs", instructions=INSTRUCTIONS)

    @server.tool()
    def search_docs(query: str, k: int = 5, path_prefix: str | None = None, sections: bool = False) -> dict:
        """Hybrid (semantic + keyword) search of the docs. Returns the best section per file (or the
        best sections overall with sections=true), each with path, heading_path, line range and a
        file:// link with #L<line>. path_prefix limits results to paths starting with it."""
        if not query.strip():
            raise ValueError("the query is empty")
        index = holder.get()
        k = max(1, min(int(k), 50))
        hits = index.search(query, k, path_prefix) if sections else index.search_files(query, k, path_prefix)
        return {"query": query, "results": [hit_result(h, docs_root) for h in hits]}

    @server.tool()
    def ask_docs(question: str, k: int = 6, history: list[dict] | None = None) -> dict:
        """Answer a question from the docs with numbered citations [n]; `sources` lists each cited
        section with path, heading_path, lines and link. Says so when the docs do not cover it.
        For a follow-up, pass the earlier turns as `history` ([{question, answer}], oldest first):
        the question is then searched with their context (`query` shows what was searched).
        `verdict` is one line on how far to trust it; `grounding.claims` marks each sentence
        supported / unsupported / uncited by its cited passage; an answer with no supported claim
        comes back refused, its draft in `withheld`."""
        if not question.strip():
            raise ValueError("the question is empty")
        index = holder.get()
        k = max(1, min(int(k), 20))
        try:
            from alpaca_index.answer import AnswerSettings, answer
        except ImportError:
            return extractive_answer(index, question, k, docs_root)
        from alpaca_index.residency import check_endpoint

        settings = AnswerSettings.from_env(k=k)
        check_endpoint(settings.endpoint)  # a remote model endpoint must declare a US region
        result = answer(index, question, settings, history=history).to_dict()
        result["sources"] = [_with_links(s, docs_root) for s in result.get("sources", [])]
        result["related"] = [_with_links(s, docs_root) for s in result.get("related", [])]
        return result

    @server.tool()
    def related_docs(path: str | None = None, text: str | None = None, k: int = 5) -> dict:
        """Docs related to a file (an indexed path or an absolute path; the file itself is excluded)
        or to a piece of text, best first, with links."""
        if not (path or (text and text.strip())):
            raise ValueError("give a path or some text")
        index = holder.get()
        if path and docs_root and Path(path).is_absolute():
            try:  # a file of the local docs checkout: its indexed (relative) path
                path = Path(path).resolve().relative_to(Path(docs_root).resolve()).as_posix()
            except ValueError:
                pass
        hits = index.related(path=path or None, text=text or None, k=max(1, min(int(k), 50)))
        return {"path": path, "results": [hit_result(h, docs_root) for h in hits]}

    @server.tool()
    def index_status() -> dict:
        """What is indexed: files, chunks, embedding model, last sync, index location and version
        (and, for a shared index, the local cache's age)."""
        from alpaca_index.answer import AnswerSettings, destination

        data = holder.get().status()
        data["backend"], answers = destination(AnswerSettings.from_env())  # what ask_docs would use
        data["egress"] = answers if "://" not in str(data.get("db", "")) else \
            f"index read from {data['db']}; answers: {answers}"
        return data

    return server


def serve(db: str, docs_root: str | None = None, open_index: Callable | None = None) -> None:
    """Run the stdio server until the client disconnects."""
    logging.basicConfig(level=os.environ.get("ALPACA_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    if open_index is None:
        from alpaca_index.cli import open_index
    holder = IndexHolder(lambda: open_index(db))
    build_server(holder, docs_root).run("stdio")
