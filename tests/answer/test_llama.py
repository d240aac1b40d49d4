"""The real llama.cpp path with the tiny packaged GGUF: mechanics, not answer quality."""

from __future__ import annotations

import pytest

from alpaca_index.answer import AnswerSettings, answer
from alpaca_index.answer.backends import LlamaCpp

QUESTION = "How do I scale an asynchronous inference endpoint down to zero instances?"
CTX = 768  # small: prompt evaluation dominates the runtime on shared CPUs


@pytest.fixture(scope="module")
def backend(tiny_gguf):
    return LlamaCpp(tiny_gguf, n_ctx=CTX)


def settings(tiny_gguf, **kw) -> AnswerSettings:
    return AnswerSettings(model_path=tiny_gguf, n_ctx=CTX, max_answer_tokens=kw.pop("max_answer_tokens", 24), **kw)


def test_streams_tokens_within_the_context_budget(sample_index, tiny_gguf, backend):
    pieces = []
    result = answer(sample_index, QUESTION, settings(tiny_gguf), on_text=pieces.append, backend=backend)
    assert result.backend == "llama.cpp" and not result.no_model
    t = result.timings
    assert t["prompt_tokens"] + 24 <= CTX and t["first_token_ms"] > 0 and t["tokens_per_s"] > 0
    if result.refused:  # a base model rarely cites or stays on its passages
        assert result.refusal_reason == "model" and result.sources == []
    elif result.withheld:  # withheld by the claim check: the closest passages quoted instead
        assert result.sources and result.answer.startswith("The model's answer was withheld")
    else:  # what streamed is the answer: checked sentences only
        assert "".join(pieces).strip() == result.answer
        assert result.sources and all(s["path"] and s["start_line"] >= 1 for s in result.sources)
        assert result.grounding["supported"] >= 1


class Counting:
    """The backend as is, counting the tokens it streamed."""

    def __init__(self, backend):
        self.backend, self.tokens = backend, 0
        self.name, self.n_ctx, self.count = backend.name, backend.n_ctx, backend.count

    def stream(self, prompt, max_tokens, stop):
        for piece in self.backend.stream(prompt, max_tokens, stop):
            self.tokens += 1
            yield piece


def test_small_context_packs_fewer_whole_sources(sample_index, tiny_gguf, backend):
    from alpaca_index.answer.prompt import pack

    hits = sample_index.search(QUESTION, k=8)
    roomy = pack(QUESTION, hits, 4000, backend.count)
    tight = pack(QUESTION, hits, 600, backend.count)
    assert 0 < len(tight) < len(roomy)
    assert all(s.hit.text in s.render() for s in tight)  # whole chunks only


def test_cancel_stops_generation(sample_index, tiny_gguf, backend):
    counting = Counting(backend)
    result = answer(sample_index, QUESTION, settings(tiny_gguf, max_answer_tokens=64),
                    cancelled=lambda: counting.tokens >= 3, backend=counting)
    assert result.cancelled and counting.tokens == 3 and result.refusal_reason is None


def test_cancel_during_prompt_evaluation_stops_it(sample_index, tiny_gguf, backend):
    calls = []

    def cancelled():  # false for the checks before generation, then true inside llama_decode's abort callback
        calls.append(1)
        return len(calls) > 3

    pieces = []
    result = answer(sample_index, "How do I invoke an asynchronous endpoint?", settings(tiny_gguf),
                    on_text=pieces.append, cancelled=cancelled, backend=backend)
    assert result.cancelled and pieces == [] and result.backend == "llama.cpp" and not result.notice
    assert "first_token_ms" not in result.timings
    assert backend.llm.n_tokens < result.timings["prompt_tokens"]  # stopped inside the prompt, not after it
    # the next test's answers show the model is still usable after an aborted decode


def test_second_question_reuses_the_shared_prompt_prefix(sample_index, tiny_gguf, backend):
    llm = backend.llm
    evaluated = []
    original = llm.eval
    llm.eval = lambda tokens: (evaluated.append(len(tokens)), original(tokens))[1]
    try:
        answer(sample_index, QUESTION, settings(tiny_gguf, max_answer_tokens=4), backend=backend)
        evaluated.clear()
        second = answer(sample_index, "Can a serverless endpoint use GPUs?", settings(tiny_gguf, max_answer_tokens=4),
                        backend=backend)
    finally:
        del llm.eval
    rules_tokens = backend.count("You answer questions about a company's internal documentation.")
    assert sum(evaluated) < second.timings["prompt_tokens"] + 4 - rules_tokens  # the rules were not re-evaluated


def test_model_that_does_not_fit_its_context_falls_back(sample_index, tiny_gguf):
    result = answer(sample_index, QUESTION, AnswerSettings(model_path=tiny_gguf, n_ctx=10_000_000))
    assert result.no_model and "cannot load" in result.notice and result.sources


def test_instances_of_one_model_share_it_and_answer_one_at_a_time(sample_index, tiny_gguf, backend):
    import threading

    other = LlamaCpp(tiny_gguf, n_ctx=CTX)
    assert other.llm is backend.llm and other.generate_lock is backend.generate_lock
    results = {}

    def ask(name, engine, question):
        results[name] = answer(sample_index, question, settings(tiny_gguf, max_answer_tokens=6), backend=engine)

    threads = [threading.Thread(target=ask, args=("a", backend, QUESTION)),
               threading.Thread(target=ask, args=("b", other, "Can a serverless endpoint use GPUs?"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert {r.backend for r in results.values()} == {"llama.cpp"} and all(r.answer for r in results.values())


def test_prompt_over_the_context_is_a_backend_error_not_a_traceback(backend):
    from alpaca_index.answer import BackendError

    with pytest.raises(BackendError, match="llama.cpp failed"):
        list(backend.stream("word " * 3000, 4, lambda: False))


def test_gguf_without_a_chat_template_gets_the_mistral_instruct_format(backend):
    from llama_cpp.llama_chat_format import get_chat_completion_handler

    assert "tokenizer.chat_template" not in backend.llm.metadata  # the tiny base model has none
    assert backend.llm.chat_format == "mistral-instruct"
    assert get_chat_completion_handler(backend.llm.chat_format)  # a format llama-cpp-python knows


def test_amx_cpus_load_without_the_extra_weight_buffers(tmp_path):
    """llama-cpp-python built on an AMX CPU crashed on its first prompt (ggml_backend_amx_mul_mat): there
    the model loads with extra buffers off, elsewhere as llama.cpp chooses; the defaults come back after."""
    import llama_cpp.llama_cpp as low

    from alpaca_index.answer.backends import _has_amx, _without_extra_buffers

    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16 amx_tile amx_int8 avx512_fp16\n")
    plain.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert _has_amx(str(amx)) and not _has_amx(str(plain)) and not _has_amx(str(tmp_path / "missing"))
    defaults = low.llama_model_default_params
    with _without_extra_buffers(True):
        assert low.llama_model_default_params().use_extra_bufts is False
    with _without_extra_buffers(False):
        assert low.llama_model_default_params is defaults
    assert low.llama_model_default_params is defaults and defaults().use_extra_bufts is True
