"""The OpenAI-compatible endpoint: privacy rules, settings from the environment, and every way it can fail."""

from __future__ import annotations

import logging
import time

import pytest

from alpaca_index.answer import AnswerSettings, BackendError, answer
from alpaca_index.answer.backends import Endpoint, is_loopback

QUESTION = "How do I scale an async endpoint to zero?"


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:8080", True), ("http://localhost:11434", True), ("http://[::1]:8000/v1", True),
    ("http://127.0.0.2", True), ("http://10.0.0.5:8080", False), ("http://0.0.0.0:8080", False),
    ("https://api.example.com/v1", False), ("http://localhost.example.com", False)])
def test_only_loopback_hosts_count_as_local(url, loopback):
    assert is_loopback(url) is loopback


def test_remote_endpoint_needs_allow_remote_and_is_logged(caplog, monkeypatch):
    monkeypatch.setenv("ALPACA_ENDPOINT_REGION", "us-east-1")  # residency: a remote endpoint declares its region
    with pytest.raises(BackendError, match="allow_remote"):
        Endpoint("https://api.example.com/v1")
    with caplog.at_level(logging.WARNING, logger="alpaca_index.answer.backends"):
        endpoint = Endpoint("https://api.example.com/v1", allow_remote=True)
    assert endpoint.url == "https://api.example.com/v1/chat/completions"
    assert "api.example.com" in caplog.text


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "127.0.0.1:8080", "http://"])
def test_malformed_endpoint_urls_are_rejected(url):
    with pytest.raises(BackendError, match="http"):
        Endpoint(url)


def test_settings_come_from_the_environment_and_arguments_win(monkeypatch):
    monkeypatch.setenv("ALPACA_MODEL", "/models/mistral.gguf")
    monkeypatch.setenv("ALPACA_ENDPOINT", "http://127.0.0.1:11434")
    monkeypatch.setenv("ALPACA_ALLOW_REMOTE", "True")
    monkeypatch.setenv("ALPACA_ENDPOINT_CTX", "8192")
    env = AnswerSettings.from_env()
    assert (env.model_path, env.endpoint, env.allow_remote) == ("/models/mistral.gguf", "http://127.0.0.1:11434", True)
    assert env.endpoint_ctx == 8192
    assert AnswerSettings.from_env(endpoint="http://localhost:8080", k=3).endpoint == "http://localhost:8080"
    monkeypatch.delenv("ALPACA_ALLOW_REMOTE")
    assert AnswerSettings.from_env().allow_remote is False


def test_endpoint_from_environment_answers(sample_index, chat_server, monkeypatch):
    monkeypatch.setenv("ALPACA_ENDPOINT", chat_server.url + "/v1")
    monkeypatch.delenv("ALPACA_MODEL", raising=False)
    chat_server.reply = ["Set the minimum capacity to zero ", "[1]."]
    result = answer(sample_index, QUESTION)
    # this test is about the endpoint setting; whether the claim check shows the sentence is test_grounding's
    assert result.backend == "endpoint" and (result.withheld or result.answer) == "Set the minimum capacity to zero [1]."
    request = chat_server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["body"]["stream"] is True
    assert result.timings["retrieval_ms"] > 0 and result.timings["first_token_ms"] > 0


def test_loopback_endpoint_bypasses_proxy_settings(sample_index, chat_server, monkeypatch):
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # a proxy would see the documents; this one is dead
    chat_server.reply = ["Direct [1]."]
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url))
    assert result.backend == "endpoint" and result.answer == "Direct [1]."


def test_http_error_falls_back_to_passages(sample_index, chat_server):
    chat_server.status = 500
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url))
    assert result.no_model and result.backend == "none" and "HTTP 500" in result.notice and result.sources


def test_silent_endpoint_times_out_instead_of_hanging(sample_index, chat_server):
    chat_server.stall_after = -1
    started = time.perf_counter()
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url, endpoint_timeout=1))
    assert time.perf_counter() - started < 15
    assert result.no_model and "timed out" in result.notice and result.sources


def test_endpoint_dying_mid_answer_shows_the_passages_not_the_unchecked_half_sentence(sample_index, chat_server):
    chat_server.reply = ["Scaling ", "to zero ", "needs"]
    chat_server.stall_after = 2
    pieces = []
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url, endpoint_timeout=1),
                    on_text=pieces.append)
    assert len(pieces) == 1 and pieces[0].startswith("From the documentation") and "Scaling" not in pieces[0]
    assert result.no_model and "stopped responding" in result.notice
    assert result.answer.startswith("From the documentation") and result.sources


def test_prompt_is_packed_to_the_endpoint_context(sample_index, chat_server):
    chat_server.reply = ["ok [1]"]
    small = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url, endpoint_ctx=1024,
                                                          max_answer_tokens=256))
    large = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url, endpoint_ctx=8192))
    assert small.timings["prompt_tokens"] <= 1024 - 256 - 32 < large.timings["prompt_tokens"]
    assert chat_server.prompts[0].count("<<<source") < chat_server.prompts[1].count("<<<source")
    assert chat_server.requests[0]["body"]["max_tokens"] == 256


def test_context_without_room_for_a_source_falls_back(sample_index, chat_server):
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url, endpoint_ctx=400))
    assert chat_server.prompts == [] and result.no_model and "no room" in result.notice and result.sources


def test_cancel_before_generation_does_not_call_the_endpoint(sample_index, chat_server):
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url), cancelled=lambda: True)
    assert result.cancelled and chat_server.prompts == [] and result.answer == ""


def test_small_context_shrinks_the_answer_allowance_not_the_sources(sample_index, chat_server):
    chat_server.reply = ["ok [1]"]
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url, endpoint_ctx=1024))
    assert chat_server.requests[0]["body"]["max_tokens"] == 256 and result.sources  # a quarter of 1024, not 512
    assert result.timings["prompt_tokens"] + 256 <= 1024


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/chat/completions"])
def test_every_spelling_of_the_endpoint_reaches_chat_completions(chat_server, suffix):
    endpoint = Endpoint(chat_server.url + suffix)
    assert list(endpoint.stream("Say ok.", 8, lambda: False)) == ["ok"]
    assert chat_server.requests[0]["path"] == "/v1/chat/completions"


def test_cancel_between_pieces_stops_the_stream(chat_server):
    chat_server.reply = ["one ", "two ", "three"]
    pieces: list[str] = []
    for piece in Endpoint(chat_server.url).stream("Count.", 8, lambda: len(pieces) >= 1):
        pieces.append(piece)
    assert pieces == ["one "]


def test_a_rejected_key_is_named_without_the_key(sample_index, chat_server):
    chat_server.status = 401
    result = answer(sample_index, QUESTION, AnswerSettings(endpoint=chat_server.url, api_key="sk-wrong-123"))
    assert result.no_model and "HTTP 401" in result.notice and "ALPACA_API_KEY" in result.notice
    assert "sk-wrong-123" not in result.notice


def test_only_what_alpaca_was_configured_with_is_sent(chat_server, monkeypatch):
    """No key, no organisation and none of the SDK's machine-describing headers reach the endpoint."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-elsewhere")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-elsewhere")
    backend = Endpoint(chat_server.url)
    assert "".join(backend.stream("hello", 8, lambda: False)) == "ok"
    sent = {name.lower() for name in chat_server.requests[-1]["headers"]}
    assert not {name for name in sent if name.startswith("x-stainless")}
    assert not sent & {"authorization", "openai-organization", "openai-project"}
