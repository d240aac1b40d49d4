"""Answers for `alpaca.ask`: the shared `alpaca_index.answer` module when present, else extractive.

`run_answer(index, question, k, settings, emit, cancelled)` blocks (call it from a worker thread),
calls `emit(text)` for each streamed piece and returns the final payload of the contract:
`{answer, sources, related, backend, noModel, timings}` (+ `cancelled`, `error` when relevant).
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from typing import Callable

from alpaca_server.queries import file_uri, hit_result

log = logging.getLogger(__name__)


class Cancelled(Exception):
    pass


def source_entry(n: int, hit) -> dict:
    data = hit if isinstance(hit, dict) else _hit_dict(hit)
    path = data.get("abspath") or data.get("path", "")
    return {
        "n": n, "title": data.get("title", ""), "heading_path": data.get("heading_path", ""),
        "path": data.get("path", ""), "uri": data.get("uri") or (file_uri(path) if path.startswith("/") else ""),
        "anchor": data.get("anchor", ""), "start_line": data.get("start_line", 1),
        "end_line": data.get("end_line", 1), "mtime": data.get("mtime"),
    }


def _hit_dict(hit) -> dict:
    if hasattr(hit, "to_dict"):
        d = hit.to_dict()
        d["uri"] = file_uri(d["abspath"]) if d.get("abspath") else ""
        return d
    return dict(getattr(hit, "__dict__", {}))


def answer_module():
    try:
        import alpaca_index.answer as module
    except ImportError:
        return None
    return module


def run_answer(index, question: str, k: int, settings, emit: Callable[[str], None],
               cancelled: Callable[[], bool]) -> dict:
    module = answer_module()
    if module is not None:
        try:
            return _with_module(module, index, question, k, settings, emit, cancelled)
        except Cancelled:
            raise
        except _Unsupported as exc:
            log.warning("alpaca_index.answer has an unexpected API (%s); answering extractively", exc)
    return extractive(index, question, k, settings, emit, cancelled)


# -- the shared answer module --------------------------------------------------------------------
class _Unsupported(Exception):
    pass


def _with_module(module, index, question, k, settings, emit, cancelled) -> dict:
    """Adapter over the answer module; written against ARCHITECTURE.md (streaming via a callback or
    an iterator; a final result with answer, sources, related, backend, timings)."""
    fn = None
    for name in ("answer", "ask", "answer_question"):
        candidate = getattr(module, name, None)
        if callable(candidate) and not inspect.ismodule(candidate):
            fn = candidate
            break
    if fn is None:
        raise _Unsupported("no answer()/ask() function")
    params = inspect.signature(fn).parameters
    kwargs = {}
    wanted = {
        ("k", "top_k"): k, ("model_path", "model", "gguf"): settings.model_path or None,
        ("endpoint_url", "endpoint"): settings.endpoint_url or None, ("allow_remote",): settings.allow_remote,
        ("backend",): None if settings.backend == "none" and "backend" not in params else settings.backend,
    }
    for names, value in wanted.items():
        for name in names:
            if name in params and value is not None:
                kwargs[name] = value
                break

    def on_text(text, *_):
        if cancelled():
            raise Cancelled()
        if isinstance(text, str) and text:
            emit(text)

    for name in ("on_token", "on_text", "on_partial", "stream", "callback", "on_delta"):
        if name in params:
            kwargs[name] = on_text
            break
    for name in ("cancelled", "should_stop", "is_cancelled", "cancel"):
        if name in params:
            kwargs[name] = cancelled
            break
    first = list(params)[:2]
    try:
        if first and first[0] in ("index", "idx", "docs_index"):
            result = fn(index, question, **kwargs)
        else:
            result = fn(question, index=index, **kwargs) if "index" in params else fn(question, **kwargs)
    except TypeError as exc:
        raise _Unsupported(str(exc)) from None
    if inspect.isgenerator(result) or (hasattr(result, "__iter__") and hasattr(result, "__next__")):
        final = None
        for item in result:
            if cancelled():
                raise Cancelled()
            if isinstance(item, str):
                emit(item)
            elif isinstance(item, dict) and item.get("kind") == "partial":
                emit(item.get("text", ""))
            else:
                final = item
        result = final
    return _final_from(result, settings)


def _final_from(result, settings) -> dict:
    if result is None:
        raise _Unsupported("no final result")
    data = result.to_dict() if hasattr(result, "to_dict") else result if isinstance(result, dict) \
        else dict(getattr(result, "__dict__", {}))
    if "answer" not in data:
        raise _Unsupported("final result has no `answer`")
    sources = [source_entry(int(s.get("n", i + 1)) if isinstance(s, dict) else i + 1, s)
               for i, s in enumerate(data.get("sources") or [])]
    related = [r if isinstance(r, dict) and "uri" in r else source_entry(i + 1, r)
               for i, r in enumerate(data.get("related") or [])]
    backend = data.get("backend") or settings.backend
    return {
        "answer": data["answer"], "sources": sources, "related": related, "backend": backend,
        "noModel": bool(data.get("noModel", data.get("no_model", backend in ("none", "extractive")))),
        "timings": data.get("timings") or {},
    }


# -- extractive fallback --------------------------------------------------------------------------
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _lead(text: str, limit: int = 320) -> str:
    flat = " ".join(line for line in text.split("\n") if not line.lstrip().startswith(("#", "|", "```")))
    flat = " ".join(flat.split())
    out = ""
    for sentence in _SENTENCE.split(flat):
        if out and len(out) + len(sentence) > limit:
            break
        out = f"{out} {sentence}".strip()
    return out[:limit]


def extractive(index, question: str, k: int, settings, emit, cancelled) -> dict:
    """No generation model: the best passages, quoted with their source numbers."""
    started = time.perf_counter()
    hits = index.search_files(question, k + 3)
    retrieval = time.perf_counter() - started
    sources, related = hits[:k], hits[k:]
    if not sources:
        text = "Nothing in the indexed docs matches this question."
        emit(text)
    else:
        emit("No answer model is configured, so here are the most relevant passages from your docs:\n\n")
        parts = []
        for n, hit in enumerate(sources, 1):
            if cancelled():
                raise Cancelled()
            part = f"**[{n}] {hit.heading_path or hit.title}** — {_lead(hit.text)} [{n}]\n\n"
            parts.append(part)
            emit(part)
        text = "No answer model is configured, so here are the most relevant passages from your docs:\n\n" + "".join(parts)
    return {
        "answer": text.strip(), "sources": [source_entry(n, h) for n, h in enumerate(sources, 1)],
        "related": [hit_result(h) for h in related], "backend": "none", "noModel": True,
        "timings": {"retrieval_ms": round(retrieval * 1000, 1),
                    "total_ms": round((time.perf_counter() - started) * 1000, 1)},
    }
