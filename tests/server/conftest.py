"""pytest-lsp helpers: a real `alpaca-server` over stdio, a client that records Alpaca's custom
notifications, and a polling `wait_until`."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import make_test_lsp_client

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "docs" / "sagemaker-dg"
DOCS = ["async-inference-autoscale.md", "async-inference.md", "key-management.md", "serverless-endpoints-create.md",
        "model-ab-testing.md", "inference-pipelines.md", "regions-quotas.md", "encryption-at-rest.md"]
CUSTOM = ("alpaca/status", "alpaca/answer", "alpaca/related", "alpaca/modelProgress", "alpaca/tuneProgress")


def plain(value):
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def make_client() -> LanguageClient:
    client = make_test_lsp_client()
    client.alpaca = defaultdict(list)

    def recorder(method):
        def record(ls, params):
            ls.alpaca[method].append(plain(params))
        return record

    for method in CUSTOM:
        client.feature(method)(recorder(method))
    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "alpaca_server"], client_factory=make_client)


def copy_docs(root: Path, names=DOCS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SAMPLE / name, root / name)
    return root


def init_params(workspace: Path, options: dict | None) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
            workspace=types.WorkspaceClientCapabilities(configuration=False),
        ),
        root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        initialization_options=options,
    )


async def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def command(client: LanguageClient, name: str, *args):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command=name, arguments=list(args)))


def last_status(client: LanguageClient) -> dict | None:
    items = client.alpaca["alpaca/status"]
    return items[-1] if items else None


async def wait_ready(client: LanguageClient, timeout: float = 90.0, settled: bool = False) -> dict:
    """Until the server says ready; `settled` also waits for no file changes queued for a next pass
    (after a storm, watcher events can still arrive when the last pass has already finished)."""
    async def ready():
        status = await command(client, "alpaca.status")
        return status if status["state"] == "ready" and not (settled and status["pending"]) else None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await ready()
        if status:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"server not ready: {await command(client, 'alpaca.status')}")


def paths(results: list[dict]) -> list[str]:
    return [r["path"] for r in results]


async def open_session(client: LanguageClient, base: Path, docs: Path, **settings) -> None:
    """Initialize a session on `docs`, with its index under `base`."""
    client.docs = docs
    options = {"alpaca": {"docsPaths": [str(docs)], "indexPath": str(base / "index"), **settings}}
    await client.initialize_session(init_params(base, options))
