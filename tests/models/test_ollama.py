"""Ollama through its API (a local stand-in): detected, listed, pulled with progress, and answering."""

from __future__ import annotations

import json

import pytest

from alpaca_index.models import config, hub, ollama
from tests.models.conftest import alpaca
from tests.models.standins import FakeOllama


@pytest.fixture()
def fake_ollama(monkeypatch):
    with FakeOllama({"llama3.2:latest": 2_019_393_189}, catalog={"mistral:latest": 4_113_301_824}) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        yield server


def test_detect_and_list(fake_ollama):
    assert ollama.detect() is True
    assert ollama.models() == [{"name": "llama3.2:latest", "size": 2_019_393_189, "parameters": "7B",
                                "quantization": "Q4_K_M"}]
    out = json.loads(alpaca("model", "list", "--json").stdout)
    assert out["ollama"]["host"] == fake_ollama.url and out["ollama"]["models"][0]["name"] == "llama3.2:latest"


def test_no_ollama_is_detected_as_none(monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    assert ollama.detect() is False
    with pytest.raises(hub.ModelError, match="Ollama at"):
        ollama.models()


def test_pull_reports_progress_and_remembers_the_endpoint(fake_ollama):
    seen = []
    assert ollama.pull("mistral:latest", on_progress=lambda status, done, total: seen.append((status, done, total)))
    layer = [s for s in seen if s[2]]
    assert layer[-1][1] == layer[-1][2] == 4_113_301_824 and [d for _, d, _ in layer] == sorted(d for _, d, _ in layer)
    assert seen[-1][0] == "success" and "mistral:latest" in {m["name"] for m in ollama.models()}
    proc = alpaca("model", "pull", "--ollama", "mistral:latest", "--json")
    assert json.loads(proc.stdout)["endpoint"] == fake_ollama.url + "/v1"
    assert config.answer_model() == {"endpoint": fake_ollama.url + "/v1", "endpoint_model": "mistral:latest"}


def test_pulling_an_unknown_model_is_one_line(fake_ollama):
    proc = alpaca("model", "pull", "--ollama", "no-such-model", check=False)
    assert proc.returncode == 1 and "file does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert config.answer_model() == {}


def test_use_checks_the_model_exists(fake_ollama):
    proc = alpaca("model", "use", "--ollama", "mistral:latest", check=False)
    assert proc.returncode == 2 and "alpaca model pull --ollama mistral:latest" in proc.stderr
    alpaca("model", "use", "--ollama", "llama3.2:latest", "--ctx", "4096")
    assert config.answer_model() == {"endpoint": fake_ollama.url + "/v1", "endpoint_model": "llama3.2:latest",
                                     "endpoint_ctx": 4096}


def test_answers_stream_through_ollama_with_the_key_and_never_show_it(sample_index, fake_ollama, monkeypatch):
    from alpaca_index.answer import AnswerSettings, answer, destination

    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("ALPACA_API_KEY", secret)
    alpaca("model", "use", "--ollama", "llama3.2:latest", "--ctx", "4096")
    settings = AnswerSettings.from_env()
    assert (settings.endpoint, settings.endpoint_model, settings.endpoint_ctx) == \
        (fake_ollama.url + "/v1", "llama3.2:latest", 4096)
    # a reply the claim check backs (the sample docs list these sizes), so it streams to the reader
    fake_ollama.reply = ("The memory sizes you can choose are 1024 MB, 2048 MB, 3072 MB, 4096 MB, 5120 MB, or 6144 MB"
                         " [1].")
    pieces = []
    result = answer(sample_index, "How much memory can a serverless endpoint have?", settings,
                    on_text=pieces.append)
    # the model's words arrive one event at a time; the reader gets each sentence once the check backs it
    assert result.backend == "endpoint" and result.verdict == "the claim supported by the cited passages"
    assert "".join(pieces).strip() == result.answer.strip() and "6144 MB [1]" in result.answer
    assert fake_ollama.auth == [f"Bearer {secret}"]
    assert secret not in repr(settings) and secret not in json.dumps(result.to_dict())
    assert destination(settings) == ("endpoint", f"none (model server on this machine: {fake_ollama.url}/v1)")
    status = alpaca("status", "--json", env={"ALPACA_DB": sample_index.db}, check=False)
    assert secret not in status.stdout + status.stderr
    assert secret not in alpaca("model", "list", "--json").stdout


def test_without_a_key_no_authorization_is_sent_not_even_openais(fake_ollama, monkeypatch):
    from alpaca_index.answer.backends import Endpoint

    monkeypatch.setenv("OPENAI_API_KEY", "sk-someone-elses")  # the official client would send this by default
    endpoint = Endpoint(fake_ollama.url + "/v1", model="llama3.2:latest")
    assert "".join(endpoint.stream("Say ok.", 16, lambda: False)).startswith("Scale to zero")
    assert fake_ollama.auth == [None]


def test_a_model_ollama_lacks_is_one_clear_error(fake_ollama):
    from alpaca_index.answer.backends import BackendError, Endpoint

    with pytest.raises(BackendError, match=r"HTTP 404 .*model 'mistral:latest' not found.*ollama pull mistral:latest"):
        list(Endpoint(fake_ollama.url, model="mistral:latest").stream("Say ok.", 16, lambda: False))
