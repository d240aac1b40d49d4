"""Open documents: saves of docs files feed the index; the active document gets related reading.

`alpaca/related {uri, results}` is pushed for the active document: on didOpen, on the custom
`alpaca/activeDocument {uri, line?, text?}` notification (the client sends it when the editor
focus or visible range changes), and debounced on didChange. The query is the document's text
around `line` (or its start), so code files get docs related to what is on screen. The
`alpaca.related {uri | text, k?}` command answers from the same cache.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from alpaca_server import queries
from alpaca_server.feature import Feature
from alpaca_server.params import arguments, guarded
from alpaca_server.settings import as_plain

if TYPE_CHECKING:
    from alpaca_server.server import AlpacaServer

log = logging.getLogger(__name__)

RELATED = "alpaca/related"
ACTIVE_DOCUMENT = "alpaca/activeDocument"
CHANGE_DEBOUNCE = 0.4  # seconds of typing quiet before related reading is recomputed
WINDOW_LINES = 40  # lines of context around the cursor used as the query


def _window(source: str, line: int | None) -> str:
    lines = source.splitlines()
    if line is None:
        return "\n".join(lines[: WINDOW_LINES * 2])
    start = max(0, line - WINDOW_LINES // 2)
    return "\n".join(lines[start: start + WINDOW_LINES])


class DocumentsFeature(Feature):
    def __init__(self, server: AlpacaServer) -> None:
        super().__init__(server)
        self.related_cache = queries.ResultCache(128)  # file → related docs, per index generation
        self.tasks: dict[str, asyncio.Task] = {}  # uri → the task pushing its alpaca/related
        self.active_uri: str | None = None
        self.active_line: int | None = None

    def register(self) -> None:
        self.on(types.TEXT_DOCUMENT_DID_OPEN, self.did_open)
        self.on(types.TEXT_DOCUMENT_DID_CHANGE, self.did_change)
        self.on(types.TEXT_DOCUMENT_DID_SAVE, self.did_save)
        self.on(types.TEXT_DOCUMENT_DID_CLOSE, self.did_close)
        self.on(ACTIVE_DOCUMENT, self.active_document)
        self.command("alpaca.related", self.related)

    async def related(self, *args):
        ls = self.server
        p = arguments(args, "uri")
        results = await guarded(ls.run_query(queries.related, ls.engine, self.related_cache, p.get("uri"),
                                             p.get("text"), p.get("k"), ls.settings.results_count))
        return {"results": results}

    def schedule_related(self, uri: str, line: int | None = None, text: str | None = None,
                         delay: float = 0.0, use_index_copy: bool = False) -> None:
        previous = self.tasks.pop(uri, None)
        if previous is not None and not previous.done():
            previous.cancel()
        self.tasks[uri] = self.server.run_task(self._push_related(uri, line, text, delay, use_index_copy),
                                               name=f"alpaca-related {uri}")

    async def _push_related(self, uri: str, line: int | None, text: str | None, delay: float,
                            use_index_copy: bool) -> None:
        ls = self.server
        if delay:
            await asyncio.sleep(delay)
        try:
            path = queries.uri_to_path(uri)
        except ValueError:  # untitled: and other unsaved buffers: related to their text only
            path = None
        if text is None and not (use_index_copy and path and ls.engine.is_docs_file(path)):
            try:
                text = _window(ls.workspace.get_text_document(uri).source, line)
            except Exception:  # noqa: BLE001 - best effort: nothing to show
                text = None
            if text is not None and not text.strip():
                return
        try:
            if path is None and not text:
                return
            results = await ls.run_query(queries.related, ls.engine, self.related_cache, uri if path else None,
                                         text, None, ls.settings.results_count)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - not ready, unreadable file...: no push, never a crash
            log.info("related for %s: %s", uri, exc)
            return
        if self.active_uri in (None, uri):
            ls.notify(RELATED, {"uri": uri, "results": results})

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self.active_uri = params.text_document.uri
        self.schedule_related(params.text_document.uri, use_index_copy=True)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if self.active_uri == uri:
            self.schedule_related(uri, line=self.active_line, delay=CHANGE_DEBOUNCE)

    def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        try:
            path = queries.uri_to_path(uri)
        except ValueError:
            return
        if self.server.engine.is_docs_file(path):
            self.server.files_changed([path])

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        task = self.tasks.pop(params.text_document.uri, None)
        if task is not None:
            task.cancel()

    def active_document(self, params) -> None:
        data = as_plain(params) or {}
        uri = data.get("uri") if isinstance(data, dict) else None
        if not isinstance(uri, str) or not uri:
            self.server.show_message("warning", "Alpaca: alpaca/activeDocument needs a `uri`")
            return
        line = data.get("line")
        if line is None and isinstance(data.get("range"), dict):
            line = (data["range"].get("start") or {}).get("line")
        text = data.get("text") if isinstance(data.get("text"), str) else None
        self.active_uri = uri
        self.active_line = line if isinstance(line, int) else None
        self.schedule_related(uri, line=self.active_line, text=text,
                              use_index_copy=line is None and text is None)
