"""Latency of the language server as an editor sees it: a real `alpaca-server` over stdio.

    python bench/measure_server.py [--docs DIR] [--saves 20] [--json]   (bench/run.py calls run())

Starts the server on a docs folder (and an existing index of it, if given), waits for the index, then measures
search / related / hover round trips and save→searchable (write a unique word, didSave, poll
alpaca.search until the word shows up), plus the server's resident memory (no answer model) after
each step, split into anonymous and file-backed (shared libraries) pages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DOCS = REPO / "samples" / "docs"
QUERIES = ["How do I scale an asynchronous endpoint to zero?", "KMS key for model artifacts",
           "serverless endpoint memory size", "A/B testing with production variants", "regions and quotas",
           "geospatial capabilities", "batch transform input filter", "monitor data drift"]
IDLE_SECONDS = 6  # longer than the server waits before returning what queries freed (IDLE_TRIM_SECONDS)
SYMBOLS = ["KmsKeyId", "create_endpoint", "ProductionVariants", "MemorySizeInMB", "InitialInstanceCount",
           "MaxConcurrency", "VolumeKmsKeyId", "TargetValue", "ApproximateBacklogSizePerInstance",
           "InvocationsPerInstance"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 1) if values else float("nan")


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95),
            "max_ms": round(max(values), 1) if values else None}


def rss_mb(pid: int) -> float | None:
    return memory_mb(pid).get("rss")


async def timed_searches(cmd) -> dict:
    """`alpaca.search` over the queries three times: latency summary in ms."""
    timings = []
    for q in QUERIES * 3:
        t = time.perf_counter()
        await cmd("alpaca.search", {"query": q, "k": 5})
        timings.append((time.perf_counter() - t) * 1000)
    return summary(timings)


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process: all of it, the anonymous part (heap, arenas, tensors) and the
    file-backed part (shared libraries' pages: clean, shared, dropped first under pressure)."""
    fields = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file"}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {fields[k]: round(int(v.split()[0]) / 1024, 1)
            for k, _, v in (line.partition(":") for line in lines) if k in fields}


def run(docs: Path, index: Path | None = None, saves: int = 20) -> dict:
    """Measures on `docs` in place (the edited page is restored); copies them first if no index is given."""
    work = Path(tempfile.mkdtemp(prefix="alpaca-bench-"))
    try:
        if index is None:
            shutil.copytree(docs, work / "docs")
            docs, index = work / "docs", work / "index"
        return asyncio.run(_run(docs, index, saves, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _run(docs: Path, index: Path, saves: int, work: Path) -> dict:
    client = LanguageClient("alpaca-bench", "0")
    statuses: list[dict] = []

    @client.feature("alpaca/status")
    def _status(ls, params):
        statuses.append(params)

    @client.feature("window/showMessage")
    def _message(ls, params):
        print(f"server: {params.message}", file=sys.stderr)

    await client.start_io(sys.executable, "-m", "alpaca_server", "--log-level", "WARNING")
    pid = client._server.pid  # noqa: SLF001

    async def cmd(name, arg):
        return await client.workspace_execute_command_async(types.ExecuteCommandParams(command=name, arguments=[arg]))

    t0 = time.perf_counter()
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=work.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=work.as_uri(), name="bench")],
        initialization_options={"alpaca": {"docsPaths": [str(docs)], "indexPath": str(index)}}))
    init_ms = (time.perf_counter() - t0) * 1000
    client.initialized(types.InitializedParams())
    while True:
        status = await cmd("alpaca.status", {})
        if status["state"] in ("ready", "error"):
            break
        await asyncio.sleep(0.2)
    ready_s = time.perf_counter() - t0
    out: dict = {"docs": status["docs"], "chunks": status["chunks"], "initialize_ms": round(init_ms, 1),
                 "first_index_ready_s": round(ready_s, 1), "state": status["state"],
                 "server_rss_ready_mb": rss_mb(pid)}  # index open and synced, no query yet
    memory = out["server_memory_mb"] = {"ready": memory_mb(pid)}  # after each step below

    out["search"] = await timed_searches(cmd)
    memory["after_search"] = memory_mb(pid)

    files = sorted(p for p in docs.rglob("*.md"))[:20]
    timings = []
    for f in files:
        t = time.perf_counter()
        await cmd("alpaca.related", {"uri": f.as_uri(), "k": 5})
        timings.append((time.perf_counter() - t) * 1000)
    out["related"] = summary(timings)
    memory["after_related"] = memory_mb(pid)

    code = work / "app.py"
    code.write_text("\n".join(f"x{i} = {s}" for i, s in enumerate(SYMBOLS)) + "\n")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=code.as_uri(), language_id="python", version=1, text=code.read_text())))
    cold, warm, shown = [], [], 0
    for rep, bucket in ((0, cold), (1, warm)):
        for i, _ in enumerate(SYMBOLS):
            t = time.perf_counter()
            hover = await client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=code.as_uri()),
                position=types.Position(line=i, character=len(f"x{i} = ") + 1)))
            bucket.append((time.perf_counter() - t) * 1000)
            shown += bool(hover) and rep == 0
    out["hover_uncached"] = summary(cold)
    out["hover_cached"] = summary(warm)
    out["hover_shown"] = f"{shown}/{len(SYMBOLS)}"
    memory["after_hover"] = memory_mb(pid)

    target = files[0]
    original = target.read_text()
    timings = []
    for i in range(saves):
        word = f"benchword{i}x{int(time.time() * 1000) % 100000}"
        title, _, rest = original.partition("\n")
        target.write_text(f"{title}\n\nThe {word} setting is documented here.\n{rest}")
        t = time.perf_counter()
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=target.as_uri())))
        while time.perf_counter() - t < 10:
            result = await cmd("alpaca.search", {"query": word, "k": 3})
            if any(word in r["snippet"] for r in result["results"]):
                break
            await asyncio.sleep(0.01)
        timings.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.3)
    target.write_text(original)
    out["save_to_searchable"] = summary(timings)
    out["server_rss_mb"] = rss_mb(pid)
    memory["after_saves"] = memory_mb(pid)
    await asyncio.sleep(IDLE_SECONDS)
    memory["idle"] = memory_mb(pid)

    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.sleep(0.2)
    await client.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.docs, saves=args.saves)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
