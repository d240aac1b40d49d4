"""Related-docs latency in-process, for a before/after of one code tree against another (issue 18):

    PYTHONPATH=<tree>/index:<tree>/server python bench/related_ab.py DB_DIR

Indexes the sample docs into DB_DIR if it is empty, then times `related(path=…, k=5)` for 20 pages x 3,
each result turned into its JSON payload, and prints p50/p90 in ms. Run it for each tree in turn,
alternating, in one session.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from alpaca_index.api import DocsIndex

DOCS = Path(__file__).resolve().parents[1] / "samples" / "docs"


def main() -> None:
    index = DocsIndex(Path(sys.argv[1]))
    if index.status()["files"] == 0:
        index.sync([DOCS])
    files = sorted(str(p) for p in (DOCS / "sagemaker-dg").glob("*.md"))[:20]
    index.related(path=files[0], k=5)  # warm: the model, the vector cache
    times = []
    for _ in range(3):
        for file in files:
            started = time.perf_counter()
            hits = index.related(path=file, k=5)
            # the payload too (the tree before issue 18 has no to_wire)
            json.dumps([h.to_wire() if hasattr(h, "to_wire") else h.to_dict() for h in hits])
            times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"p50": statistics.median(times), "p90": sorted(times)[int(len(times) * 0.9)], "n": len(times)}))


if __name__ == "__main__":
    main()
