"""alpaca.search, alpaca.status, alpaca.reindex; bad params are JSON-RPC errors, not crashes.

A real server over stdio for this file (tests/server/features/conftest.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.server.conftest import command, wait_ready

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_search_finds_the_right_page(client: LanguageClient):
    await wait_ready(client)
    result = await command(client, "alpaca.search", {"query": "scale an asynchronous endpoint down to zero instances"})
    top = result["results"][0]
    assert top["path"] == "async-inference-autoscale.md"
    assert top["uri"] == (client.docs / "async-inference-autoscale.md").as_uri()
    assert top["start_line"] >= 1 and top["snippet"] and top["heading_path"]
    assert len(result["results"]) <= 5


async def test_search_latency_while_idle(client: LanguageClient):
    await wait_ready(client)
    times = []
    for q in ["KMS key for ECR image", "A/B testing production variants", "serverless memory size"] * 3:
        t = time.perf_counter()
        await command(client, "alpaca.search", {"query": q, "k": 3})
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"\nsearch round trip p50 {times[len(times) // 2]:.0f} ms, max {times[-1]:.0f} ms")
    assert times[len(times) // 2] < 1000


async def test_bad_params_are_errors_not_crashes(client: LanguageClient):
    await wait_ready(client)
    for name, arg in [("alpaca.search", {"query": "  "}), ("alpaca.search", {"query": "x", "k": 0}),
                      ("alpaca.related", {}), ("alpaca.ask", {"question": 3}), ("alpaca.search", 42),
                      ("alpaca.related", {"uri": "file:///nonexistent/file.md"})]:
        with pytest.raises(JsonRpcInvalidParams):
            await command(client, name, arg)
    assert (await command(client, "alpaca.status"))["state"] == "ready"


async def test_reindex_reads_files_a_save_trusts_unchanged(client: LanguageClient):
    """A pass after a save skips files whose size and mtime match the index (like git); Reindex
    reads them all, so a same-size rewrite that kept its old mtime is found only then."""
    import os

    await wait_ready(client, settled=True)
    page = client.docs / "inference-pipelines.md"
    old = time.time() - 3600
    os.utime(page, (old, old))
    await command(client, "alpaca.reindex", {"wait": True})  # records the old mtime as trustworthy
    text = page.read_text()
    first = text.index("\n") + 1
    word = "wombatwidget"
    line_end = text.index("\n", first + len(word) + 1)
    rewritten = text[:first] + (word + " " + text[first:line_end])[: line_end - first] + text[line_end:]
    assert len(rewritten.encode()) == len(text.encode()) and rewritten != text
    page.write_text(rewritten)
    os.utime(page, (old, old))
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=page.as_uri())))
    await asyncio.sleep(0.5)
    await wait_ready(client, settled=True)
    found = await command(client, "alpaca.search", {"query": word, "k": 3})
    assert not any(word in r["snippet"] for r in found["results"]), "size+mtime unchanged: not re-read"
    status = await command(client, "alpaca.reindex", {"wait": True})
    assert status["last_report"]["modified"] == ["inference-pipelines.md"]
    found = await command(client, "alpaca.search", {"query": word, "k": 3})
    assert found["results"][0]["path"] == "inference-pipelines.md" and word in found["results"][0]["snippet"]
