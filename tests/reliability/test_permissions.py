"""The index and the server's log are the user's alone, and the log does not quote the docs."""

from __future__ import annotations

import stat
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig, LanguageClient

from alpaca_index.api import DocsIndex
from tests.server.conftest import command, copy_docs, make_client, open_session, paths, wait_ready, wait_until

SECRET = "The zephyrquill ledger rotates its signing material every ninth moonrise inside the vault."
LOG = Path(tempfile.mkdtemp(prefix="alpaca-log-")) / "server.log"
LOGGING_SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "alpaca_server", "--log-file", str(LOG)],
                                    client_factory=make_client)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_index_directory_is_user_only_even_if_it_existed(tmp_path, embedder, docs_dir):
    db = tmp_path / "shared-looking"
    db.mkdir(mode=0o755)
    db.chmod(0o755)
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    assert mode(db) == 0o700
    assert any(db.iterdir())


@pytest_lsp.fixture(config=LOGGING_SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    base = tmp_path_factory.mktemp("logging")
    docs = copy_docs(base / "docs", ["key-management.md", "model-ab-testing.md"])
    (docs / "vault.md").write_text(f"# Vault rotation\n\n{SECRET}\n")
    await open_session(lsp_client, base, docs, watch=False)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
async def test_server_log_is_user_only_and_quotes_no_document_text(client: LanguageClient):
    status = await wait_ready(client)
    assert mode(Path(status["index_path"])) == 0o700
    found = await command(client, "alpaca.search", {"query": "zephyrquill ledger"})
    assert paths(found["results"])[0] == "vault.md"
    await command(client, "alpaca.ask", {"question": "How often does the zephyrquill ledger rotate?", "requestId": "s"})
    final = await wait_until(lambda: [m for m in client.alpaca["alpaca/answer"]
                                      if m["requestId"] == "s" and m["kind"] == "final"], timeout=60)
    assert "zephyrquill" in final[0]["answer"]  # the answer quotes the page to the user...
    uri = (client.docs / "vault.md").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="markdown", version=1, text=(client.docs / "vault.md").read_text())))
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=6)))
    with pytest.raises(JsonRpcInvalidParams):  # an error path writes to the log too
        await command(client, "alpaca.search", {"query": 42})
    log = LOG.read_text()
    assert "sync:" in log  # ...the log is written...
    assert mode(LOG) == 0o600
    assert "signing material" not in log and "ninth moonrise" not in log  # ...but never quotes the docs
