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
from collections.abc import Callable

from alpaca_index.answer import AnswerSettings, answer, where_answers_go
from alpaca_index.api import ReadableIndex
from alpaca_index.opening import open_index
from alpaca_index.team.residency import check_endpoint

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
        from mcp.server.fastmcp import FastMCP  # type: ignore[attr-defined]  # gone in the mcp 2.x mypy sees
        return FastMCP


class IndexHolder:
    """Opens the index once, off the protocol thread, and hands it to the tools."""

    def __init__(self, opener: Callable[[], ReadableIndex]):
        self._opener = opener
        self._ready = threading.Event()
        self._index: ReadableIndex | None = None
        self._error: str | None = None
        threading.Thread(target=self._load, name="alpaca-open-index", daemon=True).start()

    def _load(self) -> None:
        try:
            self._index = self._opener()
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a CLI failure included
            self._error = str(exc) or type(exc).__name__
        finally:
            self._ready.set()

    def get(self) -> ReadableIndex:
        self._ready.wait()
        if self._index is None:
            raise RuntimeError(f"the docs index could not be opened: {self._error}")
        return self._index


def build_server(holder: IndexHolder):
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
        return {"query": query, "results": [h.to_wire() for h in hits]}

    @server.tool()
    def ask_docs(question: str, k: int = 6, history: list[dict] | None = None) -> dict:
        """Answer a question from the docs with numbered citations [n]; `sources` lists each cited
        section with path, heading_path, lines and link. Says so when the docs do not cover it.
        For a follow-up, pass the earlier turns as `history` ([{question, answer}], oldest first):
        the question is then searched with their context (`query` shows what was searched).
        `verdict` is one line on how far to trust it. `answer` holds only sentences the claim check
        found in their cited passage; `grounding.claims` lists every sentence of the model's draft,
        supported / unsupported / uncited, with `shown` false for those held back from the answer.
        A draft whose first claims are unsupported is withheld (in `withheld`) and the closest
        passages are quoted instead."""
        if not question.strip():
            raise ValueError("the question is empty")
        index = holder.get()
        k = max(1, min(int(k), 20))
        settings = AnswerSettings.from_env(k=k)
        check_endpoint(settings.endpoint)  # a remote model endpoint must declare a US region
        return answer(index, question, settings, history=history).to_dict()

    @server.tool()
    def related_docs(path: str | None = None, text: str | None = None, k: int = 5) -> dict:
        """Docs related to a file (an indexed path or an absolute path; the file itself is excluded)
        or to a piece of text, best first, with links."""
        if not (path or (text and text.strip())):
            raise ValueError("give a path or some text")
        index = holder.get()
        hits = index.related(path=path or None, text=text or None, k=max(1, min(int(k), 50)))
        return {"path": path, "results": [h.to_wire() for h in hits]}

    @server.tool()
    def index_status() -> dict:
        """What is indexed: files, chunks, embedding model, last sync, index location and version
        (and, for a shared index, the local cache's age)."""
        data = holder.get().status()
        return {**data, **where_answers_go(data)}  # what ask_docs would use

    return server


def serve(db: str, docs_root: str | None = None) -> None:
    """Run the stdio server until the client disconnects."""
    logging.basicConfig(level=os.environ.get("ALPACA_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    holder = IndexHolder(lambda: open_index(db, docs_root=docs_root))
    build_server(holder).run("stdio")
