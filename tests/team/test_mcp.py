"""`alpaca mcp` end to end with the official MCP Python SDK's stdio client."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from tests.team.conftest import team_env

mcp = pytest.importorskip("mcp", reason="needs the mcp package")
from mcp import StdioServerParameters  # noqa: E402
from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402


def payload(result) -> dict:
    assert not getattr(result, "is_error", getattr(result, "isError", False)), result.content
    return json.loads(result.content[0].text)


async def session_run(params: StdioServerParameters, docs_root: str) -> dict:
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            out["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
            out["search"] = payload(await session.call_tool(
                "search_docs", {"query": "traffic split between production variants", "k": 3}))
            out["related"] = payload(await session.call_tool(
                "related_docs", {"path": f"{docs_root}/model-ab-testing.md", "k": 3}))
            out["status"] = payload(await session.call_tool("index_status", {}))
            out["ask"] = payload(await session.call_tool(
                "ask_docs", {"question": "How do I scale an asynchronous inference endpoint down to zero instances?"}))
            empty = await session.call_tool("search_docs", {"query": "   "})
            out["empty_is_error"] = bool(getattr(empty, "is_error", getattr(empty, "isError", False)))
    return out


def test_mcp_tools_end_to_end(moto, shared, tmp_path):
    docs_root = str(shared["docs"])  # as a developer's local checkout of the docs the CI indexed
    env = team_env(moto, tmp_path / "cache")
    params = StdioServerParameters(command=sys.executable,
                                   args=["-c", "from alpaca_index.cli import main; main()", "mcp",
                                         "--db", shared["uri"], "--docs-root", docs_root], env=env)
    out = asyncio.run(asyncio.wait_for(session_run(params, docs_root), 240))

    assert out["tools"] == ["ask_docs", "index_status", "related_docs", "search_docs"]
    top = out["search"]["results"][0]
    assert top["path"] == "model-ab-testing.md" and top["heading_path"].startswith("Production variants")
    assert top["link"] == f"file://{docs_root}/model-ab-testing.md#L{top['start_line']}"
    assert top["end_line"] >= top["start_line"] >= 1

    related = [r["path"] for r in out["related"]["results"]]
    assert related and "model-ab-testing.md" not in related
    assert all(r["link"].startswith(f"file://{docs_root}/") for r in out["related"]["results"])

    status = out["status"]
    assert status["db"] == shared["uri"] and status["files"] == 4 and isinstance(status["version"], int)
    assert status["cache"]["online"] is True

    ask = out["ask"]
    assert ask["answer"] and ask["sources"]
    assert ask["sources"][0]["path"] == "async-inference-autoscale.md"
    assert all("#L" in s["link"] and s["heading_path"] for s in ask["sources"])
    assert out["empty_is_error"]
