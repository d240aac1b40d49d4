"""Hover: related docs for the symbol under the cursor as markdown links; no hover on noise.

A real server over stdio for this file (tests/server/features/conftest.py)."""

from __future__ import annotations

import time

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.conftest import wait_ready

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_hover_shows_related_docs_as_markdown_links(client: LanguageClient):
    await wait_ready(client)
    code = client.workspace / "kms.py"
    text = "client.create_model(\n    KmsKeyId=key_id,\n)\n"
    code.write_text(text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=code.as_uri(), language_id="python", version=1, text=text)))
    t = time.perf_counter()
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=code.as_uri()), position=types.Position(line=1, character=6)))
    first_ms = (time.perf_counter() - t) * 1000
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    value = hover.contents.value
    assert "KmsKeyId" in value
    target = (client.docs / "serverless-endpoints-create.md").as_uri()
    assert f"]({target}#L" in value
    assert hover.range.start.character == 4 and hover.range.end.character == 12
    t = time.perf_counter()
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=code.as_uri()), position=types.Position(line=1, character=7)))
    print(f"\nhover first {first_ms:.0f} ms, cached {(time.perf_counter() - t) * 1000:.0f} ms")
    # noise: a keyword gives no hover
    none = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=code.as_uri()), position=types.Position(line=2, character=0)))
    assert none is None

    # markdown docs too: the page itself is not offered
    doc = client.docs / "key-management.md"
    line = doc.read_text().splitlines()[2]
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=doc.as_uri(), language_id="markdown", version=1, text=doc.read_text())))
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=doc.as_uri()),
        position=types.Position(line=2, character=line.index("KMS") + 1)))
    assert hover is not None and "`KMS`" in hover.contents.value
    assert doc.as_uri() not in hover.contents.value and "](file://" in hover.contents.value
