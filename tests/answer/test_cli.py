"""`alpaca ask` through the real CLI (typer's runner, the real index directory on disk)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from alpaca_index.cli import UserError, app


@pytest.fixture()
def ask(sample_index, monkeypatch):
    for name in ("ALPACA_MODEL", "ALPACA_ENDPOINT", "ALPACA_ALLOW_REMOTE", "ALPACA_ENDPOINT_MODEL"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str):
        result = CliRunner().invoke(app, ["ask", *args, "--db", sample_index.db])
        if result.exception and not isinstance(result.exception, (SystemExit, UserError)):
            raise result.exception
        return result

    return run


def test_ask_json_with_an_endpoint(ask, chat_server):
    chat_server.reply = ["Use `MaxConcurrency` ", "[1]", " and [4]."]
    out = ask("How much memory can a serverless endpoint have?", "--json", "--endpoint", chat_server.url,
              "--endpoint-model", "mistral:7b")
    data = json.loads(out.stdout)
    assert data["backend"] == "endpoint" and not data["no_model"] and not data["refused"]
    assert data["answer"].startswith("Use `MaxConcurrency` [1]")
    assert {s["n"] for s in data["sources"]} <= {1, 4} and data["sources"][0]["n"] == 1
    assert {"path", "anchor", "start_line", "end_line", "heading_path", "mtime"} <= set(data["sources"][0])
    assert {"retrieval_ms", "first_token_ms", "total_ms"} <= set(data["timings"])
    assert chat_server.requests[0]["body"]["model"] == "mistral:7b"


def test_ask_streams_passages_then_numbered_sources_without_a_model(ask):
    out = ask("How do I scale an asynchronous inference endpoint to zero instances?")
    assert out.exit_code == 0
    text = out.stdout
    assert text.startswith("From the documentation (passages quoted, no model configured)")
    assert "note: No model configured" in text and "--model" in text
    sources = text[text.index("Sources"):]
    assert re.search(r"\[1\] .+ — \S+:\d+#\S+ \(lines? \d+(-\d+)?, updated \d{4}-\d\d-\d\d\)", sources)
    assert "Related reading" in text and "none · retrieval" in text


def test_ask_json_refuses_off_topic_questions(ask):
    data = json.loads(ask("What is the capital of Australia?", "--json").stdout)
    assert data["refused"] and data["sources"] == [] and data["answer"] == "The documentation doesn't cover this."


def test_ask_refuses_a_remote_endpoint_without_allow_remote(ask):
    data = json.loads(ask("How do I scale an async endpoint to zero?", "--json", "--endpoint",
                          "https://api.example.com/v1").stdout)
    assert data["no_model"] and "allow_remote" in data["notice"] and data["sources"]


def test_ask_empty_question_is_a_user_error(ask):
    out = ask("   ", "--json")
    assert isinstance(out.exception, UserError) and "empty" in str(out.exception)


def test_ask_reads_several_questions_from_stdin_with_one_model(sample_index, chat_server, monkeypatch):
    for name in ("ALPACA_MODEL", "ALPACA_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    chat_server.reply = ["The memory sizes you can choose are 1024 MB, 2048 MB, 3072 MB, 4096 MB, 5120 MB, "
                         "or 6144 MB [1]."]
    questions = "How much memory can a serverless endpoint have?\n\nWhat is the capital of Australia?\n"
    out = CliRunner().invoke(app, ["ask", "-", "--json", "--db", sample_index.db, "--endpoint", chat_server.url],
                             input=questions)
    data = json.loads(out.stdout)
    assert [d["question"] for d in data] == ["How much memory can a serverless endpoint have?",
                                             "What is the capital of Australia?"]
    assert not data[0]["refused"] and data[0]["grounding"]["claims"] and data[0]["verdict"]
    assert data[1]["refused"] and data[1]["refusal_reason"] == "retrieval" and len(chat_server.prompts) == 1


def test_ask_prints_the_claim_check_and_holds_back_unsupported_sentences(ask, chat_server):
    chat_server.reply = ["The memory sizes you can choose are 1024 MB, 2048 MB, 3072 MB, 4096 MB, 5120 MB, ",
                         "or 6144 MB [1]. Each serverless endpoint also gets 64 GPUs [1]."]
    out = ask("How much memory can a serverless endpoint have?", "--endpoint", chat_server.url, "-k", "1")
    assert out.exit_code == 0
    answer, _, notes = out.stdout.partition("! check:")
    assert "6144 MB [1]." in answer and "GPUs" not in answer  # streamed: only the backed sentence
    assert notes.startswith(" 1 of 2 claims supported") and "held back from the answer (1):" in notes
    assert re.search(r"✗ Each serverless endpoint also gets 64 GPUs.* — not in \[1\] \(missing: 64 GPUs\)", notes)


def test_a_sentence_the_model_judged_unstated_is_listed_with_its_odds(capsys):
    """A retry's claims are judged by the model: a held-back one says so, not "not in [1]"."""
    from alpaca_index.answer import AnswerResult
    from alpaca_index.answer.cli import _print_grounding

    claims = [{"text": "Backed.", "status": "supported", "cites": [1], "missing": [], "shown": True, "judged": 0.93},
              {"text": "The model goes in /opt/ml/output/data.", "status": "unsupported", "cites": [1], "missing": [],
               "shown": False, "judged": 0.21}]
    result = AnswerResult("q", "Backed. [1]", [], [], "llama.cpp",
                          grounding={"claims": claims, "supported": 1, "verdict": "1 of 2 claims supported"})
    _print_grounding(result)
    out = " ".join(capsys.readouterr().out.split())
    assert "output/data. — the model judged its passage doesn't state it (odds 0.21)" in out
