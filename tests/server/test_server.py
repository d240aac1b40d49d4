"""End to end over stdio: one real server and a real LanceDB index of a few sample pages for the
whole module (model loading is the expensive part)."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.server.conftest import DOCS, SERVER, command, copy_docs, init_params, paths, wait_ready, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


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


async def test_initialize_reaches_ready_with_counts_and_progress(client: LanguageClient):
    status = await wait_ready(client)
    print(f"\nready after {time.monotonic() - client.started:.1f}s (includes model load)")
    assert status["docs"] == len(DOCS)
    assert status["chunks"] >= len(DOCS)
    assert status["roots"] == [str(client.docs)]  # default: the workspace's docs/ folder
    assert status["index_path"] == str(client.workspace / ".alpaca")
    assert status["backend"] == "none" and status["egress"].startswith("none")
    assert status["last_sync"] and status["pending"] == 0 and status["percent"] == 100
    states = [s["state"] for s in client.alpaca["alpaca/status"]]
    assert "indexing" in states and states[-1] == "ready"
    # $/progress is a notification stream of its own: the closing `end` may trail the status reply
    kinds = await wait_until(lambda: (k := [v.kind for reports in client.progress_reports.values() for v in reports])
                             and k[-1] == "end" and k, timeout=10)
    assert kinds[0] == "begin" and "report" in kinds


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


async def test_ask_streams_partials_then_final_with_sources(client: LanguageClient):
    await wait_ready(client)
    started = await command(client, "alpaca.ask", {"question": "How do I scale an async endpoint to zero?",
                                                    "requestId": "q1"})
    assert started == {"requestId": "q1"}
    final = await wait_until(lambda: [m for m in client.alpaca["alpaca/answer"]
                                      if m["requestId"] == "q1" and m["kind"] == "final"], timeout=60)
    msgs = [m for m in client.alpaca["alpaca/answer"] if m["requestId"] == "q1"]
    assert [m["kind"] for m in msgs[:2]] == ["sources", "partial"] and msgs[-1]["kind"] == "final"
    assert msgs[0]["sources"] and msgs[0]["bestPassage"]["quote"] and msgs[0]["bestPassage"]["uri"].startswith("file:")
    final = final[0]
    assert final["answer"] and final["sources"] and "error" not in final
    assert final["sources"][0]["n"] == 1
    assert {"title", "heading_path", "path", "uri", "anchor", "start_line", "end_line", "mtime"} <= set(final["sources"][0])
    assert "async-inference-autoscale.md" in paths(final["sources"])
    assert final["noModel"] is True and final["backend"] in ("none", "extractive")
    assert isinstance(final["timings"], dict) and final["verdict"] == "passages quoted (no model)"


async def test_cancel_stops_an_answer(client: LanguageClient):
    await wait_ready(client)
    await command(client, "alpaca.ask", {"question": "What are production variants?", "requestId": "q2"})
    result = await command(client, "alpaca.cancel", {"requestId": "q2"})
    final = await wait_until(lambda: [m for m in client.alpaca["alpaca/answer"]
                                      if m["requestId"] == "q2" and m["kind"] == "final"], timeout=60)
    # the extractive answer may have finished before the cancel arrived; either way it ends cleanly
    assert result["cancelled"] in (True, False)
    if result["cancelled"]:
        assert final[0].get("cancelled") is True
    assert (await command(client, "alpaca.cancel", {"requestId": "nope"}))["cancelled"] is False


async def _search_until(client, query, predicate, timeout=10.0):
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        result = await command(client, "alpaca.search", {"query": query, "k": 3})
        if predicate(result["results"]):
            return time.perf_counter() - t
        await asyncio.sleep(0.05)
    raise AssertionError(f"search for {query!r} did not change within {timeout}s")


async def test_watcher_edit_and_delete(client: LanguageClient):
    await wait_ready(client)
    new = client.docs / "zebra-tuning.md"
    new.write_text("# Zebra tuning\n\nThe quokkafrobnicator flag tunes zebra inference latency.\n")
    took = await _search_until(client, "quokkafrobnicator", lambda r: r and r[0]["path"] == "zebra-tuning.md")
    print(f"\nwatcher: new file searchable after {took * 1000:.0f} ms")
    assert took < 5

    page = client.docs / "regions-quotas.md"
    page.write_text(page.read_text() + "\n\n## Flamingo limits\n\nThe xylophonequota applies per account.\n")
    took = await _search_until(client, "xylophonequota", lambda r: r and r[0]["path"] == "regions-quotas.md")
    print(f"watcher: edit searchable after {took * 1000:.0f} ms")

    new.unlink()
    took = await _search_until(client, "quokkafrobnicator", lambda r: "zebra-tuning.md" not in paths(r))
    print(f"delete gone from results after {took * 1000:.0f} ms")
    status = await wait_until(lambda: _status_files(client, len(DOCS)), timeout=10)
    assert status
    # searchable while syncing: a burst of edits, searches keep answering
    for i in range(20):
        page.write_text(page.read_text() + f"\nburst line {i}\n")
    result = await command(client, "alpaca.search", {"query": "xylophonequota"})
    assert result["results"][0]["path"] == "regions-quotas.md"


def _status_files(client, n):
    s = client.alpaca["alpaca/status"]
    return s and s[-1]["state"] == "ready" and s[-1]["docs"] == n


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
