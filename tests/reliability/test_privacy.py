"""Privacy beyond "no egress by default": the guard catches every outbound form, a remote model
endpoint is contacted only when allowed, status (server, CLI) says where data goes by the same rule
the answer path follows, and the server's stderr at the default level never quotes the docs."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from typer.testing import CliRunner

from alpaca_index.answer import AnswerSettings, BackendError, answer, destination, make_backend
from tests.answer.conftest import FakeChatServer
from tests.conftest import REPO
from tests.reliability.egress_guard import EgressBlocked, guarded
from tests.server.conftest import command, copy_docs, init_params, make_client, wait_ready, wait_until

QUESTION = "How do I scale an async endpoint to zero?"
REMOTE = "http://10.9.8.7:8080"  # a private address: nothing answers there, and the guard stops it first
SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK")


def guarded_env(log: Path) -> dict:
    """A child process with the guard installed (sitecustomize) and no offline switches of ours."""
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent / "guard_site"), str(REPO)])
    return dict(env, ALPACA_EGRESS_LOG=str(log))


def guard_record(log: Path) -> tuple[list[str], list[str]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [x for x in lines if x.startswith("installed")], [x for x in lines if x.startswith("blocked")]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder):
    from alpaca_index.api import DocsIndex

    base = tmp_path_factory.mktemp("privacy-index")
    index = DocsIndex(base / "db", embedder=embedder)
    index.sync([copy_docs(base / "docs", ["async-inference-autoscale.md", "model-ab-testing.md"])])
    return index


def _swallowed(call) -> bool:
    try:
        call()
    except OSError:
        return True
    return False


def test_the_guard_stops_every_outbound_form_in_process():
    with guarded() as attempts:
        assert _swallowed(lambda: socket.create_connection(("93.184.216.34", 80), timeout=2))
        assert _swallowed(lambda: socket.getaddrinfo("huggingface.co", 443))
        assert _swallowed(lambda: socket.gethostbyname("huggingface.co"))
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        assert _swallowed(lambda: udp.sendto(b"\0", ("8.8.8.8", 53)))
        udp.close()
        with pytest.raises(EgressBlocked):
            socket.socket().connect(("1.1.1.1", 443))
        server = socket.create_server(("127.0.0.1", 0))  # loopback and unix sockets still work
        socket.create_connection(server.getsockname(), timeout=2).close()
        server.close()
        left, right = socket.socketpair()
        left.sendall(b"x")
        assert right.recv(1) == b"x"
        left.close(), right.close()
    assert attempts == ["lookup 93.184.216.34", "lookup huggingface.co", "lookup huggingface.co",
                        "sendto 8.8.8.8:53", "connect 1.1.1.1:443"]
    assert socket.getaddrinfo.__module__ == "socket"  # and it is gone after the block


def test_a_remote_endpoint_is_contacted_only_when_allowed(small_index, monkeypatch):
    monkeypatch.setenv("ALPACA_ENDPOINT_REGION", "us-east-1")  # residency is satisfied: allow_remote decides
    with guarded() as attempts:
        refused = answer(small_index, QUESTION, AnswerSettings(endpoint=REMOTE))
    assert attempts == [] and refused.no_model and "allow_remote" in refused.notice and refused.sources
    with guarded() as attempts:  # allowed: the request really goes out (and the guard catches it)
        allowed = answer(small_index, QUESTION, AnswerSettings(endpoint=REMOTE, allow_remote=True))
    assert attempts == ["lookup 10.9.8.7"] and allowed.no_model and "unreachable" in allowed.notice


def _used_backend(settings: AnswerSettings) -> str:
    try:
        backend = make_backend(settings)
    except BackendError:
        return "none"
    return backend.name if backend else "none"


@pytest.mark.parametrize("model", [False, True])
@pytest.mark.parametrize("endpoint, allow", [(None, False), ("http://127.0.0.1:11434", False), (REMOTE, False),
                                             (REMOTE, True), ("http://models.localhost:8080", False),
                                             ("ftp://127.0.0.1/x", False)])
def test_status_destination_follows_the_answer_paths_rule(tmp_path, monkeypatch, model, endpoint, allow):
    from alpaca_server.settings import parse

    monkeypatch.setenv("ALPACA_ENDPOINT_REGION", "us-east-1")
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 12)  # the header is all a backend checks before loading
    settings = AnswerSettings(model_path=str(gguf) if model else None, endpoint=endpoint, allow_remote=allow)
    backend, egress = destination(settings)
    assert backend == _used_backend(settings)
    assert egress.startswith("none") != (backend == "endpoint" and endpoint == REMOTE)
    if endpoint:
        assert endpoint in egress  # the URL is always named, used or not
    server = parse({"alpaca": {"modelPath": str(gguf) if model else "", "endpointUrl": endpoint or "",
                               "allowRemote": allow}})
    assert (server.backend, server.egress) == ({"endpoint": "openai"}.get(backend, backend), egress)


def test_cli_status_shows_the_index_and_where_answers_go(small_index, monkeypatch):
    from alpaca_index import cli

    monkeypatch.setattr(cli, "open_db", lambda db, write=False: small_index)  # no second model load
    for name in ("ALPACA_MODEL", "ALPACA_ENDPOINT", "ALPACA_ALLOW_REMOTE"):
        monkeypatch.delenv(name, raising=False)

    def status() -> dict:
        out = CliRunner().invoke(cli.app, ["status", "--json", "--db", small_index.db])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    local = status()
    assert local["db"] == small_index.db and local["backend"] == "none" and local["egress"].startswith("none")
    monkeypatch.setenv("ALPACA_ENDPOINT", REMOTE)
    assert status()["egress"] == f"none (remote endpoint {REMOTE} blocked: allow_remote is off)"
    monkeypatch.setenv("ALPACA_ALLOW_REMOTE", "1")
    remote = status()
    assert remote["backend"] == "endpoint" and remote["egress"] == f"questions and passages are sent to {REMOTE}"


# -- one guarded language server: default log level, stderr kept, a loopback model server ----------------
SECRET = "The obsidianfinch archive keeps every merger memo behind three rotating passphrases."
WORK = Path(tempfile.mkdtemp(prefix="alpaca-privacy-"))
STDERR, EGRESS = WORK / "stderr.log", WORK / "egress.log"
ENV = dict(guarded_env(EGRESS), ALPACA_ENDPOINT_REGION="us-east-1")
PRIVATE_SERVER = ClientServerConfig(
    server_command=["sh", "-c", 'exec "$0" -m alpaca_server 2>"$1"', sys.executable, str(STDERR)],
    client_factory=make_client, server_env=ENV)


@pytest.fixture(scope="module")
def model_server():
    server = FakeChatServer()
    yield server
    server.close()


@pytest_lsp.fixture(config=PRIVATE_SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory, model_server):
    base = tmp_path_factory.mktemp("private")
    docs = copy_docs(base / "docs", ["key-management.md", "model-ab-testing.md"])
    (docs / "archive.md").write_text(f"# Merger archive\n\n{SECRET}\n")
    lsp_client.base, lsp_client.model_server = base, model_server
    options = {"alpaca": {"docsPaths": [str(docs)], "indexPath": str(base / "index"), "watch": False,
                          "endpointUrl": model_server.url}}
    await lsp_client.initialize_session(init_params(base, options))
    yield
    await lsp_client.shutdown_session()


async def _ask(client: LanguageClient, question: str, request_id: str) -> dict:
    await command(client, "alpaca.ask", {"question": question, "requestId": request_id})
    finals = await wait_until(lambda: [m for m in client.alpaca["alpaca/answer"]
                                       if m["requestId"] == request_id and m["kind"] == "final"], timeout=90)
    return finals[0]


async def _configure(client: LanguageClient, **alpaca) -> dict:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"alpaca": alpaca}))
    return await wait_until(lambda: (s := client.alpaca["alpaca/status"]) and s[-1]["egress"] != client.last_egress
                            and s[-1], timeout=30)


@pytest.mark.asyncio(loop_scope="module")
async def test_server_status_names_every_destination_and_stderr_never_quotes_the_docs(client: LanguageClient):
    status = await wait_ready(client)
    index = Path(status["index_path"])
    assert index == (client.base / "index").resolve() and stat.S_IMODE(index.stat().st_mode) == 0o700
    assert status["backend"] == "openai" and status["egress"] == f"none (model server on this machine: " \
                                                                  f"{client.model_server.url})"
    client.model_server.reply = ["Three rotating passphrases guard it ", "[1]."]
    final = await _ask(client, "What guards the obsidianfinch merger memos?", "local")
    assert final["backend"] == "endpoint" and final["sources"][0]["path"] == "archive.md"
    assert SECRET in client.model_server.prompts[-1]  # the page went to the loopback model server...

    client.last_egress = status["egress"]  # a model file and a remote endpoint: the endpoint is what answers
    gguf = client.base / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 12)
    status = await _configure(client, modelPath=str(gguf), endpointUrl=REMOTE)
    assert (status["backend"], status["egress"]) == ("none", f"none (remote endpoint {REMOTE} blocked: "
                                                             "allow_remote is off)")
    blocked = await _ask(client, "What guards the obsidianfinch merger memos?", "blocked")
    assert blocked["noModel"] and "allow_remote" in blocked["notice"]
    assert guard_record(EGRESS)[1] == []  # ...and nothing else was even tried

    client.last_egress = status["egress"]
    status = await _configure(client, allowRemote=True)
    assert (status["backend"], status["egress"]) == ("openai", f"questions and passages are sent to {REMOTE}")
    sent = await _ask(client, "What guards the obsidianfinch merger memos?", "remote")
    installed, attempts = guard_record(EGRESS)
    assert installed and attempts == ["blocked lookup 10.9.8.7"]  # allowed, it really goes out (guard stops it)
    assert sent["noModel"] and "unreachable" in sent["notice"]

    err = STDERR.read_text()
    assert "10.9.8.7" in err  # the default level logs (the remote-endpoint warning)...
    for fragment in ("obsidianfinch archive", "merger memo behind", "rotating passphrases"):
        assert fragment not in err  # ...but never the page's text
