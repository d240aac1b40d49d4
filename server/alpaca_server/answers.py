"""Answers for `alpaca.ask`: a thin adapter from `alpaca_index.answer` to the LSP payload.

`run_answer(index, question, k, settings, emit, cancelled)` blocks (call it from a worker thread),
calls `emit(text)` for each streamed piece and returns the final payload of the contract:
`{answer, sources, related, backend, noModel, refused, notice, timings, grounding, withheld, refusalReason, verdict}`.
`on_sources(payload)` gets `{sources, bestPassage}` as soon as retrieval is done, before the model.
"""

from __future__ import annotations

from typing import Callable

from alpaca_index.answer import AnswerSettings, answer

from alpaca_server.queries import file_uri


class Cancelled(Exception):
    pass


def _with_uri(entry: dict) -> dict:
    return {**entry, "uri": file_uri(entry["abspath"]) if entry.get("abspath") else ""}


def run_answer(index, question: str, k: int, settings, emit: Callable[[str], None],
               cancelled: Callable[[], bool], on_sources: Callable[[dict], None] | None = None) -> dict:
    answer_settings = AnswerSettings(model_path=settings.model_path or None, endpoint=settings.endpoint_url or None,
                                     allow_remote=settings.allow_remote, k=k)

    def sources_found(preview: dict) -> None:
        best = preview["best_passage"]
        on_sources({"sources": [_with_uri(s) for s in preview["sources"]],
                    "bestPassage": _with_uri(best) if best else None})

    result = answer(index, question, answer_settings, on_text=emit, cancelled=cancelled,
                    on_sources=sources_found if on_sources else None)
    if result.cancelled:
        raise Cancelled()
    return {
        "answer": result.answer, "sources": [_with_uri(s) for s in result.sources],
        "related": [_with_uri(r) for r in result.related], "backend": result.backend, "noModel": result.no_model,
        "refused": result.refused, "notice": result.notice, "invalidCitations": result.invalid_citations,
        "timings": result.timings, "grounding": result.grounding, "withheld": result.withheld,
        "refusalReason": result.refusal_reason, "verdict": result.verdict,
    }
