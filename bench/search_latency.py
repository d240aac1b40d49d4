"""Query latency on an existing index (e.g. the full corpus), broken down by stage.

    python bench/search_latency.py --db INDEX [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEV_QUESTIONS, latency_ms  # noqa: E402

from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.evaluation import load_questions  # noqa: E402
from alpaca_index.search import FTS_COLUMN, keyword_query  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    index = DocsIndex(args.db)
    questions = [q.question for q in load_questions(DEV_QUESTIONS)]
    table = index.store.chunks
    vectors = {q: index.embedder.encode_query(q) for q in questions}
    pages = sorted(index.store.catalog())[:40]
    result = {
        "chunks": table.count_rows(),
        "search_files": latency_ms(lambda q: index.search_files(q, 5), questions, args.repeats),
        "stage_encode_query": latency_ms(index.embedder.encode_query, questions, args.repeats),
        "stage_vector_top50": latency_ms(lambda q: index.vectors.search(table, vectors[q], 50), questions, args.repeats),
        "stage_fulltext_top50": latency_ms(lambda q: table.search(keyword_query(q), query_type="fts",
                                                                  fts_columns=FTS_COLUMN).limit(50).to_list(),
                                           questions, args.repeats),
        "related_file": latency_ms(lambda p: index.related(path=p, k=5), pages, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
