"""Retrieval quality on the dev questions: Alpaca next to a naive baseline, measured in one run.

Baseline: 500-character windows with 50 characters of overlap over the raw files, the same
MiniLM model, vector-only exact cosine search, best chunk per file. Alpaca: heading-aware
chunks, title chunks, hybrid vector + full-text with reciprocal-rank fusion (and its
vector-only / text-only halves for reference). The FAQ folder is left out, as labels list pages.

    python bench/retrieval.py [--db EXISTING_ALPACA_INDEX] [--out bench/results/retrieval.json]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from alpaca_index.api import DocsIndex
from alpaca_index.embedding import Embedder
from alpaca_index.retrieval.evaluation import load_questions, score
from common import CORPUS, DEV_QUESTIONS, Timer, save


def char_windows(text: str, size: int = 500, overlap: int = 50) -> list[str]:
    step = size - overlap
    return [text[i:i + size] for i in range(0, max(len(text) - overlap, 1), step)]


def baseline(embedder: Embedder, corpus: Path):
    paths, texts = [], []
    for page in sorted(corpus.rglob("*.md")):
        rel = page.relative_to(corpus).as_posix()
        if rel.startswith("faq/"):
            continue
        for window in char_windows(page.read_text(encoding="utf-8", errors="replace")):
            paths.append(rel)
            texts.append(window)
    with Timer() as t:
        matrix = embedder.encode(texts)

    def ranked(question: str) -> list[str]:
        sims = matrix @ embedder.encode_query(question)
        out: list[str] = []
        for i in np.argsort(-sims):
            if paths[i] not in out:
                out.append(paths[i])
                if len(out) == 10:
                    break
        return out

    return ranked, {"chunks": len(texts), "encode_s": round(t.seconds, 1)}


def summary(result: dict) -> dict:
    return {k: round(v, 3) for k, v in result.items() if k.startswith(("hit@", "recall@", "mrr@"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--db", type=Path, default=None, help="reuse an Alpaca index of the corpus (minus faq/)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    questions = load_questions(args.questions)
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        index = DocsIndex(args.db or Path(tmp) / "db", embedder=embedder)
        if args.db is None:
            index.sync([args.corpus], ignore=["faq/"])
        variants = {
            "alpaca_hybrid": index.searching,
            "alpaca_vector_only": replace(index.searching, text_weight=0.0),
            "alpaca_text_only": replace(index.searching, vector_weight=0.0),
        }
        results = {}
        for name, settings in variants.items():
            index.searching = settings
            results[name] = summary(score(questions, lambda q: [h.path for h in index.search_files(q, 10)]))
        index.searching = variants["alpaca_hybrid"]
        per_question = score(questions, lambda q: [h.path for h in index.search_files(q, 10)])["per_question"]
    ranked, info = baseline(embedder, args.corpus)
    results["baseline_500char_vector"] = summary(score(questions, ranked)) | info
    results["misses_at_5"] = [q["id"] for q in per_question if not q["hit"]]
    results["questions"] = len(questions)
    save(results, args.out)


if __name__ == "__main__":
    main()
