"""Answers for `alpaca.ask`: a thin adapter from `alpaca_index.answer` to the LSP payload.

`run_answer(index, question, k, settings, emit, cancelled)` blocks (call it from a worker thread),
calls `emit(text)` for each streamed piece and returns the final payload of the contract:
`{answer, sources, related, backend, noModel, refused, notice, timings}`.
"""

from __future__ import annotations

from typing import Callable

from alpaca_index.answer import answer

from alpaca_index.formats import place

from alpaca_server.queries import file_uri


class Cancelled(Exception):
    pass


def _with_uri(entry: dict) -> dict:
    where = place(entry.get("path", ""), entry.get("start_line") or 0, entry.get("end_line") or 0)
    return {**entry, "uri": file_uri(entry["abspath"]) if entry.get("abspath") else "", "place": where}


def run_answer(index, question: str, k: int, settings, emit: Callable[[str], None],
               cancelled: Callable[[], bool], history=None, context: str | None = None) -> dict:
    result = answer(index, question, settings.answer_settings(k), on_text=emit, cancelled=cancelled,
                    history=history, context=context)
    if result.cancelled:
        raise Cancelled()
    return {
        "answer": result.answer, "sources": [_with_uri(s) for s in result.sources],
        "related": [_with_uri(r) for r in result.related], "backend": result.backend, "noModel": result.no_model,
        "refused": result.refused, "notice": result.notice, "invalidCitations": result.invalid_citations,
        "timings": result.timings, "query": result.query, "rewrittenBy": result.rewritten_by,
    }
