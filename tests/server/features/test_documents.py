"""Related reading: alpaca.related, and alpaca/related pushed for the active document (didOpen,
alpaca/activeDocument).

A real server over stdio for this file (tests/server/features/conftest.py)."""

from __future__ import annotations

import time

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.conftest import command, paths, wait_ready, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_related_excludes_the_file_itself(client: LanguageClient):
    await wait_ready(client)
    uri = (client.docs / "async-inference-autoscale.md").as_uri()
    result = await command(client, "alpaca.related", {"uri": uri, "k": 3})
    assert result["results"] and "async-inference-autoscale.md" not in paths(result["results"])
    assert "async-inference.md" in paths(result["results"])
    by_text = await command(client, "alpaca.related", {"text": "encrypt ML storage volumes with a customer managed KMS key"})
    assert by_text["results"][0]["path"] in {"key-management.md", "encryption-at-rest.md"}


async def test_related_is_pushed_for_the_active_document(client: LanguageClient):
    await wait_ready(client)
    doc = client.docs / "key-management.md"
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=doc.as_uri(), language_id="markdown", version=1, text=doc.read_text())))
    pushed = await wait_until(lambda: [p for p in client.alpaca["alpaca/related"] if p["uri"] == doc.as_uri()])
    results = pushed[-1]["results"]
    assert results and "key-management.md" not in paths(results)

    code = client.workspace / "deploy.py"
    code.write_text("import boto3\nsm = boto3.client('sagemaker')\n"
                    "sm.create_endpoint_config(EndpointConfigName='ab', ProductionVariants=[\n"
                    "  {'VariantName': 'A', 'InitialVariantWeight': 0.5},\n"
                    "  {'VariantName': 'B', 'InitialVariantWeight': 0.5}])\n")
    t = time.perf_counter()
    client.protocol.notify("alpaca/activeDocument", {"uri": code.as_uri(), "line": 2, "text": code.read_text()})
    pushed = await wait_until(lambda: [p for p in client.alpaca["alpaca/related"] if p["uri"] == code.as_uri()])
    print(f"\nactiveDocument → alpaca/related {(time.perf_counter() - t) * 1000:.0f} ms")
    assert "model-ab-testing.md" in paths(pushed[-1]["results"][:3])
