"""One entry point for every benchmark; writes bench/results/*.json, bench/RESULTS.md and charts.

    python bench/run.py            # full corpus (~1 h on 2 cores)
    python bench/run.py --quick    # a small subset in a few minutes (the smoke test runs this)
    python bench/run.py --only indexing ablations

Each section compares things measured in the same run and reports ratios; sections can be
re-run alone and the report is rebuilt from all results present.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.retrieval.evaluation import load_questions  # noqa: E402
from common import CORPUS, DEV_QUESTIONS, copy_pages, corpus_pages, save, subset  # noqa: E402
from machine import facts  # noqa: E402
from report import write_report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path(__file__).resolve().parent / ".cache"  # docs copy + index shared by sections (gitignored)
SECTIONS = ("indexing", "quality", "ablations", "answers", "server", "search")


def prepared_docs(pages: list[str], work: Path, fresh: bool) -> tuple[Path, Path, bool]:
    """The docs copy and index dir shared by sections; `reused` says whether the index is already built."""
    docs, db, listing = work / "docs", work / "alpaca-db", work / "pages.json"
    same = listing.exists() and json.loads(listing.read_text()) == pages
    if fresh or not same:
        shutil.rmtree(work, ignore_errors=True)
        copy_pages(CORPUS, pages, docs)
        listing.write_text(json.dumps(pages))
        return docs, db, False
    return docs, db, db.exists()


def section_indexing(pages, questions, tmp: Path, work: Path) -> dict:
    import measure_index
    import measure_retrieval
    import original_stack
    from alpaca_index.embedding import Embedder
    from common import latency_ms

    docs, db, _ = prepared_docs(pages, work, fresh=True)
    embedder = Embedder()
    index, cold = measure_index.cold_index(docs, db, embedder)
    quality = measure_retrieval.search_modes(index, questions)
    query_texts = [q.question for q in questions]
    alpaca_latency = latency_ms(lambda q: index.search_files(q, 5), query_texts)
    curve = measure_retrieval.recall_at(questions, measure_retrieval.files_of(index))

    store, original = original_stack.build(docs, tmp / "chroma")
    original_k4 = measure_retrieval.metrics(questions, lambda q: original_stack.ranked_files(store, docs, q, 4))
    original_curve = measure_retrieval.recall_at(
        questions, lambda q: original_stack.ranked_files(store, docs, q, 40))
    original_latency = latency_ms(lambda q: store.similarity_search(q, k=4), query_texts)
    fresh = measure_index.freshness(index, docs)
    return {
        "alpaca": cold | fresh | {"query": alpaca_latency},
        "original": original | {"query": original_latency},
        "quality": quality | {"original stack (k=4)": original_k4},
        "recall_curve": {"alpaca": curve, "original": original_curve},
        "ratios": {
            "index_speedup_vs_original": round(original["index_s"] / cold["cold_index_s"], 2),
            "cold_vs_encode_only": cold["cold_vs_encode_only"],
            "recall@5_points_vs_original": round(100 * (quality["hybrid"]["recall@5"] - original_k4["recall@5"]), 1),
            "query_p50_vs_original": round(alpaca_latency["p50_ms"] / original_latency["p50_ms"], 2),
        },
    }


def built_index(pages: list[str], work: Path):
    """The shared index, built first if no earlier section left one: (db, DocsIndex, reused)."""
    from alpaca_index.api import DocsIndex

    docs, db, reused = prepared_docs(pages, work, fresh=False)
    index = DocsIndex(db)
    if not reused:
        index.sync([docs])
    return db, index, reused


def section_quality(pages, questions, tmp: Path, work: Path) -> dict:
    import quality_push

    db, index, reused = built_index(pages, work)
    return quality_push.run(db, questions, index) | {"pages": len(pages), "index_reused": reused}


def section_ablations(pages, questions, tmp: Path, work: Path) -> dict:
    import measure_retrieval
    from alpaca_index.embedding import Embedder

    docs = copy_pages(CORPUS, pages, tmp / "docs")  # int8 vs fp32 is bench/int8.py, on a full index
    return {
        "pages": len(pages),
        "chunking": measure_retrieval.chunking_ablations(docs, tmp / "db", questions, Embedder()),
    }


def section_answers(pages, questions, tmp: Path, work: Path) -> dict:
    import measure_answers

    docs, db, reused = prepared_docs(pages, work, fresh=False)
    return measure_answers.run(docs, db, questions) | {"index_reused": reused}


def section_server(pages, questions, tmp: Path, work: Path) -> dict:
    import measure_server

    docs, db, reused = prepared_docs(pages, work, fresh=False)
    return measure_server.run(docs, db) | {"index_reused": reused}


def section_search(pages, questions, tmp: Path, work: Path) -> dict:
    import search_latency

    _, index, reused = built_index(pages, work)
    return search_latency.measure(index, [q.question for q in questions]) | {"pages": len(pages),
                                                                             "index_reused": reused}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small subset, a few minutes")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON results go")
    parser.add_argument("--report", type=Path, default=None, help="RESULTS.md path (charts go beside it)")
    parser.add_argument("--work", type=Path, default=None, help="docs copy + index shared by sections")
    args = parser.parse_args()

    questions = load_questions(DEV_QUESTIONS)
    if args.quick:
        questions = questions[:6]
        full = ablation = subset(CORPUS, questions, distractors=6)
    else:
        full = corpus_pages(CORPUS)
        ablation = subset(CORPUS, questions, distractors=300)
    plan = {"indexing": full, "quality": full, "ablations": ablation, "answers": full, "server": full, "search": full}
    runners = {"indexing": section_indexing, "quality": section_quality, "ablations": section_ablations,
               "answers": section_answers, "server": section_server, "search": section_search}
    suffix = "-quick" if args.quick else ""
    for name in args.only:
        print(f"== {name} ({len(plan[name])} pages)", file=sys.stderr, flush=True)
        started = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            try:
                data = runners[name](plan[name], questions, Path(tmp), args.work or CACHE / f"work{suffix}")
            except ModuleNotFoundError as exc:  # optional parts (llama.cpp, bench extra) not installed
                data = {"skipped": f"{exc.name} is not installed"}
        data["machine"] = facts()
        data["seconds"] = round(time.time() - started, 1)
        data["questions"] = len(questions)
        save(data, args.results / f"{name}{suffix}.json")
    report = args.report or Path(__file__).resolve().parent / f"RESULTS{suffix.upper()}.md"
    write_report(args.results, suffix, report)
    print(f"wrote {report}", file=sys.stderr)


if __name__ == "__main__":
    main()
