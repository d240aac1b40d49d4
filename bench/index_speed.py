"""Index speed on the real corpus, all measured in one run:

cold index vs encoding the same chunks alone (goal ≤ 1.1×), re-sync with nothing changed
(goal ≤ 2 s), one edited page searchable (goal ≤ 1 s), query p50 (goal ≤ 30 ms).

    python bench/index_speed.py [--limit N] [--out bench/results/index_speed.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import CORPUS, DEV_QUESTIONS, Timer, copy_corpus, median, percentile, save

from alpaca_index.api import DocsIndex
from alpaca_index.embedding import Embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="first N pages per folder (quick runs)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    embedder = Embedder()
    embedder.encode(["warm up the model so load time is not counted as encoding"])
    with tempfile.TemporaryDirectory() as tmp:
        docs = copy_corpus(args.corpus, Path(tmp) / "docs", limit=args.limit)
        index = DocsIndex(Path(tmp) / "db", embedder=embedder)

        with Timer() as cold:
            report = index.sync([docs])
        texts = index.store.chunks.to_arrow().column("embed_text").to_pylist()
        unique = list(dict.fromkeys(texts))  # sync encodes each distinct text once
        with Timer() as encode_only:
            embedder.encode(unique)

        no_change = []
        for _ in range(3):
            with Timer() as t:
                again = index.sync([docs])
            assert again.chunks_encoded == 0
            no_change.append(t.seconds)

        page = sorted(docs.rglob("*.md"))[len(texts) % 7]
        marker = f"zebrafinch{int(time.time())} quarantine protocol for notebook kernels"
        with page.open("a", encoding="utf-8") as fh:
            fh.write(f"\n\n## Bench edit\n\nThe {marker} applies here.\n")
        with Timer() as edit:
            edit_report = index.sync([docs])
            top = index.search_files(marker, k=1)
        assert top and docs / top[0].path == page, "edited page not found first"

        questions = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text().splitlines() if line.strip()]
        latencies = []
        for _ in range(3):
            for q in questions:
                with Timer() as t:
                    index.search_files(q, k=5)
                latencies.append(t.seconds * 1000)

    results = {
        "files": len(report.added),
        "chunks": len(texts), "chunks_encoded": report.chunks_encoded,
        "cold_index_s": round(cold.seconds, 2), "encode_only_s": round(encode_only.seconds, 2),
        "cold_vs_encode_ratio": round(cold.seconds / encode_only.seconds, 3), "goal_ratio": 1.1,
        "resync_no_change_s_median": round(median(no_change), 3), "goal_resync_s": 2.0,
        "edit_to_searchable_s": round(edit.seconds, 3), "edit_chunks_encoded": edit_report.chunks_encoded,
        "goal_edit_s": 1.0,
        "query_ms_p50": round(percentile(latencies, 0.5), 1), "query_ms_p95": round(percentile(latencies, 0.95), 1),
        "goal_query_ms_p50": 30, "queries": len(latencies),
    }
    save(results, args.out)


if __name__ == "__main__":
    main()
