"""alpaca.tune / alpaca.tuneCancel: adapt search to the docs from the editor, with progress; saves made
meanwhile are synced after it with the tuned model; revert goes back; a stopped run leaves the packaged
model and vectors in use; a shared index is refused.

A real server over stdio for this file (tests/server/features/conftest.py), tiny settings (48 pairs)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.server.conftest import command, wait_ready, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRESS = "alpaca/tuneProgress"
TUNE_TIMEOUT = 150.0
NEW_PAGE = "okapi-tuning.md"
NEW_WORD = "okapifrobnicator"


def messages(client: LanguageClient, request_id: str) -> list[dict]:
    return [m for m in client.alpaca[PROGRESS] if m["requestId"] == request_id]


def final(client: LanguageClient, request_id: str) -> dict | None:
    return next((m for m in messages(client, request_id) if m["kind"] == "final"), None)


def stages(client: LanguageClient, request_id: str) -> list[str]:
    seen = [m["stage"] for m in messages(client, request_id) if m["kind"] == "progress"]
    return [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]


async def test_tune_adapts_search_and_syncs_saves_made_meanwhile_with_the_new_model(client: LanguageClient):
    from alpaca_index.embedding import DEFAULT_MODEL

    before = await wait_ready(client, settled=True)
    assert before["model"] == DEFAULT_MODEL and before["model_info"] == {"tuned": False}
    assert before["suggest_tune"] is False  # the sample docs are too few to be worth the half hour

    assert await command(client, "alpaca.tune", {"maxPairs": 48, "requestId": "t1"}) == {"requestId": "t1"}
    with pytest.raises(JsonRpcInvalidParams, match="already being adapted"):
        await command(client, "alpaca.tune", {"maxPairs": 48})
    await wait_until(lambda: "train" in stages(client, "t1"), timeout=TUNE_TIMEOUT)
    # a save while the tuner works: it waits for the tune (no pass may run while it switches models)
    page = client.docs / NEW_PAGE
    page.write_text(f"# Okapi tuning\n\nThe {NEW_WORD} setting adapts okapi inference to these pages.\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=page.as_uri())))
    queued = False
    while not final(client, "t1") and not queued:
        queued = (await command(client, "alpaca.status"))["pending"] >= 1
        await asyncio.sleep(0.05)
    assert queued, "the save was never seen pending while the tune ran"

    done = await wait_until(lambda: final(client, "t1"), timeout=TUNE_TIMEOUT)
    assert "error" not in done and "cancelled" not in done, done
    report = done["report"]
    assert report["pairs"] > 0 and report["steps"] == report["planned_steps"] >= 2
    assert report["model"].startswith("tuned/") and report["chunks"] >= before["chunks"]
    assert stages(client, "t1") == ["queued", "prepare", "train", "embed", "commit"]
    train = [m for m in messages(client, "t1") if m.get("stage") == "train"]
    assert train[-1]["done"] == train[-1]["total"] == report["steps"] and "loss" in train[-1]["message"]

    # the final message comes after the reopen: status and search already use the tuned model
    status = await command(client, "alpaca.status")
    assert status["model"] == report["model"] and status["model_info"]["tuned"]
    assert status["model_info"]["pairs"] == report["pairs"]
    hits = (await command(client, "alpaca.search", {"query": "scale an asynchronous endpoint down to zero instances"}))
    assert any("async" in h["path"] for h in hits["results"])

    status = await wait_ready(client, settled=True)
    assert status["last_report"]["added"] == [NEW_PAGE]
    found = await command(client, "alpaca.search", {"query": NEW_WORD, "k": 3})
    assert found["results"][0]["path"] == NEW_PAGE
    _assert_embedded_by_the_index_model(status["index_path"], NEW_PAGE, report["model"])


def _assert_embedded_by_the_index_model(index_path: str, path: str, model: str) -> None:
    """The page saved during the tune has the tuned model's vectors (read from the index's files)."""
    from alpaca_index.api import DocsIndex

    index = DocsIndex(index_path, read_only=True)
    assert index.embedder.name == model
    rows = [r for r in index.store.chunks.to_arrow().to_pylist() if r["path"] == path]
    fresh = index.embedder.encode([r["embed_text"] for r in rows])
    assert rows and all(float(np.dot(f, r["vector"])) > 0.999 for f, r in zip(fresh, rows))


async def test_revert_goes_back_to_the_packaged_model(client: LanguageClient):
    from alpaca_index.embedding import DEFAULT_MODEL

    await wait_ready(client, settled=True)
    await command(client, "alpaca.tune", {"revert": True, "requestId": "r1"})
    done = await wait_until(lambda: final(client, "r1"), timeout=TUNE_TIMEOUT)
    assert done["report"]["model"] == DEFAULT_MODEL and done["report"]["reused_vectors"] > 0, done
    status = await command(client, "alpaca.status")
    assert status["model"] == DEFAULT_MODEL and status["model_info"] == {"tuned": False}
    found = await command(client, "alpaca.search", {"query": NEW_WORD, "k": 3})
    assert found["results"][0]["path"] == NEW_PAGE


async def test_a_stopped_tune_leaves_the_packaged_model_and_vectors(client: LanguageClient):
    from alpaca_index.embedding import DEFAULT_MODEL

    before = await wait_ready(client, settled=True)
    vectors = _vectors(before["index_path"])
    assert await command(client, "alpaca.tuneCancel", {"requestId": "nope"}) == {
        "cancelled": False, "reason": "no running tune with that requestId"}
    await command(client, "alpaca.tune", {"requestId": "c1"})
    await wait_until(lambda: "train" in stages(client, "c1"), timeout=TUNE_TIMEOUT)
    assert await command(client, "alpaca.tuneCancel", {"requestId": "c1"}) == {"cancelled": True}
    done = await wait_until(lambda: final(client, "c1"), timeout=TUNE_TIMEOUT)
    assert done == {"requestId": "c1", "kind": "final", "cancelled": True}
    assert "commit" not in stages(client, "c1")
    status = await command(client, "alpaca.status")
    assert status["model"] == DEFAULT_MODEL and status["model_info"] == {"tuned": False}
    assert status["chunks"] == before["chunks"] and _vectors(status["index_path"]) == vectors
    tuned = client.workspace / ".alpaca" / "tuned"
    assert not any((p / "modules.json").exists() for p in tuned.glob("*")), "the stopped run left a model behind"
    found = await command(client, "alpaca.search", {"query": NEW_WORD, "k": 3})
    assert found["results"][0]["path"] == NEW_PAGE


def _vectors(index_path: str) -> dict[str, list[float]]:
    from alpaca_index.api import DocsIndex

    table = DocsIndex(index_path, read_only=True).store.chunks.to_arrow()
    return dict(zip(table.column("id").to_pylist(), table.column("vector").to_pylist()))


async def test_bad_params_and_a_shared_index_are_refused(client: LanguageClient):
    await wait_ready(client, settled=True)
    for params in ({"maxPairs": 1}, {"maxPairs": "many"}, {"budgetMinutes": 0}, {"budgetMinutes": True}):
        with pytest.raises(JsonRpcInvalidParams):
            await command(client, "alpaca.tune", params)
    # last in this file: the server now points at a shared index it cannot reach
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"alpaca": {"indexPath": "s3://alpaca-test-bucket/docs"}}))
    await wait_until(lambda: (s := client.alpaca["alpaca/status"]) and s[-1]["index_path"].startswith("s3://"))
    with pytest.raises(JsonRpcInvalidParams, match="shared and read-only"):
        await command(client, "alpaca.tune", {})
    assert {m["requestId"] for m in client.alpaca[PROGRESS]} == {"t1", "r1", "c1"}  # refusals start nothing
