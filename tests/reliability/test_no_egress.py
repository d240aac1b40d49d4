"""Nothing leaves the machine: index, search, ask (no model and llama.cpp) and a whole language
server session run with every non-loopback connection and name lookup failing loudly and recorded
(Python socket guard), inside a network namespace with no route out when the OS allows one (which
also cuts native code off), and with the model-hub offline switches removed from the environment."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import REPO
from tests.server.conftest import command, copy_docs, make_client, open_session, paths, wait_ready, wait_until

HERE = Path(__file__).resolve().parent
OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY",
                    "DO_NOT_TRACK", "ANONYMIZED_TELEMETRY", "LANCE_TELEMETRY")


def _no_network_prefix() -> list[str]:
    """`unshare -n` (a namespace with only loopback) when permitted here, else nothing."""
    if not shutil.which("unshare"):
        return []
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return ["unshare", "-n"] if probe.returncode == 0 else []


NO_NETWORK = _no_network_prefix()


def guarded_env(log: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_SWITCHES}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE / "guard_site"), str(REPO)])
    env["ALPACA_EGRESS_LOG"] = str(log)
    return env


def guard_record(log: Path) -> tuple[list[str], list[str]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [x for x in lines if x.startswith("installed")], [x for x in lines if x.startswith("blocked")]


@pytest.mark.parametrize("code,expected", [
    ("import urllib.request; urllib.request.urlopen('http://93.184.216.34/', timeout=3)", "blocked lookup 93.184.216.34"),
    ("import socket; socket.getaddrinfo('huggingface.co', 443)", "blocked lookup huggingface.co"),
    ("import socket; socket.socket().connect_ex(('8.8.8.8', 53))", "blocked connect 8.8.8.8:53"),
])
def test_the_guard_blocks_and_records_outbound_attempts(tmp_path, code, expected):
    log = tmp_path / "egress.log"
    # the caller swallows the error: the record must still show the attempt
    wrapped = f"try:\n    {code}\nexcept OSError as e:\n    print(type(e).__name__)"
    proc = subprocess.run([sys.executable, "-c", wrapped], env=guarded_env(log), capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip() in ("EgressBlocked", "URLError"), proc.stderr  # urllib wraps it
    installed, blocked = guard_record(log)
    assert installed and blocked[:1] == [expected]


def test_loopback_still_works_under_the_guard(tmp_path):
    log = tmp_path / "egress.log"
    code = ("import socket, threading; s = socket.create_server(('127.0.0.1', 0)); "
            "threading.Thread(target=lambda: s.accept()[0].sendall(b'ok'), daemon=True).start(); "
            "c = socket.create_connection(s.getsockname()); print(c.recv(2).decode())")
    proc = subprocess.run([sys.executable, "-c", code], env=guarded_env(log), capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr
    assert guard_record(log)[1] == []


def test_index_search_and_ask_send_nothing(tmp_path, docs_dir):
    log = tmp_path / "egress.log"
    cmd = [*NO_NETWORK, sys.executable, str(HERE / "offline_session.py"), str(docs_dir), str(tmp_path / "db")]
    proc = subprocess.run(cmd, env=guarded_env(log), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    installed, blocked = guard_record(log)
    assert installed and blocked == [], blocked
    # the user's environment had no offline switches; the app set them itself
    assert summary["switches_before"] is None
    assert set(summary["switches_after"].values()) == {"1"}
    assert summary["chunks"] > 0 and summary["search"][0] == "async-inference-autoscale.md"
    assert summary["related"] and summary["no_model"] == {"backend": "none", "sources": summary["no_model"]["sources"]}
    assert summary["no_model"]["sources"] > 0
    if summary["llama"] is not None:
        assert summary["llama"]["backend"] == "llama.cpp" and summary["llama"]["text"], summary["llama"]


SERVER_LOG = Path(tempfile.mkdtemp(prefix="alpaca-egress-")) / "server-egress.log"
GUARDED_SERVER = ClientServerConfig(server_command=[*NO_NETWORK, sys.executable, "-m", "alpaca_server"],
                                    client_factory=make_client, server_env=guarded_env(SERVER_LOG))


@pytest_lsp.fixture(config=GUARDED_SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    base = tmp_path_factory.mktemp("egress")
    await open_session(lsp_client, base, copy_docs(base / "docs"), debounceMs=50)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_language_server_session_sends_nothing(client: LanguageClient):
    status = await wait_ready(client)
    assert status["egress"].startswith("none") and status["index_path"]
    found = await command(client, "alpaca.search", {"query": "scale an async endpoint to zero"})
    assert paths(found["results"])[0] == "async-inference-autoscale.md"
    doc = client.docs / "key-management.md"
    related = await command(client, "alpaca.related", {"uri": doc.as_uri()})
    assert related["results"] and doc.name not in paths(related["results"])
    text = doc.read_text()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=doc.as_uri(), language_id="markdown", version=1, text=text)))
    line = text.splitlines()[2]
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=doc.as_uri()),
        position=types.Position(line=2, character=max(line.find("KMS"), 0) + 1)))
    await command(client, "alpaca.ask", {"question": "How do I encrypt a notebook volume with KMS?", "requestId": "e1"})
    final = await wait_until(lambda: [m for m in client.alpaca["alpaca/answer"]
                                      if m["requestId"] == "e1" and m["kind"] == "final"], timeout=60)
    assert final[0]["sources"] and "error" not in final[0]
    doc.write_text(text + "\n\nThe quokkavault rotation happens nightly.\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=doc.as_uri())))

    async def searchable():
        return "key-management.md" in paths((await command(client, "alpaca.search", {"query": "quokkavault"}))["results"])

    for _ in range(100):
        if await searchable():
            break
        await asyncio.sleep(0.1)
    assert await searchable()
    installed, blocked = guard_record(SERVER_LOG)
    assert installed, "the guard was not active in the server process"
    assert blocked == [], blocked
