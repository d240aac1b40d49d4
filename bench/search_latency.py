"""Query latency on an existing index (e.g. the full corpus), broken down by stage.

    python bench/search_latency.py --db INDEX [--repeats 3]     (or: python bench/run.py --only search)
    python bench/search_latency.py --db INDEX --compare          # shipped vs stop 24 search settings, alternating

`search_files` is the whole call the CLI, the editor's search and hovers make (query embedding
included); the stages are each timed alone, so they show where that time goes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.retrieval.evaluation import load_questions  # noqa: E402
from alpaca_index.retrieval.search import SearchSettings, text_candidates  # noqa: E402
from common import DEV_QUESTIONS, latency_ms  # noqa: E402


def measure(index: DocsIndex, questions: list[str], repeats: int = 3) -> dict:
    table = index.store.chunks
    index.search_files(questions[0])  # first query loads the model and the vector cache
    vectors = {q: index.embedder.encode_query(q) for q in questions}
    pages = sorted(index.store.catalog())[:40]
    depth = max(5 * 8, index.searching.candidates)  # what search_files(q, 5) fetches per list
    return {
        "chunks": table.count_rows(),
        "search_files": latency_ms(lambda q: index.search_files(q, 5), questions, repeats),
        "stage_encode_query": latency_ms(index.embedder.encode_query, questions, repeats),
        "stage_vector_candidates": latency_ms(lambda q: index.vectors.search(table, vectors[q], depth),
                                              questions, repeats),
        "stage_fulltext_candidates": latency_ms(lambda q: text_candidates(table, q, depth, index.searching),
                                                questions, repeats),
        "related_file": latency_ms(lambda p: index.related(path=p, k=5), pages, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="shipped settings vs stop 24's (rank fusion, "
                        "50 candidates, decay 0.2), alternating rounds on one index")
    args = parser.parse_args()
    questions = [q.question for q in load_questions(DEV_QUESTIONS)]
    index = DocsIndex(args.db)
    if not args.compare:
        print(json.dumps(measure(index, questions, args.repeats), indent=2))
        return
    runs: dict[str, list[dict]] = {"shipped": [], "stop 24": []}
    for _ in range(args.repeats):  # alternate, so a change of load hits both alike
        for name, settings in (("shipped", SearchSettings()),
                               ("stop 24", SearchSettings(fusion="ranks", candidates=50, page_decay=0.2))):
            index.searching = settings
            runs[name].append(measure(index, questions, 1))
    print(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
