"""alpaca.ask streams sources, partials and a final answer; alpaca.cancel stops one.

A real server over stdio for this file (tests/server/features/conftest.py)."""

from __future__ import annotations

import pytest
from pytest_lsp import LanguageClient

from tests.server.conftest import command, paths, wait_ready, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


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
