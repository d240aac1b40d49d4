"""The editor's model set-up over a real language server (stdio): status, size before download, a
download with progress into the config, Ollama chosen and answering with the key from the environment."""

from __future__ import annotations

import json
import os
import sys

import pytest
import pytest_asyncio
from pytest_lsp import ClientServerConfig

from tests.models.standins import FakeHub, FakeOllama
from tests.server.conftest import command, copy_docs, init_params, make_client, wait_ready, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "sk-editor-secret-0042"
REPO, FILE = "someone/tiny-GGUF", "tiny.Q4_K_M.gguf"
GGUF = b"GGUF" + (3).to_bytes(4, "little") + bytes(16) + os.urandom(2_500_000)


@pytest.fixture(autouse=True)
def user_dirs():  # the server has its own folders (set below); this module's tests read them
    pass


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("setup")
    with FakeHub({(REPO, FILE): GGUF, (REPO, "page.gguf"): b"<html>" * 1000}) as hub, \
            FakeOllama({"llama3.2:latest": 2_019_393_189}, catalog={"mistral:latest": 4_113_301_824}) as ollama:
        env = {**os.environ, "ALPACA_CONFIG": str(base / "config.json"), "ALPACA_MODELS_DIR": str(base / "models"),
               "HF_ENDPOINT": hub.url, "OLLAMA_HOST": ollama.url, "ALPACA_API_KEY": SECRET}
        for name in ("ALPACA_MODEL", "ALPACA_ENDPOINT", "ALPACA_ENDPOINT_MODEL"):
            env.pop(name, None)
        config = ClientServerConfig(server_command=[sys.executable, "-m", "alpaca_server"], client_factory=make_client,
                                    server_env=env)
        client = await config.start()
        copy_docs(base / "ws" / "docs")
        await client.initialize_session(init_params(base / "ws", {"alpaca": {"debounceMs": 100}}))
        client.base, client.hub, client.ollama = base, hub, ollama
        yield client
        await client.shutdown_session()


def progress(client, request_id):
    return [p for p in client.alpaca["alpaca/modelProgress"] if p["requestId"] == request_id]


async def final(client, request_id):
    return (await wait_until(lambda: [p for p in progress(client, request_id) if p["kind"] == "final"], 30))[0]


async def test_status_shows_no_model_the_default_and_the_local_ollama(setup):
    status = await command(setup, "alpaca.models.status")
    assert status["backend"] == "none" and status["answer"]["modelPath"] == "" and status["answer"]["endpoint"] == ""
    assert status["default"]["file"] == "mistral-7b-instruct-v0.2.Q4_K_M.gguf"
    assert status["modelsDir"] == str(setup.base / "models")
    assert status["ollama"]["running"] and status["ollama"]["models"][0]["name"] == "llama3.2:latest"


async def test_download_shows_size_streams_progress_and_is_chosen(setup):
    described = await command(setup, "alpaca.models.describe", {"repo": REPO, "file": FILE})
    assert described["size"] == len(GGUF) and described["path"] == str(setup.base / "models" / "someone--tiny-GGUF" / FILE)
    started = await command(setup, "alpaca.models.pull", {"repo": REPO, "file": FILE, "requestId": "dl1"})
    assert started == {"requestId": "dl1"}
    done = await final(setup, "dl1")
    assert done["path"] == described["path"] and "error" not in done
    steps = [p for p in progress(setup, "dl1") if p["kind"] == "progress"]
    assert steps[-1]["done"] == steps[-1]["total"] == len(GGUF)
    chosen = await command(setup, "alpaca.models.use", {"modelPath": done["path"]})
    assert chosen["answer"] == {"model_path": done["path"]}
    assert json.loads((setup.base / "config.json").read_text())["answer"]["model_path"] == done["path"]
    await wait_until(lambda: setup.alpaca["alpaca/status"] and setup.alpaca["alpaca/status"][-1]["backend"] == "llama.cpp")


async def test_broken_downloads_and_bad_files_are_clear_errors(setup):
    await command(setup, "alpaca.models.pull", {"repo": REPO, "file": "page.gguf", "requestId": "dl2"})
    assert "not a GGUF" in (await final(setup, "dl2"))["error"]
    await command(setup, "alpaca.models.pull", {"repo": REPO, "file": "missing.gguf", "requestId": "dl3"})
    assert "no such file" in (await final(setup, "dl3"))["error"]
    page = setup.base / "notes.gguf"
    page.write_text("hello")
    with pytest.raises(Exception, match="not a GGUF"):
        await command(setup, "alpaca.models.use", {"modelPath": str(page)})


async def test_ollama_pull_then_answers_stream_through_it_with_the_secret_key(setup):
    await command(setup, "alpaca.models.ollamaPull", {"model": "mistral:latest", "requestId": "ol1"})
    done = await final(setup, "ol1")
    assert done["model"] == "mistral:latest" and done["endpoint"] == setup.ollama.url + "/v1"
    assert any(p.get("status", "").startswith("pulling") for p in progress(setup, "ol1"))
    await command(setup, "alpaca.models.use", {"ollama": "mistral:latest", "contextSize": 4096})
    await wait_until(lambda: (setup.alpaca["alpaca/status"] or [{}])[-1].get("backend") == "openai")
    await wait_ready(setup)
    started = await command(setup, "alpaca.ask", {"question": "How do I scale an async endpoint to zero?"})
    answer = (await wait_until(lambda: [a for a in setup.alpaca["alpaca/answer"]
                                        if a["requestId"] == started["requestId"] and a["kind"] == "final"], 60))[0]
    assert answer["backend"] == "endpoint" and "MinCapacity" in (answer.get("withheld") or answer["answer"]) and "error" not in answer
    assert setup.ollama.auth[-1] == f"Bearer {SECRET}"
    shown = json.dumps([await command(setup, "alpaca.status"), await command(setup, "alpaca.models.status"),
                        setup.alpaca["alpaca/status"], answer, [m.message for m in setup.log_messages],
                        [m.message for m in setup.messages]], default=str)
    assert SECRET not in shown and SECRET not in (setup.base / "config.json").read_text()
