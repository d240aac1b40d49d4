"""Hover: the top related docs for the word or symbol under the cursor, as markdown links.

Only hits that mention the symbol literally or are semantically close are shown (no noise), the
lookup is cached per index generation, and a hover never waits for a sync or a model load: if the
index is not open yet it answers nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from alpaca_server import queries
from alpaca_server.feature import Feature

if TYPE_CHECKING:
    from alpaca_server.server import AlpacaServer

log = logging.getLogger(__name__)


class HoverFeature(Feature):
    def __init__(self, server: AlpacaServer) -> None:
        super().__init__(server)
        self.cache = queries.ResultCache()  # symbol → docs, per index generation

    def register(self) -> None:
        self.on(types.TEXT_DOCUMENT_HOVER, self.hover)

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        ls = self.server
        if not ls.settings.hover:
            return None
        try:
            doc = ls.workspace.get_text_document(params.text_document.uri)
            lines = doc.lines
            line = lines[params.position.line] if params.position.line < len(lines) else ""
        except Exception:  # noqa: BLE001 - best effort: nothing to show
            return None
        symbol, start = queries.symbol_at(line, params.position.character)
        if not queries.hoverable(symbol):
            return None
        try:
            exclude = queries.uri_to_path(params.text_document.uri)
        except ValueError:
            exclude = None
        try:
            results = await ls.run_query(queries.hover_hits, ls.engine, self.cache, symbol, exclude,
                                         min(3, ls.settings.results_count))
        except Exception as exc:  # noqa: BLE001 - not open yet, odd file...: no hover rather than an error popup
            log.info("hover %r: %s", symbol, exc)
            return None
        if not results:
            return None
        rng = types.Range(start=types.Position(line=params.position.line, character=start),
                          end=types.Position(line=params.position.line, character=start + len(symbol)))
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                        value=queries.hover_markdown(symbol, results)), range=rng)
