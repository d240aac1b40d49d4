"""One real server over stdio per feature file, on a real LanceDB index of a few sample pages (the
embedding model is loaded once per file: the expensive part)."""

from __future__ import annotations

import time

import pytest_lsp
from pytest_lsp import LanguageClient

from tests.server.conftest import SERVER, copy_docs, init_params


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("ws")
    docs = copy_docs(workspace / "docs")
    lsp_client.docs = docs
    lsp_client.workspace = workspace
    lsp_client.started = time.monotonic()
    await lsp_client.initialize_session(init_params(workspace, {"alpaca": {"debounceMs": 100}}))
    yield
    await lsp_client.shutdown_session()
