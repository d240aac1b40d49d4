"""The dev set's reference answers as drafts: would today's claim gate show a right answer, over the
passages the model was given in a saved run? (bench/RESULTS.md, stop 33)

    python bench/reference_drafts.py --results bench/results/answers_stop33.json --db INDEX
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.answer.gate import SHOWN, replay  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, required=True, help="an answer-bench run (its saved passages)")
    parser.add_argument("--db", type=Path, required=True, help="an index, for its embedder")
    args = parser.parse_args()
    from alpaca_index.api import DocsIndex

    encode = DocsIndex(args.db, read_only=True).embedder.encode
    references = {q["id"]: q["answer"] for q in map(json.loads, DEV_QUESTIONS.read_text().splitlines())}
    rows = []
    for row in json.loads(args.results.read_text())["rows"]:
        if row["group"] != "dev" or not row.get("passages"):
            continue
        passages = {int(n): text for n, text in row["passages"].items()}
        gate = replay(references[row["id"]], passages, encode, row["question"])
        checked = gate.result()
        rows.append({"id": row["id"], "shown": gate.state == SHOWN, "verdict": checked.verdict,
                     "missing": sorted({t for c in checked.claims for t in c.missing})})
    print(json.dumps({"shown": sum(r["shown"] for r in rows), "questions": len(rows), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
