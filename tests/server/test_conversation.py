"""A conversation through `alpaca.ask` on a real server over stdio: a follow-up with the thread as
`history` is searched with its context; selected text as `context`; bad shapes are errors."""

from __future__ import annotations

import pytest
import pytest_lsp
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.server.conftest import SERVER, command, copy_docs, init_params, paths, wait_ready, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")
DOCS = ["async-inference.md", "async-inference-create-endpoint.md", "async-inference-monitor.md",
        "async-inference-autoscale.md", "model-monitor.md", "deploy-model.md", "serverless-endpoints.md",
        "serverless-endpoints-invoke.md"]


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("ws")
    copy_docs(workspace / "docs", DOCS)
    await lsp_client.initialize_session(init_params(workspace, {"alpaca": {"debounceMs": 100}}))
    yield
    await lsp_client.shutdown_session()


async def ask(client: LanguageClient, request_id: str, **params) -> dict:
    started = await command(client, "alpaca.ask", {"requestId": request_id, **params})
    assert started == {"requestId": request_id}
    finals = await wait_until(lambda: [m for m in client.alpaca["alpaca/answer"]
                                       if m["requestId"] == request_id and m["kind"] == "final"], timeout=90)
    return finals[0]


async def test_follow_up_with_history_is_searched_with_its_context(client: LanguageClient):
    await wait_ready(client, timeout=600)  # a loaded machine: the embedding model takes a while
    first = await ask(client, "c1", question="How do I create an asynchronous inference endpoint?",
                      conversationId="conv-1")
    assert first["conversationId"] == "conv-1" and first["query"] is None and first["rewrittenBy"] is None
    alone = await ask(client, "c2", question="how do I monitor it?")
    history = [{"question": "How do I create an asynchronous inference endpoint?", "answer": first["answer"]}]
    follow_up = await ask(client, "c3", question="how do I monitor it?", conversationId="conv-1", history=history)
    assert "error" not in follow_up, follow_up
    assert follow_up["rewrittenBy"] == "rule" and "asynchronous" in follow_up["query"]
    assert paths(follow_up["sources"])[0] == "async-inference-monitor.md", follow_up["query"]
    assert paths(alone["sources"])[0] != "async-inference-monitor.md"  # the same words without the thread
    assert follow_up["conversationId"] == "conv-1" and follow_up["sources"][0]["uri"].startswith("file://")


async def test_selected_text_is_context(client: LanguageClient):
    await wait_ready(client, timeout=600)  # a loaded machine: the embedding model takes a while
    final = await ask(client, "c4", question="What does this do?",
                      context="ServerlessConfig: MemorySizeInMB: 2048 MaxConcurrency: 5")
    assert "ServerlessConfig" in final["query"] and "MemorySizeInMB" in final["query"]
    assert any(p.startswith("serverless-endpoints") for p in paths(final["sources"])), paths(final["sources"])


@pytest.mark.parametrize("params", [{"history": "not a list"}, {"history": [{"answer": "no question"}]},
                                    {"context": 42}, {"conversationId": {"x": 1}}])
async def test_bad_conversation_params_are_errors(client: LanguageClient, params):
    with pytest.raises(JsonRpcInvalidParams):
        await command(client, "alpaca.ask", {"question": "What is async inference?", **params})
