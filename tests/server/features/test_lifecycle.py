"""initialize → ready with counts and `$/progress`; the watcher keeps the index fresh (new file, edit,
delete, a burst of edits) while searches keep answering.

A real server over stdio for this file (tests/server/features/conftest.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from pytest_lsp import LanguageClient

from tests.server.conftest import DOCS, command, paths, wait_ready, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


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
