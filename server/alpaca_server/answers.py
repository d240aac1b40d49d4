"""Answers for `alpaca.ask`: a thin adapter from `alpaca_index.answer` to the LSP payload.

`run_answer(index, question, k, settings, emit, cancelled)` blocks (call it from a worker thread),
calls `emit(text)` for each streamed piece and returns the final payload of the contract:
`{answer, sources, related, backend, noModel, refused, notice, timings, grounding, withheld, refusalReason, verdict}`.
`on_sources(payload)` gets `{sources, bestPassage}` as soon as retrieval is done, before the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from alpaca_index.answer import answer

if TYPE_CHECKING:
    from alpaca_index.api import ReadableIndex
    from alpaca_server.settings import Settings


class Cancelled(Exception):
    pass


def run_answer(index: ReadableIndex, question: str, k: int, settings: Settings, emit: Callable[[str], None],
               cancelled: Callable[[], bool], history=None, context: str | None = None,
               on_sources: Callable[[dict], None] | None = None) -> dict:

    def sources_found(preview: dict) -> None:
        assert on_sources is not None  # passed on only when given
        on_sources({"sources": preview["sources"], "bestPassage": preview["best_passage"]})

    result = answer(index, question, settings.answer_settings(k), on_text=emit, cancelled=cancelled,
                    history=history, context=context, on_sources=sources_found if on_sources else None)
    if result.cancelled:
        raise Cancelled()
    return {
        "answer": result.answer, "sources": result.sources,
        "related": result.related, "backend": result.backend, "noModel": result.no_model,
        "refused": result.refused, "notice": result.notice, "invalidCitations": result.invalid_citations,
        "timings": result.timings, "query": result.query, "rewrittenBy": result.rewritten_by,
        "grounding": result.grounding, "withheld": result.withheld,
        "refusalReason": result.refusal_reason, "verdict": result.verdict,
    }
