"""A multi-root workspace through the real server: the client answers `workspace/configuration`
per folder (team-b has its own docsPaths), both folders go into one index without same-named
pages hiding each other, a PDF result says its page, and removing a folder drops its docs."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.index.sample_files import FILLER, make_pdf, wrap
from tests.server.conftest import SERVER, command, paths, wait_ready

pytestmark = pytest.mark.timeout(300)


def write_folders(base):
    a, b = base / "team-a", base / "team-b"
    for folder in (a / "docs", b / "docs", b / "handbook"):
        folder.mkdir(parents=True)
    for team, folder in (("A", a), ("B", b)):
        (folder / "docs" / "index.md").write_text(
            f"# Team {team} numbat onboarding\n\nNumbat onboarding for team {team}: request access and pair "
            f"with a team {team} engineer. {FILLER}\n")
    (b / "handbook" / "guide.md").write_text(f"# Kiwi rotation\n\nThe kiwi rotation moves on-call duty. {FILLER}\n")
    (b / "notes.md").write_text("# Outside the configured docs\n\nThe zzzoutside page is not indexed.\n")
    overview = "The catalog team owns this runbook; it lists contacts, dashboards and escalation paths. " + FILLER
    restart = "To restart the wombat service, drain the node from the load balancer first, then stop the daemon. " \
        + FILLER
    make_pdf(a / "docs" / "runbook.pdf", [wrap(overview), wrap(restart)], title="Wombat Runbook",
             outline=[(0, "Overview", 1), (0, "Restarting", 2)])
    return a, b


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    base = tmp_path_factory.mktemp("two-folders")
    a, b = write_folders(base)
    # the client's settings: the window's section, and team-b's own docsPaths (team-a: the default docs/)
    lsp_client.set_configuration({"indexPath": str(base / "index"), "watch": False}, section="alpaca")
    lsp_client.set_configuration({"alpaca": {}}, scope_uri=a.as_uri())
    lsp_client.set_configuration({"alpaca": {"docsPaths": ["handbook", "docs"]}}, scope_uri=b.as_uri())
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
            configuration=True, workspace_folders=True)),
        root_uri=a.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=a.as_uri(), name="team-a"),
                           types.WorkspaceFolder(uri=b.as_uri(), name="team-b")]))
    lsp_client.folders = (a, b)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
async def test_each_folder_gets_its_own_docs_paths_in_one_index(client: LanguageClient):
    a, b = client.folders
    status = await wait_ready(client, timeout=180)
    assert status["roots"] == [str(a / "docs"), str(b / "handbook"), str(b / "docs")]
    assert status["docs"] == 4 and ".pdf" in status["extensions"]


@pytest.mark.asyncio(loop_scope="module")
async def test_same_named_pages_in_two_folders_are_both_found(client: LanguageClient):
    found = paths((await command(client, "alpaca.search", {"query": "numbat onboarding", "k": 5}))["results"])
    assert {"team-a/docs/index.md", "team-b/docs/index.md"} <= set(found)
    found = paths((await command(client, "alpaca.search", {"query": "kiwi rotation on-call", "k": 5}))["results"])
    assert found[0] == "handbook/guide.md" and "notes.md" not in " ".join(found)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_pdf_result_names_its_page(client: LanguageClient):
    a, _ = client.folders
    top = (await command(client, "alpaca.search", {"query": "restart the wombat service", "k": 3}))["results"][0]
    assert (top["path"], top["place"], top["heading_path"]) == ("team-a/docs/runbook.pdf", "p. 2",
                                                                 "Wombat Runbook › Restarting")
    assert top["uri"] == (a / "docs" / "runbook.pdf").as_uri()


@pytest.mark.asyncio(loop_scope="module")
async def test_removing_a_folder_drops_its_docs(client: LanguageClient):
    a, b = client.folders
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
        event=types.WorkspaceFoldersChangeEvent(added=[], removed=[types.WorkspaceFolder(uri=b.as_uri(),
                                                                                          name="team-b")])))
    deadline = time.monotonic() + 120
    while True:
        status = await command(client, "alpaca.status")
        if status["state"] == "ready" and status["roots"] == [str(a / "docs")] and status["docs"] == 2:
            break
        assert time.monotonic() < deadline, f"team-b's docs were not dropped: {status}"
        await asyncio.sleep(0.5)
    found = (await command(client, "alpaca.search", {"query": "numbat onboarding", "k": 5}))["results"]
    # one docs folder again: paths are relative to it, and only team A's page is left
    assert paths(found)[0] == "index.md" and {r["uri"] for r in found} <= {
        (a / "docs" / "index.md").as_uri(), (a / "docs" / "runbook.pdf").as_uri()}
