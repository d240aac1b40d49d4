"""Answers for `alpaca.ask`: a thin adapter from `alpaca_index.answer` to the LSP payload.

`run_answer(index, question, k, settings, emit, cancelled)` blocks (call it from a worker thread),
calls `emit(text)` for each streamed piece and returns the final payload of the contract:
`{answer, sources, related, backend, noModel, refused, notice, timings, grounding, withheld, refusalReason, verdict}`.
`on_sources(payload)` gets `{sources, bestPassage}` as soon as retrieval is done, before the model.
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
               cancelled: Callable[[], bool], history=None, context: str | None = None,
               on_sources: Callable[[dict], None] | None = None) -> dict:

    def sources_found(preview: dict) -> None:
        best = preview["best_passage"]
        on_sources({"sources": [_with_uri(s) for s in preview["sources"]],
                    "bestPassage": _with_uri(best) if best else None})

    result = answer(index, question, settings.answer_settings(k), on_text=emit, cancelled=cancelled,
                    history=history, context=context, on_sources=sources_found if on_sources else None)
    if result.cancelled:
        raise Cancelled()
    return {
        "answer": result.answer, "sources": [_with_uri(s) for s in result.sources],
        "related": [_with_uri(r) for r in result.related], "backend": result.backend, "noModel": result.no_model,
        "refused": result.refused, "notice": result.notice, "invalidCitations": result.invalid_citations,
        "timings": result.timings, "query": result.query, "rewrittenBy": result.rewritten_by,
        "grounding": result.grounding, "withheld": result.withheld,
        "refusalReason": result.refusal_reason, "verdict": result.verdict,
    }
