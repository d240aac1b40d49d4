"""Start-up cost of the CLI and the language server on an existing index, for two code trees in one run.

    python bench/startup.py --db INDEX --docs ROOT [ROOT...] [--before DIR] [--repeats 3] [--json]

Each CLI command runs as its own process under `/usr/bin/time -v` (wall time and peak RSS, median
of --repeats): `status` (from the index's summary where the tree keeps one: no LanceDB import),
`status` with the summary removed first (the full open it falls back to), `index` with nothing
changed, `search`. `--before DIR` is another checkout
(e.g. `git archive <commit> index server | tar -x -C DIR`) measured the same way on its own copy of
the index; the current tree is "after". Also: where the remaining time goes (in-process stages),
search_files p50/p95 (bench/search_latency.py), and the language server's start→ready and RSS on
the index (a real `alpaca-server` over stdio, no answer model). The index is copied per tree into a
temporary folder first (the CLI writes its sync time), so INDEX itself is never written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUMMARY = "alpaca_status.json"  # alpaca_index.storage.summary.FILE (the trees compared may predate it)
QUERY = "How do I scale an asynchronous inference endpoint to zero?"
CLI = "import sys; from alpaca_index.cli import main; sys.argv[0] = 'alpaca'; main()"

STAGES = r"""
import json, sys, time
t = time.perf_counter(); out = {}
def lap(name):
    global t
    now = time.perf_counter(); out[name] = round((now - t) * 1000, 1); t = now
import lancedb; lap("import_lancedb")
import alpaca_index.cli; lap("import_cli")
from alpaca_index.api import DocsIndex; lap("import_api")
index = DocsIndex(sys.argv[1]); lap("open_index")
index.status(); lap("status")
index.search_files(sys.argv[2], 5); lap("first_search (loads the model)")
index.search_files(sys.argv[2], 5); lap("second_search")
out["modules"] = [m for m in ("torch", "sentence_transformers", "sklearn", "scipy", "onnxruntime") if m in sys.modules]
print(json.dumps(out))
"""


def env_for(tree: Path) -> dict:
    return dict(os.environ, PYTHONPATH=f"{tree / 'index'}:{tree / 'server'}")


def timed(args: list[str], env: dict, before: Callable[[], None] | None = None) -> dict:
    """Wall seconds and peak RSS (MB) of one process, from GNU time; `before` runs first, untimed."""
    if before is not None:
        before()
    done = subprocess.run(["/usr/bin/time", "-v", sys.executable, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed: {done.stderr[-1500:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    hours, minutes, seconds = (float(g or 0) for g in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return {"wall_s": round(hours * 3600 + minutes * 60 + seconds, 2), "peak_rss_mb": round(rss / 1024)}


def cli_rows(tree: Path, db: Path, docs: list[Path], repeats: int) -> dict:
    env = env_for(tree)
    status = ["status", "--db", str(db), "--json"]
    commands: dict[str, tuple[list[str], Callable[[], None] | None]] = {
        "status": (status, None),
        "status (no summary: full open)": (status, lambda: (db / SUMMARY).unlink(missing_ok=True)),
        "index (no change)": (["index", *map(str, docs), "--db", str(db), "--json", "-q"], None),
        "search": (["search", QUERY, "--db", str(db), "--json"], None),
    }
    rows = {}
    for name, (args, before) in commands.items():
        runs = [timed(["-c", CLI, *args], env, before) for _ in range(repeats)]
        rows[name] = {"wall_s": statistics.median(r["wall_s"] for r in runs),
                      "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "runs": [r["wall_s"] for r in runs]}
    return rows


def stages(tree: Path, db: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", STAGES, str(db), QUERY], env=env_for(tree), capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def search_latency(tree: Path, db: Path, repeats: int) -> dict:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "search_latency.py"), "--db", str(db),
                           "--repeats", str(repeats)], env=env_for(tree), capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def server(tree: Path, db: Path, docs: list[Path]) -> dict:
    """start→ready (initialize sent until alpaca.status says ready) and memory: at ready, right
    after queries, and once the server has been idle a few seconds."""
    sys.path.insert(0, str(REPO / "bench"))
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    from measure_server import IDLE_SECONDS, memory_mb, timed_searches

    async def run() -> dict:
        client = LanguageClient("alpaca-bench", "0")
        started = time.perf_counter()
        os.environ["PYTHONPATH"] = env_for(tree)["PYTHONPATH"]  # the server process inherits it
        await client.start_io(sys.executable, "-m", "alpaca_server", "--log-level", "WARNING")
        pid = client._server.pid  # noqa: SLF001

        async def cmd(name, arg):
            return await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=name, arguments=[arg]))

        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=docs[0].as_uri(),
            initialization_options={"alpaca": {"docsPaths": [str(d) for d in docs], "indexPath": str(db)}}))
        client.initialized(types.InitializedParams())
        while (status := await cmd("alpaca.status", {}))["state"] not in ("ready", "error"):
            await asyncio.sleep(0.05)
        out = {"state": status["state"], "start_to_ready_s": round(time.perf_counter() - started, 2),
               "memory_ready_mb": memory_mb(pid)}
        out["search"] = await timed_searches(cmd)
        out["memory_after_queries_mb"] = memory_mb(pid)
        await asyncio.sleep(IDLE_SECONDS)  # what the server keeps once idle
        out["memory_idle_mb"] = memory_mb(pid)
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.sleep(0.2)
        await client.stop()
        return out

    saved = os.environ.get("PYTHONPATH")
    try:
        return asyncio.run(run())
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def measure(tree: Path, db: Path, docs: list[Path], repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="alpaca-startup-") as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(db, copy)
        timed(["-c", CLI, "status", "--db", str(copy), "--json"], env_for(tree))  # warm the page cache
        return {"cli": cli_rows(tree, copy, docs, repeats), "stages_ms": stages(tree, copy),
                "search_latency": search_latency(tree, copy, 2), "server": server(tree, copy, docs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--docs", type=Path, nargs="+", required=True, help="the roots the index was built from")
    parser.add_argument("--before", type=Path, help="another checkout to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    trees = {"before": args.before, "after": REPO} if args.before else {"after": REPO}
    started = time.perf_counter()
    result = {label: measure(tree, args.db, args.docs, args.repeats) for label, tree in trees.items()}
    result["seconds"] = round(time.perf_counter() - started)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
