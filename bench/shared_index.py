"""Query latency of a shared index: direct on S3 vs its local read cache vs a plain local index.

    python bench/shared_index.py [--docs DIR] [--repeats 3] [--json]

One run, one machine: builds a local index of the docs, uploads exactly those files to an
S3-compatible server (moto, started here on 127.0.0.1), then times the same queries against
  * local   — the plain local LanceDB folder,
  * cached  — a reader of s3:// through the local read cache (the default for readers),
  * shared  — a reader straight on s3:// (ALPACA_CACHE=0; LanceDB re-checks the version per query).
`search_ms` is the whole `search_files` call (query embedding included); `retrieval_ms` is the
hybrid query alone with a precomputed vector (as DocsIndex runs it: vector half from the in-memory
matrix, full-text half from LanceDB), which is where storage shows. moto answers on
loopback, so it hides network round trips: `s3_requests_per_query` (counted from moto's request log)
times a real S3 request latency (~10-30 ms in-region) estimates what a real bucket adds.
Needs the test extra (moto[server], boto3).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DOCS = REPO / "samples" / "docs"
QUERIES = ["How do I scale an asynchronous endpoint to zero?", "KMS key for model artifacts",
           "serverless endpoint memory size", "A/B testing with production variants", "regions and quotas",
           "batch transform input filter", "monitor data drift", "inference pipeline with preprocessing",
           "CloudFormation resource for a SageMaker endpoint", "how much does training cost",
           "InvocationsPerInstance target tracking", "notebook instance lifecycle configuration"]
BUCKET = "alpaca-bench"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 2)


def summary(values: list[float]) -> dict:
    return {"p50": pct(values, 50), "p95": pct(values, 95), "mean": round(statistics.fmean(values), 2)}


class MotoServer:
    def __init__(self, log: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=open(log, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)

    def requests(self) -> int:
        return sum(1 for line in self.log.read_text(errors="replace").splitlines() if '"GET ' in line or '"HEAD ' in line
                   or '"PUT ' in line or '"POST ' in line or '"DELETE ' in line)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def upload(folder: Path, endpoint: str, prefix: str) -> int:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="bench", aws_secret_access_key="bench")
    s3.create_bucket(Bucket=BUCKET)
    count = 0
    for path in folder.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(folder).as_posix()}")
            count += 1
    return count


def time_modes(indexes: dict, embedder, repeats: int, counter=None) -> dict:
    """Interleaved (query by query, mode by mode) so load from other work hits every mode alike."""
    from alpaca_index.retrieval.search import hybrid

    vectors = {q: embedder.encode_query(q) for q in QUERIES}
    times = {mode: {"search": [], "retrieval": [], "requests": 0} for mode in indexes}
    for index in indexes.values():
        index.search_files(QUERIES[0], 5)  # warm-up (opens files, loads the FTS index)
    for _ in range(repeats):
        for q in QUERIES:
            for mode, index in indexes.items():
                before = counter() if counter else 0
                started = time.perf_counter()
                index.search_files(q, 5)
                times[mode]["search"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                hybrid(index.store.chunks, vectors[q], q, 40, index.searching, vectors=getattr(index, "vectors", None))
                times[mode]["retrieval"].append((time.perf_counter() - started) * 1000)
                times[mode]["requests"] += (counter() - before) if counter else 0
    n = repeats * len(QUERIES)
    return {mode: {"search_ms": summary(t["search"]), "retrieval_ms": summary(t["retrieval"]), "queries": n,
                   "s3_requests_per_query": round(t["requests"] / (2 * n), 2)} for mode, t in times.items()}


def run(docs: Path = DEFAULT_DOCS, repeats: int = 3) -> dict:
    from alpaca_index.api import DocsIndex
    from alpaca_index.embedding import Embedder
    from alpaca_index.team.shared_cache import open_shared

    work = Path(tempfile.mkdtemp(prefix="alpaca-shared-bench-"))
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                      ALPACA_CACHE_DIR=str(work / "cache"), ALPACA_CACHE_TTL="15",
                      AWS_CONFIG_FILE=str(work / "no-aws-config"))
    embedder = Embedder()
    local = DocsIndex(work / "local", embedder=embedder)
    started = time.perf_counter()
    local.sync([docs])
    build_s = time.perf_counter() - started

    moto = MotoServer(work / "moto.log")
    try:
        os.environ["ALPACA_S3_ENDPOINT"] = moto.endpoint
        uri = f"s3://{BUCKET}/index"
        files = upload(work / "local", moto.endpoint, "index")

        started = time.perf_counter()
        shared = open_shared(uri, cache=False, embedder=embedder)
        open_shared_s = time.perf_counter() - started
        started = time.perf_counter()
        cached = open_shared(uri, cache=True, embedder=embedder)  # first open mirrors the index
        open_cached_s = time.perf_counter() - started

        results = time_modes({"local": local, "cached": cached, "shared": shared}, embedder, repeats, moto.requests)
    finally:
        moto.stop()

    base = results["local"]
    out = {
        "docs": str(docs), "files": local.status()["files"], "chunks": local.status()["chunks"],
        "index_files_uploaded": files, "local_build_s": round(build_s, 1),
        "open_shared_s": round(open_shared_s, 2), "open_cached_first_s": round(open_cached_s, 2),
        "modes": results,
        "ratios_vs_local": {
            mode: {"search_p50": round(results[mode]["search_ms"]["p50"] / base["search_ms"]["p50"], 2),
                   "retrieval_p50": round(results[mode]["retrieval_ms"]["p50"] / base["retrieval_ms"]["p50"], 2),
                   "retrieval_p95": round(results[mode]["retrieval_ms"]["p95"] / base["retrieval_ms"]["p95"], 2)}
            for mode in ("shared", "cached")},
        "note": "moto on loopback: no network latency; a real bucket adds roughly s3_requests_per_query x 10-30 ms "
                "to the shared mode (requests partly run in parallel), nothing to the cached mode between TTL checks",
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="(default) print JSON")
    args = parser.parse_args()
    print(json.dumps(run(args.docs, args.repeats), indent=2))


if __name__ == "__main__":
    main()
