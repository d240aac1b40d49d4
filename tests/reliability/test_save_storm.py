"""1,000 saves across 50 files in about 10 s, with the watcher on and didSave sent for each, while
questions and searches keep arriving: no crash, every question answered, syncs coalesced, and the
index ends with exactly each file's last content."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.server.conftest import SERVER, command, open_session, wait_ready

FILES, SAVES, SECONDS = 50, 1000, 10.0
TOPICS = ["endpoint autoscaling", "model registry", "batch transform", "feature store", "data labeling"]


def page(i: int, version: int) -> str:
    return (f"# Storm page {i}\n\nThis page is about {TOPICS[i % len(TOPICS)]}.\n\n"
            f"## Revision\n\nThe current marker is tern{i}rev{version} and nothing else.\n")


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    base = tmp_path_factory.mktemp("storm")
    docs = base / "docs"
    docs.mkdir()
    for i in range(FILES):
        (docs / f"page{i:02d}.md").write_text(page(i, 0))
    await open_session(lsp_client, base, docs, debounceMs=200)
    yield
    await lsp_client.shutdown_session()


async def _ask_while(client, stop: asyncio.Event) -> list[dict]:
    answers = []
    n = 0
    while not stop.is_set():
        n += 1
        request = f"storm-{n}"
        await command(client, "alpaca.ask", {"question": "How does endpoint autoscaling work?", "requestId": request})
        found = await command(client, "alpaca.search", {"query": "model registry"})
        assert found["results"]
        while not [m for m in client.alpaca["alpaca/answer"] if m["requestId"] == request and m["kind"] == "final"]:
            await asyncio.sleep(0.05)
        answers.append(next(m for m in client.alpaca["alpaca/answer"]
                            if m["requestId"] == request and m["kind"] == "final"))
        await asyncio.sleep(0.2)
    return answers


@pytest.mark.timeout(240)
@pytest.mark.asyncio(loop_scope="module")
async def test_a_thousand_saves_while_asking(client: LanguageClient):
    await wait_ready(client)
    passes_before = sum(1 for s in client.alpaca["alpaca/status"] if s["state"] == "indexing")
    stop = asyncio.Event()
    asker = asyncio.create_task(_ask_while(client, stop))
    last = {}
    started = time.perf_counter()
    for n in range(SAVES):
        i, version = n % FILES, n // FILES + 1
        path = client.docs / f"page{i:02d}.md"
        path.write_text(page(i, version))
        last[i] = version
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())))
        await asyncio.sleep(max(0.0, started + SECONDS * (n + 1) / SAVES - time.perf_counter()))
    storm_s = time.perf_counter() - started
    stop.set()
    answers = await asyncio.wait_for(asker, 60)
    assert storm_s < SECONDS * 1.5
    assert answers and all(a["sources"] and "error" not in a for a in answers)

    status = await wait_ready(client, timeout=120, settled=True)
    assert status["docs"] == FILES
    passes = sum(1 for s in client.alpaca["alpaca/status"] if s["state"] == "indexing") - passes_before
    print(f"\n{SAVES} saves in {storm_s:.1f} s → {passes} sync passes, {len(answers)} questions answered meanwhile")
    assert passes < SAVES / 10, "saves were not coalesced"
    for i, version in last.items():
        found = await command(client, "alpaca.search", {"query": f"tern{i}rev{version}", "k": 1})
        top = found["results"][0]
        assert top["path"] == f"page{i:02d}.md" and f"tern{i}rev{version}" in top["snippet"], (i, top)
