"""The editor on a shared index: the real language server opens `s3://…` (moto) through the one
opener, reads it through the local cache, never writes to it, and links results to the developer's
own checkout of the docs."""

from __future__ import annotations

import shutil
import sys

import pytest
from pytest_lsp import ClientServerConfig

from tests.server.conftest import command, init_params, make_client, wait_ready
from tests.team.conftest import BUCKET, team_env

pytestmark = [pytest.mark.asyncio(loop_scope="function"), pytest.mark.timeout(300)]


def bucket_listing(moto) -> dict:
    pages = moto.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


async def test_the_editor_reads_a_shared_index(moto, shared, tmp_path):
    checkout = tmp_path / "checkout" / "docs"  # the developer's clone of the docs CI indexed
    shutil.copytree(shared["docs"], checkout)
    workspace = checkout.parent
    before = bucket_listing(moto)
    config = ClientServerConfig(server_command=[sys.executable, "-m", "alpaca_server"], client_factory=make_client,
                                server_env=team_env(moto, tmp_path / "cache"))
    client = await config.start()
    try:
        await client.initialize_session(init_params(workspace, {"alpaca": {
            "docsPaths": [str(checkout)], "indexPath": shared["uri"], "debounceMs": 50}}))
        status = await wait_ready(client, timeout=120)
        assert status["index_path"] == shared["uri"]
        assert status["docs"] == shared["status"]["files"] and status["chunks"] == shared["status"]["chunks"]

        found = (await command(client, "alpaca.search", "traffic split between production variants"))["results"]
        assert found and found[0]["path"] == "model-ab-testing.md"
        assert all(r["abspath"].startswith(str(checkout)) for r in found)  # links open the local checkout
        assert found[0]["uri"] == (checkout / "model-ab-testing.md").as_uri()

        # a save in the checkout does not make the editor write the team's index
        page = checkout / "model-ab-testing.md"
        page.write_text(page.read_text() + "\n\nA local edit.\n")
        await command(client, "alpaca.reindex")
        assert (await wait_ready(client))["state"] == "ready"
    finally:
        await client.shutdown_session()
    assert bucket_listing(moto) == before
    assert not (workspace / "s3:").exists()  # the URI was never taken for a folder
