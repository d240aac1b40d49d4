"""Open documents: saves of docs files feed the index; the active document gets related reading.

`alpaca/related {uri, results}` is pushed for the active document: on didOpen, on the custom
`alpaca/activeDocument {uri, line?, text?}` notification (the client sends it when the editor
focus or visible range changes), and debounced on didChange. The query is the document's text
around `line` (or its start), so code files get docs related to what is on screen.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from alpaca_server import queries
from alpaca_server.server import ACTIVE_DOCUMENT, RELATED, AlpacaServer
from alpaca_server.settings import as_plain

log = logging.getLogger(__name__)

CHANGE_DEBOUNCE = 0.4  # seconds of typing quiet before related reading is recomputed
WINDOW_LINES = 40  # lines of context around the cursor used as the query


def _window(source: str, line: int | None) -> str:
    lines = source.splitlines()
    if line is None:
        return "\n".join(lines[: WINDOW_LINES * 2])
    start = max(0, line - WINDOW_LINES // 2)
    return "\n".join(lines[start: start + WINDOW_LINES])


def schedule_related(ls: AlpacaServer, uri: str, line: int | None = None, text: str | None = None,
                     delay: float = 0.0, use_index_copy: bool = False) -> None:
    tasks = ls.related_tasks
    previous = tasks.pop(uri, None)
    if previous is not None and not previous.done():
        previous.cancel()
    tasks[uri] = asyncio.ensure_future(_push_related(ls, uri, line, text, delay, use_index_copy))


async def _push_related(ls: AlpacaServer, uri: str, line: int | None, text: str | None, delay: float,
                        use_index_copy: bool) -> None:
    if delay:
        await asyncio.sleep(delay)
    try:
        path = queries.uri_to_path(uri)
    except ValueError:  # untitled: and other unsaved buffers: related to their text only
        path = None
    if text is None and not (use_index_copy and path and ls.engine.is_docs_file(path)):
        try:
            text = _window(ls.workspace.get_text_document(uri).source, line)
        except Exception:
            text = None
        if text is not None and not text.strip():
            return
    try:
        if path is None and not text:
            return
        results = await ls.run_query(queries.related, ls.engine, uri if path else None, text, None,
                                     ls.settings.results_count)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # not ready, unreadable file...: no push, never a crash
        log.info("related for %s: %s", uri, exc)
        return
    if ls.active_uri in (None, uri):
        ls.notify(RELATED, {"uri": uri, "results": results})


def did_open(ls: AlpacaServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.active_uri = params.text_document.uri
    schedule_related(ls, params.text_document.uri, use_index_copy=True)


def did_change(ls: AlpacaServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    if ls.active_uri == uri:
        schedule_related(ls, uri, line=ls.active_line, delay=CHANGE_DEBOUNCE)


def did_save(ls: AlpacaServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    try:
        path = queries.uri_to_path(uri)
    except ValueError:
        return
    if ls.engine.is_docs_file(path):
        ls.files_changed([path])


def did_close(ls: AlpacaServer, params: types.DidCloseTextDocumentParams) -> None:
    task = ls.related_tasks.pop(params.text_document.uri, None)
    if task is not None:
        task.cancel()


def active_document(ls: AlpacaServer, params) -> None:
    data = as_plain(params) or {}
    uri = data.get("uri") if isinstance(data, dict) else None
    if not isinstance(uri, str) or not uri:
        ls.show_message("warning", "Alpaca: alpaca/activeDocument needs a `uri`")
        return
    line = data.get("line")
    if line is None and isinstance(data.get("range"), dict):
        line = (data["range"].get("start") or {}).get("line")
    text = data.get("text") if isinstance(data.get("text"), str) else None
    ls.active_uri = uri
    ls.active_line = line if isinstance(line, int) else None
    schedule_related(ls, uri, line=ls.active_line, text=text, use_index_copy=line is None and text is None)


def register(server: AlpacaServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE)(did_save)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(ACTIVE_DOCUMENT)(active_document)
